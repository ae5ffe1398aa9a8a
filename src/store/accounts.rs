//! Staff accounts and login sessions: the [`Accounts`] half of the store, the same SQL on
//! both backends.

use async_trait::async_trait;
use sqlx::{Decode, Encode, Executor, FromRow, IntoArguments, Type};

use super::sql_store::{Dialect, SqlStore, refuse_duplicate};
use super::{ApiTokenRecord, InviteRecord, Millis, SessionRecord, StoreError, UserRecord};

macro_rules! user_columns {
    () => {
        "id, email, password_hash, role, disabled_at, created_at"
    };
}

macro_rules! session_columns {
    () => {
        "token_hash, user_id, csrf_token, created_at, expires_at"
    };
}

const INSERT_USER: &str = concat!(
    "INSERT INTO users (",
    user_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6)"
);
const USER_BY_EMAIL: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE email = $1");
const USER_BY_ID: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
const COUNT_USERS: &str = "SELECT COUNT(*) FROM users";
const LIST_USERS: &str = concat!("SELECT ", user_columns!(), " FROM users ORDER BY email");
const SET_PASSWORD: &str = "UPDATE users SET password_hash = $2 WHERE id = $1";
const SET_DISABLED: &str = "UPDATE users SET disabled_at = $2 WHERE id = $1";
const INSERT_SESSION: &str = concat!(
    "INSERT INTO sessions (",
    session_columns!(),
    ") VALUES ($1, $2, $3, $4, $5)"
);
const LIVE_SESSION: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE token_hash = $1 AND expires_at > $2"
);
const DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_hash = $1";
const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";
const DELETE_OTHER_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2";
const INSERT_API_TOKEN: &str =
    "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)";
const API_TOKEN_BY_HASH: &str =
    "SELECT id, user_id, name, token_hash, created_at FROM api_tokens WHERE token_hash = $1";
const USER_API_TOKENS: &str = "SELECT id, user_id, name, token_hash, created_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id";
const DELETE_API_TOKEN: &str = "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2";

macro_rules! invite_columns {
    () => {
        "id, email, role, token_hash, created_by, created_at, expires_at, used_at"
    };
}

const INSERT_INVITE: &str = concat!(
    "INSERT INTO invites (",
    invite_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
);
const INVITE_BY_HASH: &str = concat!(
    "SELECT ",
    invite_columns!(),
    " FROM invites WHERE token_hash = $1"
);
const OPEN_INVITES: &str = concat!(
    "SELECT ",
    invite_columns!(),
    " FROM invites WHERE used_at = 0 AND expires_at > $1 ORDER BY created_at DESC, id"
);
const USE_INVITE: &str = "UPDATE invites SET used_at = $2 WHERE id = $1 AND used_at = 0 AND expires_at > $2";
const DELETE_INVITE: &str = "DELETE FROM invites WHERE id = $1";

/// Staff accounts and their sessions.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Every account, by address.
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// Inserts an account; [`StoreError::DuplicateEmail`] if the address is taken.
    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError>;

    /// The account with this (lower-cased) address.
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError>;

    async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError>;

    /// How many accounts exist (none: the server offers its set-up link).
    async fn count_users(&self) -> Result<u64, StoreError>;

    /// Replaces an account's password hash; false if there is no such account.
    async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> Result<bool, StoreError>;

    /// Disables an account at `at` (or enables it again with 0); false if there is no such
    /// account. Disabling does not end sessions: call [`Accounts::delete_user_sessions`].
    async fn set_disabled_at(&self, user_id: &str, at: Millis) -> Result<bool, StoreError>;

    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError>;

    /// The session with this token hash, unless it expired by `now`.
    async fn live_session(&self, token_hash: &[u8], now: Millis)
    -> Result<Option<SessionRecord>, StoreError>;

    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError>;

    /// Ends every session of an account (after a password change, or when it is disabled).
    async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError>;

    /// Ends every session of an account except the one whose token hashes to `keep`.
    async fn delete_other_sessions(&self, user_id: &str, keep: &[u8]) -> Result<u64, StoreError>;

    async fn create_api_token(&self, token: &ApiTokenRecord) -> Result<(), StoreError>;

    /// The API token with this hash.
    async fn api_token_by_hash(&self, token_hash: &[u8]) -> Result<Option<ApiTokenRecord>, StoreError>;

    /// An account's API tokens, oldest first.
    async fn user_api_tokens(&self, user_id: &str) -> Result<Vec<ApiTokenRecord>, StoreError>;

    /// Revokes one of `user_id`'s tokens; false if it has no token with that id.
    async fn delete_api_token(&self, user_id: &str, token_id: &str) -> Result<bool, StoreError>;

    async fn create_invite(&self, invite: &InviteRecord) -> Result<(), StoreError>;

    /// The invite whose link's token hashes to `token_hash`, used or not.
    async fn invite_by_hash(&self, token_hash: &[u8]) -> Result<Option<InviteRecord>, StoreError>;

    /// Invites neither used nor expired at `now`, newest first.
    async fn open_invites(&self, now: Millis) -> Result<Vec<InviteRecord>, StoreError>;

    /// Marks an open invite used at `now`; false if it was used, expired or withdrawn
    /// meanwhile (so that a link works once however many try it at once).
    async fn use_invite(&self, id: &str, now: Millis) -> Result<bool, StoreError>;

    /// Withdraws an invite; false if there was none.
    async fn delete_invite(&self, id: &str) -> Result<bool, StoreError>;
}

#[async_trait]
impl<DB> Accounts for SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    for<'r> UserRecord: FromRow<'r, DB::Row>,
    for<'r> SessionRecord: FromRow<'r, DB::Row>,
    for<'r> ApiTokenRecord: FromRow<'r, DB::Row>,
    for<'r> InviteRecord: FromRow<'r, DB::Row>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
{
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        Ok(sqlx::query_as(LIST_USERS).fetch_all(&self.reader).await?)
    }

    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let done = sqlx::query(INSERT_USER)
            .bind(user.id.clone())
            .bind(user.email.clone())
            .bind(user.password_hash.clone())
            .bind(user.role.clone())
            .bind(user.disabled_at)
            .bind(user.created_at)
            .execute(&self.writer)
            .await;
        refuse_duplicate(done, || StoreError::DuplicateEmail(user.email.clone()))
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(sqlx::query_as(USER_BY_EMAIL)
            .bind(email.to_owned())
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(sqlx::query_as(USER_BY_ID)
            .bind(id.to_owned())
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        let (count,): (i64,) = sqlx::query_as(COUNT_USERS).fetch_one(&self.reader).await?;
        Ok(count.max(0) as u64)
    }

    async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(SET_PASSWORD)
            .bind(user_id.to_owned())
            .bind(password_hash.to_owned())
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) > 0)
    }

    async fn set_disabled_at(&self, user_id: &str, at: Millis) -> Result<bool, StoreError> {
        let done = sqlx::query(SET_DISABLED)
            .bind(user_id.to_owned())
            .bind(at)
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) > 0)
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        sqlx::query(INSERT_SESSION)
            .bind(session.token_hash.clone())
            .bind(session.user_id.clone())
            .bind(session.csrf_token.clone())
            .bind(session.created_at)
            .bind(session.expires_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn live_session(
        &self,
        token_hash: &[u8],
        now: Millis,
    ) -> Result<Option<SessionRecord>, StoreError> {
        Ok(sqlx::query_as(LIVE_SESSION)
            .bind(token_hash.to_vec())
            .bind(now)
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query(DELETE_SESSION)
            .bind(token_hash.to_vec())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(DELETE_USER_SESSIONS)
            .bind(user_id.to_owned())
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done))
    }

    async fn delete_other_sessions(&self, user_id: &str, keep: &[u8]) -> Result<u64, StoreError> {
        let done = sqlx::query(DELETE_OTHER_SESSIONS)
            .bind(user_id.to_owned())
            .bind(keep.to_vec())
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done))
    }

    async fn create_api_token(&self, token: &ApiTokenRecord) -> Result<(), StoreError> {
        sqlx::query(INSERT_API_TOKEN)
            .bind(token.id.clone())
            .bind(token.user_id.clone())
            .bind(token.name.clone())
            .bind(token.token_hash.clone())
            .bind(token.created_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn api_token_by_hash(&self, token_hash: &[u8]) -> Result<Option<ApiTokenRecord>, StoreError> {
        Ok(sqlx::query_as(API_TOKEN_BY_HASH)
            .bind(token_hash.to_vec())
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn user_api_tokens(&self, user_id: &str) -> Result<Vec<ApiTokenRecord>, StoreError> {
        Ok(sqlx::query_as(USER_API_TOKENS)
            .bind(user_id.to_owned())
            .fetch_all(&self.reader)
            .await?)
    }

    async fn delete_api_token(&self, user_id: &str, token_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(DELETE_API_TOKEN)
            .bind(token_id.to_owned())
            .bind(user_id.to_owned())
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) > 0)
    }

    async fn create_invite(&self, invite: &InviteRecord) -> Result<(), StoreError> {
        sqlx::query(INSERT_INVITE)
            .bind(invite.id.clone())
            .bind(invite.email.clone())
            .bind(invite.role.clone())
            .bind(invite.token_hash.clone())
            .bind(invite.created_by.clone())
            .bind(invite.created_at)
            .bind(invite.expires_at)
            .bind(invite.used_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn invite_by_hash(&self, token_hash: &[u8]) -> Result<Option<InviteRecord>, StoreError> {
        Ok(sqlx::query_as(INVITE_BY_HASH)
            .bind(token_hash.to_vec())
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn open_invites(&self, now: Millis) -> Result<Vec<InviteRecord>, StoreError> {
        Ok(sqlx::query_as(OPEN_INVITES)
            .bind(now)
            .fetch_all(&self.reader)
            .await?)
    }

    async fn use_invite(&self, id: &str, now: Millis) -> Result<bool, StoreError> {
        let done = sqlx::query(USE_INVITE)
            .bind(id.to_owned())
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) > 0)
    }

    async fn delete_invite(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(DELETE_INVITE)
            .bind(id.to_owned())
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) > 0)
    }
}
