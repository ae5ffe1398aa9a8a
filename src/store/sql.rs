//! SQL shared by both backends (SQLite and PostgreSQL both take `$N` parameters).

/// The columns of [`super::RoomRecord`], in its field order.
macro_rules! room_columns {
    () => {
        "id, language, title, initial_code, created_at, last_active_at, owner_id, candidate_key, ended_at, parent_id"
    };
}

pub const PING: &str = "SELECT 1";

pub const APPLIED_MIGRATIONS: &str = "SELECT version FROM _sqlx_migrations WHERE success";

pub const INSERT_ROOM: &str = concat!(
    "INSERT INTO rooms (",
    room_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
);

pub const GET_ROOM: &str = concat!("SELECT ", room_columns!(), " FROM rooms WHERE id = $1");

pub const LIST_ROOMS_FIRST: &str = concat!(
    "SELECT ",
    room_columns!(),
    " FROM rooms WHERE ($1 = '' OR owner_id = $1) AND parent_id = '' ORDER BY created_at DESC, id DESC LIMIT $2"
);

pub const LIST_ROOMS_AFTER: &str = concat!(
    "SELECT ",
    room_columns!(),
    " FROM rooms WHERE ($1 = '' OR owner_id = $1) AND parent_id = '' AND (created_at, id) < ($2, $3) \
     ORDER BY created_at DESC, id DESC LIMIT $4"
);

/// Deletes a room with its notes document.
pub const DELETE_ROOM: &str = "DELETE FROM rooms WHERE id = $1 OR parent_id = $1";

/// An interview room's notes document.
pub const GET_NOTES: &str = concat!("SELECT ", room_columns!(), " FROM rooms WHERE parent_id = $1");

/// Ends a room at `$2` unless it already ended.
pub const END_ROOM: &str = "UPDATE rooms SET ended_at = $2 WHERE id = $1 AND ended_at = 0";

/// The start of the statement recording activity in rooms: the time, then
/// `THEN last_active_at ELSE` the time `END WHERE id IN (`ids`)`. It keeps the later of
/// the stored and the given time.
pub const TOUCH_ROOMS: &str = "UPDATE rooms SET last_active_at = CASE WHEN last_active_at > ";

/// Rooms touched by one statement (one parameter each, far under both backends' limits).
pub const TOUCH_BATCH: usize = 500;

/// Deletes at most `$2` expired rooms; the retention sweep repeats it until none are left,
/// so that no single transaction holds the database for long.
/// A notes document goes with its interview room, not by its own inactivity.
pub const DELETE_INACTIVE_ROOMS: &str = "DELETE FROM rooms WHERE id IN \
     (SELECT id FROM rooms WHERE last_active_at < $1 AND parent_id = '' LIMIT $2)";

/// Deletes at most `$1` notes documents whose interview room is gone.
pub const DELETE_ORPHAN_NOTES: &str = "DELETE FROM rooms WHERE id IN (SELECT id FROM rooms AS notes \
     WHERE notes.parent_id <> '' AND NOT EXISTS (SELECT 1 FROM rooms WHERE rooms.id = notes.parent_id) LIMIT $1)";

/// Rooms deleted per statement by the retention sweep.
pub const DELETE_BATCH: i64 = 100;

pub const CHANGES_AFTER: &str = "SELECT room_id, seq, hash, actor, actor_seq, deps, bytes, received_at \
     FROM changes WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";

pub const CHANGE_INDEX: &str =
    "SELECT seq, hash, actor, actor_seq FROM changes WHERE room_id = $1 ORDER BY seq";

pub const INSERT_SNAPSHOT: &str = "INSERT INTO snapshots (room_id, covers_seq, bytes, created_at, code, language, title) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (room_id, covers_seq) DO UPDATE SET bytes = excluded.bytes, created_at = excluded.created_at, \
     code = excluded.code, language = excluded.language, title = excluded.title";

pub const LATEST_SNAPSHOT: &str = "SELECT room_id, covers_seq, bytes, created_at, code, language, title \
     FROM snapshots WHERE room_id = $1 ORDER BY covers_seq DESC LIMIT 1";
