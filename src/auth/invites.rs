//! Invitations and password changes: an admin invites an address with a role, and the
//! one-time link (its token stored only as a hash, valid for a week) lets its holder
//! choose a password, which creates the account; a staff member changes their own
//! password after proving the current one.

use super::{AccountError, Role, create_account, normalise_email, password, tokens};
use crate::clock::{DAY_MILLIS, Millis};
use crate::ids::{ROOM_ID_BYTES, random_url_token};
use crate::store::{InviteRecord, Store, StoreError, UserRecord};

/// How long an invite link works.
pub const INVITE_LIFETIME_MILLIS: Millis = 7 * DAY_MILLIS;

/// Makes an invite for `email` with `role`, sent by `admin`; returns the link's token
/// (shown once, never stored) and the record. Refused if the address has an account.
pub async fn invite(
    store: &dyn Store,
    admin: &UserRecord,
    email: &str,
    role: Role,
    now: Millis,
) -> Result<(String, InviteRecord), AccountError> {
    let email = normalise_email(email)?;
    if store.user_by_email(&email).await?.is_some() {
        return Err(AccountError::Taken(email));
    }
    let token = tokens::new_token();
    let record = InviteRecord {
        id: random_url_token(ROOM_ID_BYTES),
        email,
        role: role.as_str().to_owned(),
        token_hash: tokens::token_hash(&token),
        created_by: admin.id.clone(),
        created_at: now,
        expires_at: now + INVITE_LIFETIME_MILLIS,
        used_at: 0,
    };
    store.create_invite(&record).await?;
    Ok((token, record))
}

/// The invite behind a link's token if it can still be used at `now`.
pub async fn open_invite(
    store: &dyn Store,
    token: &str,
    now: Millis,
) -> Result<Option<InviteRecord>, StoreError> {
    Ok(store
        .invite_by_hash(&tokens::token_hash(token))
        .await?
        .filter(|invite| invite.used_at == 0 && invite.expires_at > now))
}

/// Why an invite could not be accepted.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    /// Used, expired, withdrawn or never issued.
    #[error("this invitation link has been used, has expired or was withdrawn")]
    Gone,
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<StoreError> for AcceptError {
    fn from(err: StoreError) -> Self {
        AcceptError::Account(err.into())
    }
}

/// Accepts the invite behind `token`: creates its account with `password`. The link
/// works once, however many use it at the same moment.
pub async fn accept(
    store: &dyn Store,
    token: &str,
    password: String,
    now: Millis,
) -> Result<UserRecord, AcceptError> {
    let invite = open_invite(store, token, now).await?.ok_or(AcceptError::Gone)?;
    password::check_new_password(&password).map_err(AccountError::Invalid)?;
    let role: Role = invite.role.parse().map_err(AccountError::Invalid)?;
    if !store.use_invite(&invite.id, now).await? {
        return Err(AcceptError::Gone);
    }
    Ok(create_account(store, &invite.email, role, password, now).await?)
}

/// Why a password was not changed, in words for the person changing it.
#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("The current password is not right.")]
    WrongPassword,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sets `user`'s password to `new` once `current` is proven, and ends every other
/// session of the account (the one whose token hashes to `keep`, if any, stays).
pub async fn change_password(
    store: &dyn Store,
    user: &UserRecord,
    current: String,
    new: String,
    keep: Option<&[u8]>,
) -> Result<(), PasswordChangeError> {
    password::check_new_password(&new).map_err(PasswordChangeError::Invalid)?;
    if !password::verify(current, Some(user.password_hash.clone())).await {
        return Err(PasswordChangeError::WrongPassword);
    }
    let hash = password::hash(new).await.map_err(PasswordChangeError::Invalid)?;
    store.set_password_hash(&user.id, &hash).await?;
    match keep {
        Some(keep) => store.delete_other_sessions(&user.id, keep).await?,
        None => store.delete_user_sessions(&user.id).await?,
    };
    Ok(())
}
