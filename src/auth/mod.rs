//! Staff accounts (admins and interviewers), their passwords and login sessions.

pub mod caller;
pub mod cli;
pub mod cookies;
pub mod invites;
pub mod password;
pub mod setup;
pub mod throttle;
pub mod tokens;

use std::fmt;
use std::str::FromStr;

use crate::clock::Millis;
use crate::ids::{ROOM_ID_BYTES, random_url_token};
use crate::store::{ApiTokenRecord, SessionRecord, Store, StoreError, UserRecord};

/// How long a login lasts.
pub const SESSION_LIFETIME_MILLIS: Millis = 12 * 60 * 60 * 1000;
/// Longest API token name, in characters.
pub const MAX_TOKEN_NAME_CHARS: usize = 100;
/// Longest e-mail address accepted (RFC 5321's limit).
const MAX_EMAIL_CHARS: usize = 254;

/// What a staff account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything an interviewer may, plus managing accounts and seeing every room.
    Admin,
    /// Creates rooms and runs interviews in them.
    Interviewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Interviewer => "interviewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "admin" => Ok(Role::Admin),
            "interviewer" => Ok(Role::Interviewer),
            other => Err(format!("unknown role {other:?}: use admin or interviewer")),
        }
    }
}

/// Why an account could not be created, in words for the person creating it.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(String),
    #[error("an account with the address {0} already exists")]
    Taken(String),
    #[error("{0}")]
    Store(StoreError),
}

impl From<StoreError> for AccountError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::DuplicateEmail(email) => AccountError::Taken(email),
            other => AccountError::Store(other),
        }
    }
}

/// The address as stored: trimmed and lower-cased; refused unless it looks like one.
pub fn normalise_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim().to_lowercase();
    let plausible = email.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if plausible {
        Ok(email)
    } else {
        Err(AccountError::Invalid(format!(
            "{email:?} is not an e-mail address such as name@example.com"
        )))
    }
}

/// Creates an account with a password (checked, then hashed with argon2id).
pub async fn create_account(
    store: &dyn Store,
    email: &str,
    role: Role,
    password: String,
    now: Millis,
) -> Result<UserRecord, AccountError> {
    let email = normalise_email(email)?;
    password::check_new_password(&password).map_err(AccountError::Invalid)?;
    let password_hash = password::hash(password).await.map_err(AccountError::Invalid)?;
    let user = UserRecord {
        id: random_url_token(ROOM_ID_BYTES),
        email,
        password_hash,
        role: role.as_str().to_owned(),
        disabled_at: 0,
        created_at: now,
    };
    store.create_user(&user).await?;
    Ok(user)
}

/// A new session's cookie token and what is stored of it.
pub struct NewSession {
    pub token: String,
    pub record: SessionRecord,
}

/// Checks an address and password; on success opens a session. `None` for a wrong
/// address, a wrong password or a disabled account alike (the caller says the same
/// thing for each, so the answer does not tell which addresses exist).
pub async fn log_in(
    store: &dyn Store,
    email: &str,
    password: String,
    now: Millis,
) -> Result<Option<(UserRecord, NewSession)>, StoreError> {
    let user = match normalise_email(email) {
        Ok(email) => store.user_by_email(&email).await?,
        Err(_) => None,
    };
    let matches = password::verify(password, user.as_ref().map(|user| user.password_hash.clone())).await;
    let Some(user) = user.filter(|user| matches && user.disabled_at == 0) else {
        return Ok(None);
    };
    let token = tokens::new_token();
    let record = SessionRecord {
        token_hash: tokens::token_hash(&token),
        user_id: user.id.clone(),
        csrf_token: tokens::new_token(),
        created_at: now,
        expires_at: now + SESSION_LIFETIME_MILLIS,
    };
    store.create_session(&record).await?;
    Ok(Some((user, NewSession { token, record })))
}

/// The account and session behind a session cookie's token, if the session is live and
/// the account enabled.
pub async fn session_user(
    store: &dyn Store,
    token: &str,
    now: Millis,
) -> Result<Option<(UserRecord, SessionRecord)>, StoreError> {
    let Some(session) = store.live_session(&tokens::token_hash(token), now).await? else {
        return Ok(None);
    };
    Ok(store
        .user_by_id(&session.user_id)
        .await?
        .filter(|user| user.disabled_at == 0)
        .map(|user| (user, session)))
}

/// Makes an API token for `user` called `name`; returns the token (shown once, never
/// stored) and its record.
pub async fn issue_api_token(
    store: &dyn Store,
    user: &UserRecord,
    name: &str,
    now: Millis,
) -> Result<(String, ApiTokenRecord), AccountError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AccountError::Invalid(format!(
            "a token's name must be 1 to {MAX_TOKEN_NAME_CHARS} characters, e.g. \"CI\""
        )));
    }
    let token = tokens::new_token();
    let record = ApiTokenRecord {
        id: random_url_token(ROOM_ID_BYTES),
        user_id: user.id.clone(),
        name: name.to_owned(),
        token_hash: tokens::token_hash(&token),
        created_at: now,
    };
    store.create_api_token(&record).await?;
    Ok((token, record))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_or_refused() {
        assert_eq!(normalise_email("  Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
            "a@b@example.com",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn roles_read_and_print() {
        assert_eq!("admin".parse::<Role>().unwrap(), Role::Admin);
        assert_eq!(Role::Interviewer.to_string(), "interviewer");
        assert!(
            "root"
                .parse::<Role>()
                .unwrap_err()
                .contains("admin or interviewer")
        );
    }
}
