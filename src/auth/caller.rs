//! Who is asking: every request is resolved once to a [`Caller`], from an
//! `Authorization: Bearer` API token or the session cookie, and handlers ask it what the
//! caller may do.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};

use super::{Role, cookies, tokens};
use crate::app::{AppState, Links};
use crate::clock::now_millis;
use crate::http::error::ApiError;
use crate::store::{RoomRecord, Store, StoreError, UserRecord};

/// The header a browser's API calls carry when they are authenticated by the session
/// cookie: the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No account: a candidate (who proves it with the room's candidate key) or a stranger.
    Anonymous,
    Staff(Arc<Staff>),
}

/// A logged-in, enabled staff account and how it proved itself.
#[derive(Debug)]
pub struct Staff {
    pub user: UserRecord,
    pub role: Role,
    pub credential: Credential,
}

/// How a staff caller authenticated.
#[derive(Debug)]
pub enum Credential {
    /// A login session (cookie); its forms and API calls must carry `csrf_token`.
    Session { token_hash: Vec<u8>, csrf_token: String },
    /// An API token (Bearer header); not sent by browsers on their own, so no CSRF risk.
    ApiToken { id: String },
}

impl Caller {
    pub fn staff(&self) -> Option<&Arc<Staff>> {
        match self {
            Caller::Staff(staff) => Some(staff),
            Caller::Anonymous => None,
        }
    }

    /// Resolves the caller from the request's credentials. A Bearer token that is not a
    /// live API token is refused (401) rather than treated as anonymous, so that a client
    /// with a revoked token hears about it.
    pub async fn resolve(store: &dyn Store, parts: &Parts) -> Result<Caller, ApiError> {
        if let Some(header) = parts.headers.get(AUTHORIZATION) {
            let token = header
                .to_str()
                .ok()
                .and_then(|value| value.strip_prefix("Bearer "))
                .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <API token>`"))?;
            return match api_token_user(store, token.trim()).await? {
                Some(staff) => Ok(Caller::Staff(Arc::new(staff))),
                None => Err(unauthorized(
                    "the API token is not valid (it may have been revoked, or its account disabled)",
                )),
            };
        }
        let Some(token) = cookies::read(&parts.headers, cookies::SESSION) else {
            return Ok(Caller::Anonymous);
        };
        let Some((user, session)) = super::session_user(store, token, now_millis()).await? else {
            return Ok(Caller::Anonymous);
        };
        Ok(staff_of(
            user,
            Credential::Session {
                token_hash: session.token_hash,
                csrf_token: session.csrf_token,
            },
        )
        .map_or(Caller::Anonymous, |staff| Caller::Staff(Arc::new(staff))))
    }
}

impl Staff {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this account manages `room` (ends it, deletes it, lists it): its owner or
    /// an admin.
    pub fn manages(&self, room: &RoomRecord) -> bool {
        self.is_admin() || (!room.owner_id.is_empty() && room.owner_id == self.user.id)
    }

    /// The CSRF token of the login session; `None` for API tokens.
    pub fn csrf_token(&self) -> Option<&str> {
        match &self.credential {
            Credential::Session { csrf_token, .. } => Some(csrf_token),
            Credential::ApiToken { .. } => None,
        }
    }

    /// Whether `submitted` proves a request came from one of our own pages: it must
    /// equal the session's CSRF token. API-token callers need no proof.
    pub fn accepts_csrf(&self, submitted: Option<&str>) -> bool {
        match self.csrf_token() {
            None => true,
            Some(expected) => {
                submitted.is_some_and(|given| tokens::constant_time_eq(given.as_bytes(), expected.as_bytes()))
            }
        }
    }
}

async fn api_token_user(store: &dyn Store, token: &str) -> Result<Option<Staff>, StoreError> {
    let Some(record) = store.api_token_by_hash(&tokens::token_hash(token)).await? else {
        return Ok(None);
    };
    let Some(user) = store.user_by_id(&record.user_id).await? else {
        return Ok(None);
    };
    Ok(staff_of(user, Credential::ApiToken { id: record.id }))
}

/// The staff caller of an enabled account with a known role.
fn staff_of(user: UserRecord, credential: Credential) -> Option<Staff> {
    let role = user.role.parse().ok()?;
    (user.disabled_at == 0).then_some(Staff {
        user,
        role,
        credential,
    })
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let caller = Caller::resolve(state.store.as_ref(), parts).await?;
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// A staff caller of the REST API. Anonymous callers get 401; a browser's unsafe request
/// authenticated by the session cookie must carry the session's CSRF token in
/// [`CSRF_HEADER`] (403 otherwise).
pub struct ApiStaff(pub Arc<Staff>);

impl FromRequestParts<AppState> for ApiStaff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller::Staff(staff) = Caller::from_request_parts(parts, state).await? else {
            return Err(unauthorized(
                "log in, or send an API token as `Authorization: Bearer <token>`",
            ));
        };
        let submitted = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|value| value.to_str().ok());
        if !parts.method.is_safe() && !staff.accepts_csrf(submitted) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                format!("requests authenticated by the login cookie must carry the {CSRF_HEADER} header"),
            ));
        }
        Ok(ApiStaff(staff))
    }
}

/// Whether a browser request comes from one of our own pages, judged by its `Origin`
/// header: absent (not a browser, or a same-origin GET), equal to the public URL's origin,
/// or equal to the origin the request was addressed to (`Host`).
pub fn same_origin(headers: &HeaderMap, links: &Links) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if origin == links.base().origin().ascii_serialization() {
        return true;
    }
    let host = headers.get(HOST).and_then(|host| host.to_str().ok());
    host.is_some_and(|host| {
        origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            == Some(host)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use url::Url;

    #[test]
    fn origins_must_be_ours() {
        let links = Links::new(Url::parse("https://pair.example.com/").unwrap());
        let headers = |origin: Option<&str>| {
            let mut headers = HeaderMap::new();
            headers.insert(HOST, HeaderValue::from_static("127.0.0.1:8080"));
            if let Some(origin) = origin {
                headers.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
            }
            headers
        };
        assert!(same_origin(&headers(None), &links));
        assert!(same_origin(&headers(Some("https://pair.example.com")), &links));
        assert!(same_origin(&headers(Some("http://127.0.0.1:8080")), &links));
        assert!(!same_origin(&headers(Some("https://evil.example")), &links));
        assert!(!same_origin(&headers(Some("null")), &links));
        assert!(!same_origin(
            &headers(Some("https://pair.example.com.evil.example")),
            &links
        ));
    }
}
