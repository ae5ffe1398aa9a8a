//! Persistence behind one async [`Store`] trait, with an SQLite backend (the embedded
//! default) and a PostgreSQL backend, chosen by the database URL. Each backend has its
//! own migrations under `migrations/`, embedded in the binary.

mod accounts;
mod postgres;
mod records;
mod runs;
mod sql;
mod sql_store;
mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{Config, DatabaseUrl};

pub use crate::clock::Millis;
pub use accounts::Accounts;
pub use records::{
    ApiTokenRecord, ChangeIndexRow, ChangeRecord, InviteRecord, RoomCursor, RoomQuery, RoomRecord, RunRecord,
    SessionRecord, SnapshotRecord, UserRecord,
};
pub use runs::Runs;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// What a migration run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Migrations applied by this run (0 when the schema was already current).
    pub applied: usize,
    /// Migrations known to this binary.
    pub known: usize,
}

/// A storage failure. Callers above the store turn it into a 5xx without details.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("a room with id {0} already exists")]
    DuplicateRoom(String),
    #[error("an account with the address {0} already exists")]
    DuplicateEmail(String),
}

impl StoreError {
    /// Whether the write failed because the room it belongs to no longer exists.
    pub fn is_missing_room(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(err)) if err.is_foreign_key_violation())
    }
}

/// Everything Pairline keeps: rooms, their change logs and their snapshots, (through
/// [`Accounts`]) staff accounts and sessions, and (through [`Runs`]) runs of code.
#[async_trait]
pub trait Store: Accounts + Runs + Send + Sync + 'static {
    /// The backend behind this store.
    fn backend(&self) -> Backend;

    /// Brings the schema up to date; a no-op when it already is.
    async fn migrate(&self) -> Result<MigrationReport, StoreError>;

    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Inserts a new room.
    async fn create_room(&self, room: &RoomRecord) -> Result<(), StoreError>;

    /// The room with this id, if it exists.
    async fn get_room(&self, id: &str) -> Result<Option<RoomRecord>, StoreError>;

    /// Up to `limit` interview rooms (never notes documents), newest first, strictly after
    /// `after` in that order.
    async fn list_rooms(&self, query: &RoomQuery<'_>) -> Result<Vec<RoomRecord>, StoreError>;

    /// The private notes document of the interview room `new.parent_id`, created as `new`
    /// if the room has none yet; concurrent callers all get the same one.
    async fn notes_room(&self, new: &RoomRecord) -> Result<RoomRecord, StoreError>;

    /// Deletes a room and everything that belongs to it (its log, snapshots and notes
    /// document); false if it did not exist.
    async fn delete_room(&self, id: &str) -> Result<bool, StoreError>;

    /// Ends the room at `at`; false if there is no such room or it had already ended.
    async fn end_room(&self, id: &str, at: Millis) -> Result<bool, StoreError>;

    /// Records activity at `at` in each of these rooms (in one statement per few hundred,
    /// so that hundreds of busy rooms cost one write, not hundreds). Returns how many
    /// exist; an unknown id is skipped.
    async fn touch_rooms(&self, ids: &[&str], at: Millis) -> Result<u64, StoreError>;

    /// Deletes every room whose last activity is before `cutoff`, with its changes,
    /// snapshots and notes document. Returns how many rooms went (notes not counted).
    async fn delete_rooms_inactive_before(&self, cutoff: Millis) -> Result<u64, StoreError>;

    /// Appends changes to their rooms' logs in one transaction (group commit). A change
    /// whose `(room, hash)` is already stored is skipped, so a retried batch is harmless.
    async fn append_changes(&self, changes: &[ChangeRecord]) -> Result<(), StoreError>;

    /// Up to `limit` changes of a room with `seq > after_seq`, in sequence order.
    async fn changes_after(
        &self,
        room_id: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ChangeRecord>, StoreError>;

    /// Every change of a room, in sequence order, without its bytes: what a room needs in
    /// memory to accept new changes.
    async fn change_index(&self, room_id: &str) -> Result<Vec<ChangeIndexRow>, StoreError>;

    /// Stores a snapshot (a saved document covering the log up to `covers_seq`).
    async fn put_snapshot(&self, snapshot: &SnapshotRecord) -> Result<(), StoreError>;

    /// The snapshot covering the most of a room's log, if any.
    async fn latest_snapshot(&self, room_id: &str) -> Result<Option<SnapshotRecord>, StoreError>;

    /// Waits for pending writes and closes every connection.
    async fn close(&self);
}

/// Opens the store the configuration names, creating the SQLite file and its directory
/// when needed. Does not migrate: call [`Store::migrate`].
pub async fn connect(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
    connect_url(&config.database_url(), config.database_max_connections).await
}

/// Opens the store behind `url` with at most `max_connections` pooled connections.
pub async fn connect_url(url: &DatabaseUrl, max_connections: u32) -> Result<Arc<dyn Store>, StoreError> {
    if url.is_postgres() {
        Ok(Arc::new(postgres::connect(url.expose(), max_connections).await?))
    } else {
        Ok(Arc::new(sqlite::connect(url.expose(), max_connections).await?))
    }
}
