-- Every run of code in a room, kept for the room's run history and for replay: who
-- started it, when, the document it ran (its heads and log position), what ran (language,
-- code, stdin) and the result (a JSON object with the API's result fields). Times are
-- milliseconds since the Unix epoch (UTC).
CREATE TABLE runs (
    id          TEXT    NOT NULL PRIMARY KEY,
    room_id     TEXT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- The name shown for whoever started it, and their account (empty for a candidate).
    started_by  TEXT    NOT NULL,
    user_id     TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    -- The document's heads (hex hashes, comma-separated) and the last change in it.
    heads       TEXT    NOT NULL,
    doc_seq     BIGINT NOT NULL,
    language    TEXT    NOT NULL,
    code        TEXT    NOT NULL,
    stdin       TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    result      TEXT    NOT NULL
);

CREATE INDEX runs_by_room ON runs (room_id, created_at);
