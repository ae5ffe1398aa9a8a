//! Login, logout and the one-time set-up page that creates the first admin.
//!
//! The login and set-up forms are shown to people without a session, so their CSRF token
//! is a random value in a cookie that the form must echo (a site elsewhere can neither
//! read the cookie nor set it); logged-in forms carry the session's token.

use std::net::SocketAddr;
use std::time::Instant;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Layout, PageError, check_form, render};
use crate::app::{AppState, Links};
use crate::auth::caller::{Caller, Credential, same_origin};
use crate::auth::{self, NewSession, Role, SESSION_LIFETIME_MILLIS, cookies, tokens};
use crate::clock::{Millis, now_millis};
use crate::store::UserRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(log_in))
        .route("/logout", post(log_out))
        .route("/setup/{token}", get(setup_form).post(set_up))
}

/// The login page's path, coming back to `next` afterwards.
pub fn login_path(links: &Links, next: &str) -> String {
    let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    links.path(&format!("login?next={next}"))
}

/// Where to go after logging in: `next` if it is a path on this server, else home (so the
/// login page cannot be used to send people to another site).
fn safe_next(links: &Links, next: Option<&str>) -> String {
    let home = links.path("");
    match next {
        Some(next)
            if next.starts_with(&home)
                && !next[1..].starts_with(['/', '\\'])
                && !next.chars().any(char::is_control) =>
        {
            next.to_owned()
        }
        _ => home,
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    layout: Layout,
    action: String,
    next: &'a str,
    email: &'a str,
    form_token: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage<'a> {
    layout: Layout,
    action: String,
    email: &'a str,
    form_token: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// A page with a form for a visitor without a session, built by `page` around the
/// visitor's form token: the one in their cookie, or a new one set with the page.
pub(super) fn visitor_page<T: Template>(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    page: impl FnOnce(String) -> T,
) -> Result<Response, PageError> {
    let existing = cookies::read(headers, cookies::FORM).filter(|token| !token.is_empty());
    let token = existing.map_or_else(tokens::new_token, str::to_owned);
    let html = render(&state.links, page(token.clone()))?;
    let mut response = (status, html).into_response();
    if existing.is_none() {
        let cookie = cookies::set(&state.links, cookies::FORM, &token, None);
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Whether a visitor's form post echoes their form-token cookie and comes from our pages.
pub(super) fn visitor_form_ok(state: &AppState, headers: &HeaderMap, submitted: &str) -> bool {
    cookies::read(headers, cookies::FORM).is_some_and(|cookie| {
        !cookie.is_empty() && tokens::constant_time_eq(cookie.as_bytes(), submitted.as_bytes())
    }) && same_origin(headers, &state.links)
}

async fn login_form(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<NextQuery>,
) -> Result<Response, PageError> {
    let next = safe_next(&state.links, query.next.as_deref());
    if caller.staff().is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    login_page(&state, &headers, StatusCode::OK, &next, "", None)
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    email: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    visitor_page(state, headers, status, |form_token| LoginPage {
        layout: Layout::new(&state.links),
        action: state.links.path("login"),
        next,
        email,
        form_token,
        error,
    })
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    form_token: String,
}

/// Checks the address and password (throttled per account and per address) and starts a
/// session.
async fn log_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = safe_next(&state.links, Some(&form.next));
    if !visitor_form_ok(&state, &headers, &form.form_token) {
        return login_page(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            &next,
            &form.email,
            Some(STALE.to_owned()),
        );
    }
    let throttle = &state.login_throttle;
    if let Err(wait) = throttle.check(&form.email, peer.ip(), Instant::now()) {
        tracing::warn!(email = %form.email, address = %peer.ip(), "login refused: too many failed attempts");
        let message = throttled("Too many failed logins", wait);
        return login_page(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            &form.email,
            Some(message),
        );
    }
    let opened = auth::log_in(state.store.as_ref(), &form.email, form.password, now_millis())
        .await
        .map_err(|err| PageError::internal(&state.links, err))?;
    let Some((user, session)) = opened else {
        throttle.failed(&form.email, peer.ip(), Instant::now());
        tracing::info!(email = %form.email, address = %peer.ip(), "login failed");
        let message = "That e-mail address and password do not match an active account.".to_owned();
        return login_page(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            &next,
            &form.email,
            Some(message),
        );
    };
    throttle.succeeded(&form.email);
    tracing::info!(email = %user.email, "logged in");
    Ok(session_started(&state.links, &session, &next))
}

pub(super) const STALE: &str = "This form has expired. Please try again.";

/// What a throttled visitor reads: `what`, and how long to wait, in minutes.
pub(super) fn throttled(what: &str, wait: std::time::Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60);
    format!("{what}. Try again in {minutes} minute{}.", plural(minutes))
}

/// The problem with a new password and its confirmation, if they differ.
pub(super) fn confirmation_problem(password: &str, confirm: &str) -> Option<String> {
    (password != confirm).then(|| "The two passwords differ.".to_owned())
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Sets the session cookie and goes on to `next`.
pub(super) fn session_started(links: &Links, session: &NewSession, next: &str) -> Response {
    let max_age = SESSION_LIFETIME_MILLIS / 1000;
    let mut response = Redirect::to(next).into_response();
    let headers = response.headers_mut();
    headers.append(
        SET_COOKIE,
        cookies::set(links, cookies::SESSION, &session.token, Some(max_age)),
    );
    headers.append(SET_COOKIE, cookies::clear(links, cookies::FORM));
    response
}

#[derive(Debug, Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// Ends the session and clears its cookie.
async fn log_out(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageError> {
    if let Some(staff) = caller.staff() {
        check_form(&state, staff, &headers, &form.csrf)?;
        if let Credential::Session { token_hash, .. } = &staff.credential {
            state
                .store
                .delete_session(token_hash)
                .await
                .map_err(|err| PageError::internal(&state.links, err))?;
        }
        tracing::info!(email = %staff.user.email, "logged out");
    }
    let mut response = Redirect::to(&state.links.path("login")).into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, cookies::clear(&state.links, cookies::SESSION));
    Ok(response)
}

fn setup_gone(links: &std::sync::Arc<Links>) -> PageError {
    PageError::not_found(
        links,
        "This set-up link has been used already, or the server was restarted. \
         Log in, or create an account with `pairline user add`.",
    )
}

async fn setup_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if !state.setup.matches(&token) {
        return Err(setup_gone(&state.links));
    }
    setup_page(&state, &headers, &token, StatusCode::OK, "", None)
}

fn setup_page(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    status: StatusCode,
    email: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    visitor_page(state, headers, status, |form_token| SetupPage {
        layout: Layout::new(&state.links),
        action: state.links.path(&format!("setup/{token}")),
        email,
        form_token,
        error,
    })
}

#[derive(Debug, Deserialize)]
struct SetupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    form_token: String,
}

/// Creates the first admin and logs them in; the link then stops working.
async fn set_up(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Result<Response, PageError> {
    if !state.setup.matches(&token) {
        return Err(setup_gone(&state.links));
    }
    let retry =
        |status, message: String| setup_page(&state, &headers, &token, status, &form.email, Some(message));
    if !visitor_form_ok(&state, &headers, &form.form_token) {
        return retry(StatusCode::FORBIDDEN, STALE.to_owned());
    }
    if let Err(err) = auth::normalise_email(&form.email) {
        return retry(StatusCode::BAD_REQUEST, err.to_string());
    }
    if let Err(problem) = auth::password::check_new_password(&form.password) {
        return retry(StatusCode::BAD_REQUEST, problem);
    }
    if let Some(problem) = confirmation_problem(&form.password, &form.confirm) {
        return retry(StatusCode::BAD_REQUEST, problem);
    }
    let store = state.store.as_ref();
    let accounts = store
        .count_users()
        .await
        .map_err(|err| PageError::internal(&state.links, err))?;
    if accounts > 0 || !state.setup.take(&token) {
        state.setup.withdraw();
        return Err(setup_gone(&state.links));
    }
    let now = now_millis();
    let user = auth::create_account(store, &form.email, Role::Admin, form.password.clone(), now)
        .await
        .map_err(|err| PageError::internal(&state.links, err))?;
    tracing::info!(email = %user.email, "first admin created with the set-up link");
    log_in_new_account(&state, &user, form.password, now).await
}

/// Logs a just-created account in and takes it home.
pub(super) async fn log_in_new_account(
    state: &AppState,
    user: &UserRecord,
    password: String,
    now: Millis,
) -> Result<Response, PageError> {
    let opened = auth::log_in(state.store.as_ref(), &user.email, password, now)
        .await
        .map_err(|err| PageError::internal(&state.links, err))?;
    match opened {
        Some((_, session)) => Ok(session_started(&state.links, &session, &state.links.path(""))),
        None => Ok(Redirect::to(&state.links.path("login")).into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    #[test]
    fn only_paths_on_this_server_are_followed_after_login() {
        let links = Links::new(Url::parse("https://pair.example.com/app/").unwrap());
        assert_eq!(safe_next(&links, Some("/app/r/abc")), "/app/r/abc");
        for bad in [
            "//evil.example/app/",
            "https://evil.example/",
            "/other",
            "/app/\n",
            "",
        ] {
            assert_eq!(safe_next(&links, Some(bad)), "/app/", "{bad:?}");
        }
        assert_eq!(safe_next(&links, None), "/app/");
        let root = Links::new(Url::parse("http://localhost:8080/").unwrap());
        assert_eq!(safe_next(&root, Some("//evil.example")), "/");
        assert_eq!(safe_next(&root, Some("/\\evil.example")), "/");
        assert_eq!(login_path(&root, "/r/a?b=1"), "/login?next=%2Fr%2Fa%3Fb%3D1");
    }
}
