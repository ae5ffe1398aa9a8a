//! Rows as the store reads and writes them, the same for every backend.

use crate::clock::Millis;

/// A room as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoomRecord {
    pub id: String,
    pub language: String,
    pub title: String,
    /// The code the room's document starts with.
    pub initial_code: String,
    pub created_at: Millis,
    pub last_active_at: Millis,
}

/// A position in the newest-first room listing: the last room of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomCursor {
    pub created_at: Millis,
    pub id: String,
}

impl From<&RoomRecord> for RoomCursor {
    fn from(room: &RoomRecord) -> Self {
        Self {
            created_at: room.created_at,
            id: room.id.clone(),
        }
    }
}

/// One entry of a room's append-only change log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChangeRecord {
    pub room_id: String,
    /// Server sequence number, from 1, dense per room.
    pub seq: i64,
    /// The change's content hash.
    pub hash: Vec<u8>,
    /// The actor that made the change.
    pub actor: Vec<u8>,
    /// The change's number among its actor's changes, from 1.
    pub actor_seq: i64,
    /// Hashes of the changes it depends on, concatenated.
    pub deps: Vec<u8>,
    /// The encoded change.
    pub bytes: Vec<u8>,
    /// When the server received it.
    pub received_at: Millis,
}

/// A saved document covering a room's log up to and including `covers_seq`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SnapshotRecord {
    pub room_id: String,
    pub covers_seq: i64,
    /// The saved Automerge document.
    pub bytes: Vec<u8>,
    pub created_at: Millis,
    /// The document's materialised state: code, language and title.
    pub code: String,
    pub language: String,
    pub title: String,
}

/// What a room's log index needs of each change: enough to recognise duplicates and to
/// check dependencies and actor sequence numbers, without the change bytes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChangeIndexRow {
    pub seq: i64,
    pub hash: Vec<u8>,
    pub actor: Vec<u8>,
    pub actor_seq: i64,
}

/// A staff account as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRecord {
    /// Random, URL-safe.
    pub id: String,
    /// Lower-cased.
    pub email: String,
    /// argon2id, PHC string form.
    pub password_hash: String,
    /// `admin` or `interviewer`.
    pub role: String,
    /// 0 while the account is enabled; otherwise when it was disabled.
    pub disabled_at: Millis,
    pub created_at: Millis,
}

/// A login session as stored: found by the SHA-256 of its cookie's token.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRecord {
    pub token_hash: Vec<u8>,
    pub user_id: String,
    /// What every form posted in this session must carry.
    pub csrf_token: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}
