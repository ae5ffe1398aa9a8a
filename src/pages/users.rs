//! `/admin/users`: an admin's view of every account, where they invite people (a one-time
//! link to pass on: self-hosted servers often cannot send mail), withdraw invites, and
//! disable or re-enable accounts. `/invite/{token}` is where the invited person chooses
//! their password.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::account::{STALE, confirmation_problem, log_in_new_account, visitor_form_ok, visitor_page};
use super::{CsrfForm, Layout, PageError, PageStaff, check_form, render};
use crate::app::AppState;
use crate::auth::caller::Staff;
use crate::auth::invites::{self, AcceptError};
use crate::auth::{AccountError, Role};
use crate::clock::{now_millis, rfc3339};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users))
        .route("/admin/invites", post(create_invite))
        .route("/admin/invites/{id}/withdraw", post(withdraw_invite))
        .route("/admin/users/{id}/{action}", post(set_enabled))
        .route("/invite/{token}", get(invite_form).post(accept_invite))
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage<'a> {
    layout: Layout,
    csrf: String,
    users: Vec<UserLine>,
    invites: Vec<InviteLine>,
    invite_action: String,
    /// The invite form's values after a refusal.
    email: &'a str,
    role: &'a str,
    /// An invite just made: its address and link, to pass on.
    new_invite: Option<(String, String)>,
    error: Option<String>,
}

struct UserLine {
    email: String,
    role: String,
    created_at: String,
    disabled: bool,
    /// Disable or re-enable; none for the admin's own account.
    toggle_action: Option<String>,
}

struct InviteLine {
    email: String,
    role: String,
    expires_at: String,
    withdraw_action: String,
}

/// An admin caller, or the page that says this is for admins.
fn admin(state: &AppState, staff: &Staff) -> Result<(), PageError> {
    if staff.is_admin() {
        Ok(())
    } else {
        Err(PageError::forbidden(&state.links, "Only admins manage accounts."))
    }
}

async fn users(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Result<Response, PageError> {
    admin(&state, &staff)?;
    show(&state, &staff, StatusCode::OK, ("", "interviewer"), None, None).await
}

async fn show(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    (email, role): (&str, &str),
    new_invite: Option<(String, String)>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let links = &state.links;
    let failed = |err| PageError::internal(links, err);
    let users = state.store.list_users().await.map_err(failed)?;
    let users = users
        .into_iter()
        .map(|user| {
            let disabled = user.disabled_at != 0;
            let verb = if disabled { "enable" } else { "disable" };
            UserLine {
                toggle_action: (user.id != staff.user.id)
                    .then(|| links.path(&format!("admin/users/{}/{verb}", user.id))),
                created_at: rfc3339(user.created_at),
                email: user.email,
                role: user.role,
                disabled,
            }
        })
        .collect();
    let invites = state.store.open_invites(now_millis()).await.map_err(failed)?;
    let invites = invites
        .into_iter()
        .map(|invite| InviteLine {
            withdraw_action: links.path(&format!("admin/invites/{}/withdraw", invite.id)),
            expires_at: rfc3339(invite.expires_at),
            email: invite.email,
            role: invite.role,
        })
        .collect();
    let page = UsersPage {
        layout: Layout::for_staff(links, Some(staff)),
        csrf: staff.csrf_token().unwrap_or_default().to_owned(),
        users,
        invites,
        invite_action: links.path("admin/invites"),
        email,
        role,
        new_invite,
        error,
    };
    Ok((status, render(links, page)?).into_response())
}

#[derive(Debug, Deserialize)]
struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    csrf: String,
}

/// Makes an invite and shows its link, once, for the admin to pass on.
async fn create_invite(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    Form(form): Form<InviteForm>,
) -> Result<Response, PageError> {
    admin(&state, &staff)?;
    check_form(&state, &staff, &headers, &form.csrf)?;
    let values = (form.email.as_str(), form.role.as_str());
    let refuse = |message: String| {
        show(
            &state,
            &staff,
            StatusCode::BAD_REQUEST,
            values,
            None,
            Some(message),
        )
    };
    let role: Role = match form.role.parse() {
        Ok(role) => role,
        Err(problem) => return refuse(problem).await,
    };
    match invites::invite(state.store.as_ref(), &staff.user, &form.email, role, now_millis()).await {
        Ok((token, invite)) => {
            tracing::info!(email = %invite.email, %role, by = %staff.user.email, "invite created");
            let link = state.links.invite_page(&token).into();
            let shown = Some((invite.email, link));
            show(&state, &staff, StatusCode::OK, ("", "interviewer"), shown, None).await
        }
        Err(err @ (AccountError::Invalid(_) | AccountError::Taken(_))) => refuse(sentence(&err)).await,
        Err(AccountError::Store(err)) => Err(PageError::internal(&state.links, err)),
    }
}

/// An account error as a sentence: capitalised, with a full stop.
fn sentence(err: &AccountError) -> String {
    let text = err.to_string();
    let mut chars = text.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    format!("{first}{}.", chars.as_str().trim_end_matches('.'))
}

async fn withdraw_invite(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, PageError> {
    admin(&state, &staff)?;
    check_form(&state, &staff, &headers, &form.csrf)?;
    state
        .store
        .delete_invite(&id)
        .await
        .map_err(|err| PageError::internal(&state.links, err))?;
    Ok(Redirect::to(&state.links.path("admin/users")))
}

/// `disable` an account (it cannot log in, its sessions end at once and its API tokens
/// stop working) or `enable` it again (its old sessions stay ended). An admin cannot
/// disable their own account.
async fn set_enabled(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, PageError> {
    let state = &state;
    admin(state, &staff)?;
    check_form(state, &staff, &headers, &form.csrf)?;
    let enabled = match action.as_str() {
        "enable" => true,
        "disable" => false,
        _ => return Err(PageError::not_found(&state.links, "There is no such page.")),
    };
    if id == staff.user.id {
        return Err(PageError::forbidden(
            &state.links,
            "You cannot disable your own account: you would lock yourself out. Ask another admin.",
        ));
    }
    let failed = |err| PageError::internal(&state.links, err);
    let store = state.store.as_ref();
    let at = if enabled { 0 } else { now_millis() };
    if !store.set_disabled_at(&id, at).await.map_err(failed)? {
        return Err(PageError::not_found(&state.links, "There is no such account."));
    }
    if !enabled {
        store.delete_user_sessions(&id).await.map_err(failed)?;
        state.rooms.disconnect_user(&id);
    }
    tracing::info!(user_id = %id, enabled, by = %staff.user.email, "account access changed");
    Ok(Redirect::to(&state.links.path("admin/users")))
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage<'a> {
    layout: Layout,
    action: String,
    email: &'a str,
    role: &'a str,
    form_token: String,
    error: Option<String>,
}

fn invite_gone(state: &AppState) -> PageError {
    PageError::not_found(
        &state.links,
        "This invitation link has been used, has expired or was withdrawn. Ask your admin for a new one.",
    )
}

async fn invite_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let invite = invites::open_invite(state.store.as_ref(), &token, now_millis())
        .await
        .map_err(|err| PageError::internal(&state.links, err))?
        .ok_or_else(|| invite_gone(&state))?;
    invite_page(
        &state,
        &headers,
        &token,
        (&invite.email, &invite.role),
        StatusCode::OK,
        None,
    )
}

fn invite_page(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    (email, role): (&str, &str),
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, PageError> {
    visitor_page(state, headers, status, |form_token| InvitePage {
        layout: Layout::new(&state.links),
        action: state.links.path(&format!("invite/{token}")),
        email,
        role,
        form_token,
        error,
    })
}

#[derive(Debug, Deserialize)]
struct AcceptForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    form_token: String,
}

/// Creates the invited account with the chosen password and logs it in.
async fn accept_invite(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<AcceptForm>,
) -> Result<Response, PageError> {
    let store = state.store.as_ref();
    let now = now_millis();
    let invite = invites::open_invite(store, &token, now)
        .await
        .map_err(|err| PageError::internal(&state.links, err))?
        .ok_or_else(|| invite_gone(&state))?;
    let values = (invite.email.as_str(), invite.role.as_str());
    let retry =
        |status, message: String| invite_page(&state, &headers, &token, values, status, Some(message));
    if !visitor_form_ok(&state, &headers, &form.form_token) {
        return retry(StatusCode::FORBIDDEN, STALE.to_owned());
    }
    if let Some(problem) = confirmation_problem(&form.password, &form.confirm) {
        return retry(StatusCode::BAD_REQUEST, problem);
    }
    let user = match invites::accept(store, &token, form.password.clone(), now).await {
        Ok(user) => user,
        Err(AcceptError::Gone) => return Err(invite_gone(&state)),
        Err(AcceptError::Account(AccountError::Invalid(problem))) => {
            return retry(StatusCode::BAD_REQUEST, problem);
        }
        Err(AcceptError::Account(err @ AccountError::Taken(_))) => {
            return Err(PageError::conflict(&state.links, sentence(&err)));
        }
        Err(AcceptError::Account(AccountError::Store(err))) => {
            return Err(PageError::internal(&state.links, err));
        }
    };
    tracing::info!(email = %user.email, role = %user.role, "invite accepted");
    log_in_new_account(&state, &user, form.password, now).await
}
