//! Server-rendered pages (askama): the home page with the new-room form, the room page
//! the editor mounts into (staff and candidate links), login, logout and set-up, and
//! friendly error pages.

mod account;
mod profile;
mod rooms;
mod users;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::app::{AppState, Links};
use crate::auth::caller::{Caller, Staff, same_origin};
use crate::http::assets;
use crate::http::error::ErrorReport;

pub fn router() -> Router<AppState> {
    rooms::router()
        .merge(account::router())
        .merge(profile::router())
        .merge(users::router())
}

/// A form whose only field is the session's CSRF token (a button that does one thing).
#[derive(Debug, serde::Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// What every page's frame links to.
pub struct Layout {
    home: String,
    css: String,
    js: String,
    favicon: String,
    /// The service worker that keeps room pages for offline reloads.
    service_worker: String,
    /// The logged-in account, shown with a logout button.
    account: Option<AccountBar>,
}

/// The logged-in account in the top bar.
pub struct AccountBar {
    email: String,
    account_href: String,
    /// The accounts page, for admins.
    users_href: Option<String>,
    logout_action: String,
    csrf: String,
}

impl Layout {
    fn new(links: &Links) -> Self {
        Self {
            home: links.path(""),
            css: links.path(&assets::href("app.css")),
            js: links.path(&assets::href("main.js")),
            favicon: links.path(&assets::href("favicon.svg")),
            service_worker: links.path("sw.js"),
            account: None,
        }
    }

    /// The frame for a page shown to `staff` (or to someone without an account).
    fn for_staff(links: &Links, staff: Option<&Staff>) -> Self {
        let account = staff.map(|staff| AccountBar {
            email: staff.user.email.clone(),
            account_href: links.path("account"),
            users_href: staff.is_admin().then(|| links.path("admin/users")),
            logout_action: links.path("logout"),
            csrf: staff.csrf_token().unwrap_or_default().to_owned(),
        });
        Self {
            account,
            ..Self::new(links)
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    heading: &'a str,
    message: &'a str,
}

/// A page that could not be shown, rendered as a friendly error page.
pub struct PageError {
    links: Arc<Links>,
    status: StatusCode,
    heading: &'static str,
    message: String,
    internal: Option<String>,
}

impl PageError {
    fn new(links: &Arc<Links>, status: StatusCode, heading: &'static str, message: String) -> Self {
        Self {
            links: links.clone(),
            status,
            heading,
            message,
            internal: None,
        }
    }

    pub fn not_found(links: &Arc<Links>, message: impl Into<String>) -> Self {
        Self::new(links, StatusCode::NOT_FOUND, "Nothing here", message.into())
    }

    pub fn forbidden(links: &Arc<Links>, message: impl Into<String>) -> Self {
        Self::new(links, StatusCode::FORBIDDEN, "Not allowed", message.into())
    }

    pub fn conflict(links: &Arc<Links>, message: impl Into<String>) -> Self {
        Self::new(links, StatusCode::CONFLICT, "Already done", message.into())
    }

    pub fn internal(links: &Arc<Links>, cause: impl std::fmt::Display) -> Self {
        let message = "The server hit a problem and logged it. Please try again in a moment.";
        Self {
            internal: Some(cause.to_string()),
            ..Self::new(
                links,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                message.to_owned(),
            )
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            layout: Layout::new(&self.links),
            status: self.status.as_u16(),
            heading: self.heading,
            message: &self.message,
        };
        let body = page.render().unwrap_or_else(|_| self.message.clone());
        let mut response = (self.status, Html(body)).into_response();
        if let Some(cause) = self.internal {
            response.extensions_mut().insert(ErrorReport(cause));
        }
        response
    }
}

fn render(links: &Arc<Links>, page: impl Template) -> Result<Html<String>, PageError> {
    page.render()
        .map(Html)
        .map_err(|err| PageError::internal(links, err))
}

/// For any URL no route matches: a friendly page.
pub async fn not_found(State(state): State<AppState>) -> PageError {
    PageError::not_found(&state.links, "There is no page at this address.")
}

/// A staff caller of a page; anyone else is sent to the login page, which brings them
/// back here afterwards.
pub struct PageStaff(pub Arc<Staff>);

impl FromRequestParts<AppState> for PageStaff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Caller::from_request_parts(parts, state).await {
            Ok(Caller::Staff(staff)) => Ok(PageStaff(staff)),
            Ok(Caller::Anonymous) => {
                let back = parts.uri.path_and_query().map_or("/", |path| path.as_str());
                Err(Redirect::to(&account::login_path(&state.links, back)).into_response())
            }
            Err(err) => Err(err.into_response()),
        }
    }
}

/// Refuses a form post that does not carry the session's CSRF token or comes from
/// another site.
fn check_form(state: &AppState, staff: &Staff, headers: &HeaderMap, csrf: &str) -> Result<(), PageError> {
    if staff.accepts_csrf(Some(csrf)) && same_origin(headers, &state.links) {
        Ok(())
    } else {
        Err(stale_form(&state.links))
    }
}

/// The answer to a form without a valid CSRF token.
fn stale_form(links: &Arc<Links>) -> PageError {
    PageError::forbidden(
        links,
        "This form has expired or was sent from another site. Go back, reload the page and try again.",
    )
}
