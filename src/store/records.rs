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
    /// The staff account that created it; '' for rooms older than accounts.
    pub owner_id: String,
    /// The secret in the candidate link; '' when the room has none.
    pub candidate_key: String,
    /// When the interviewer ended it; 0 while it goes on.
    pub ended_at: Millis,
    /// For a staff-only notes document, the interview room it belongs to; '' for an
    /// interview room.
    pub parent_id: String,
}

impl RoomRecord {
    pub fn is_ended(&self) -> bool {
        self.ended_at != 0
    }

    /// Whether this is an interview room's private notes document rather than a room.
    pub fn is_notes(&self) -> bool {
        !self.parent_id.is_empty()
    }
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

/// Which rooms a listing returns, newest first: one owner's or everyone's (`owner_id`
/// None), after a cursor, at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct RoomQuery<'a> {
    pub owner_id: Option<&'a str>,
    pub after: Option<&'a RoomCursor>,
    pub limit: u32,
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

/// An invitation as stored: found by the SHA-256 of its link's token.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InviteRecord {
    pub id: String,
    /// Lower-cased.
    pub email: String,
    /// `admin` or `interviewer`: the role the account will have.
    pub role: String,
    pub token_hash: Vec<u8>,
    /// The admin who sent it.
    pub created_by: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    /// 0 until the link is used.
    pub used_at: Millis,
}

/// An API token as stored: found by the SHA-256 of the token.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiTokenRecord {
    /// Random, URL-safe; names the token when it is revoked.
    pub id: String,
    pub user_id: String,
    /// What its owner called it (e.g. "CI").
    pub name: String,
    pub token_hash: Vec<u8>,
    pub created_at: Millis,
}

/// A run of code in a room, as stored once it finished.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunRecord {
    pub id: String,
    pub room_id: String,
    /// The name shown for whoever started it.
    pub started_by: String,
    /// Their account; empty for a candidate.
    pub user_id: String,
    pub created_at: Millis,
    pub finished_at: Millis,
    /// The document's heads when it ran: hex change hashes, comma-separated.
    pub heads: String,
    /// The last change of the room's log the document included.
    pub doc_seq: i64,
    pub language: String,
    pub code: String,
    pub stdin: String,
    /// The result's status (`ok`, `timeout`, ...), also inside `result`.
    pub status: String,
    /// The result as the API shows it (JSON).
    pub result: String,
}
