//! `/account`: a staff member's own account, with the password change form and their API
//! tokens (create one, shown once; revoke one).

use std::net::SocketAddr;
use std::time::Instant;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::account::{confirmation_problem, throttled};
use super::{CsrfForm, Layout, PageError, PageStaff, check_form, render};
use crate::app::AppState;
use crate::auth::caller::{Credential, Staff};
use crate::auth::invites::{PasswordChangeError, change_password};
use crate::auth::{AccountError, issue_api_token};
use crate::clock::{now_millis, rfc3339};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account))
        .route("/account/password", post(set_password))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    email: String,
    role: String,
    csrf: String,
    password_action: String,
    token_action: String,
    tokens: Vec<TokenLine>,
    /// A token just created: its name and secret, shown this once.
    new_token: Option<(String, String)>,
    /// What just happened, e.g. "Your password was changed."
    notice: Option<String>,
    error: Option<String>,
}

/// One of the account's API tokens.
struct TokenLine {
    name: String,
    created_at: String,
    revoke_action: String,
}

async fn account(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Result<Response, PageError> {
    show(&state, &staff, StatusCode::OK, None, None, None).await
}

/// Renders the account page with `status`, and what just happened.
async fn show(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    new_token: Option<(String, String)>,
) -> Result<Response, PageError> {
    let links = &state.links;
    let tokens = state
        .store
        .user_api_tokens(&staff.user.id)
        .await
        .map_err(|err| PageError::internal(links, err))?
        .into_iter()
        .map(|token| TokenLine {
            created_at: rfc3339(token.created_at),
            revoke_action: links.path(&format!("account/tokens/{}/revoke", token.id)),
            name: token.name,
        })
        .collect();
    let page = AccountPage {
        layout: Layout::for_staff(links, Some(staff)),
        email: staff.user.email.clone(),
        role: staff.role.to_string(),
        csrf: staff.csrf_token().unwrap_or_default().to_owned(),
        password_action: links.path("account/password"),
        token_action: links.path("account/tokens"),
        tokens,
        new_token,
        notice,
        error,
    };
    Ok((status, render(links, page)?).into_response())
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    csrf: String,
}

/// Changes the password once the current one is proven (a wrong one counts as a failed
/// login, so the form cannot be used to guess it); every other session ends.
async fn set_password(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    check_form(&state, &staff, &headers, &form.csrf)?;
    let refuse = |status, message: String| show(&state, &staff, status, None, Some(message), None);
    if let Some(problem) = confirmation_problem(&form.password, &form.confirm) {
        return refuse(StatusCode::BAD_REQUEST, problem).await;
    }
    let email = &staff.user.email;
    let throttle = &state.login_throttle;
    if let Err(wait) = throttle.check(email, peer.ip(), Instant::now()) {
        let message = throttled("Too many wrong passwords", wait);
        return refuse(StatusCode::TOO_MANY_REQUESTS, message).await;
    }
    let keep = match &staff.credential {
        Credential::Session { token_hash, .. } => Some(token_hash.as_slice()),
        Credential::ApiToken { .. } => None,
    };
    match change_password(
        state.store.as_ref(),
        &staff.user,
        form.current,
        form.password,
        keep,
    )
    .await
    {
        Ok(()) => {
            tracing::info!(email = %email, "password changed; other sessions ended");
            let notice =
                "Your password was changed. Every other session of this account has been logged out.";
            show(
                &state,
                &staff,
                StatusCode::OK,
                Some(notice.to_owned()),
                None,
                None,
            )
            .await
        }
        Err(PasswordChangeError::WrongPassword) => {
            throttle.failed(email, peer.ip(), Instant::now());
            refuse(
                StatusCode::UNAUTHORIZED,
                PasswordChangeError::WrongPassword.to_string(),
            )
            .await
        }
        Err(PasswordChangeError::Invalid(problem)) => refuse(StatusCode::BAD_REQUEST, problem).await,
        Err(PasswordChangeError::Store(err)) => Err(PageError::internal(&state.links, err)),
    }
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    csrf: String,
}

/// Creates an API token and shows its secret this once.
async fn create_token(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    check_form(&state, &staff, &headers, &form.csrf)?;
    match issue_api_token(state.store.as_ref(), &staff.user, &form.name, now_millis()).await {
        Ok((token, record)) => {
            tracing::info!(email = %staff.user.email, name = %record.name, "API token created");
            let shown = Some((record.name, token));
            show(&state, &staff, StatusCode::OK, None, None, shown).await
        }
        Err(AccountError::Invalid(problem)) => {
            show(&state, &staff, StatusCode::BAD_REQUEST, None, Some(problem), None).await
        }
        Err(err) => Err(PageError::internal(&state.links, err)),
    }
}

/// Revokes one of the caller's own tokens; it stops working at once.
async fn revoke_token(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, PageError> {
    check_form(&state, &staff, &headers, &form.csrf)?;
    let revoked = state
        .store
        .delete_api_token(&staff.user.id, &id)
        .await
        .map_err(|err| PageError::internal(&state.links, err))?;
    if !revoked {
        return Err(PageError::not_found(
            &state.links,
            "You have no API token with that id (it may have been revoked already).",
        ));
    }
    tracing::info!(email = %staff.user.email, token_id = %id, "API token revoked");
    Ok(Redirect::to(&state.links.path("account")))
}
