-- Rooms, their append-only change logs, and snapshots of their documents.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE rooms (
    id             TEXT    NOT NULL PRIMARY KEY,
    language       TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    initial_code   TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL
) STRICT;

CREATE INDEX rooms_newest_first ON rooms (created_at DESC, id DESC);
CREATE INDEX rooms_by_last_activity ON rooms (last_active_at);

-- One row per change a room has accepted, in server order.
CREATE TABLE changes (
    room_id     TEXT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    hash        BLOB    NOT NULL,
    actor       BLOB    NOT NULL,
    deps        BLOB    NOT NULL,
    bytes       BLOB    NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, seq),
    UNIQUE (room_id, hash)
) STRICT;

-- Saved documents covering a room's log up to covers_seq.
CREATE TABLE snapshots (
    room_id    TEXT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    covers_seq INTEGER NOT NULL,
    bytes      BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, covers_seq)
) STRICT;
