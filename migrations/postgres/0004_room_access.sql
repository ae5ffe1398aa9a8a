-- Who may open a room, and API tokens. Times are milliseconds since the Unix epoch (UTC).

-- The staff account that created the room ('' for rooms made before accounts existed,
-- which only admins manage).
ALTER TABLE rooms ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
-- The secret in the candidate link ('' for rooms made before accounts existed: they
-- have no candidate link).
ALTER TABLE rooms ADD COLUMN candidate_key TEXT NOT NULL DEFAULT '';
-- 0 while the interview goes on; otherwise when the interviewer ended it (candidates can
-- then only watch).
ALTER TABLE rooms ADD COLUMN ended_at BIGINT NOT NULL DEFAULT 0;

CREATE INDEX rooms_by_owner ON rooms (owner_id, created_at DESC, id DESC);

-- Tokens for the REST API (Authorization: Bearer), acting with their owner's rights.
-- Like sessions, a token is found by its SHA-256: the database never holds a usable one.
CREATE TABLE api_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE INDEX api_tokens_by_user ON api_tokens (user_id, created_at);
