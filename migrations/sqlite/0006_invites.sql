-- Invitations: an admin invites an address with a role; the one-time link lets its holder
-- choose a password, which creates the account. Like sessions, an invite is found by the
-- SHA-256 of its link's token. Times are milliseconds since the Unix epoch (UTC).
CREATE TABLE invites (
    id         TEXT    NOT NULL PRIMARY KEY,
    -- Lower-cased, like users.email.
    email      TEXT    NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('admin', 'interviewer')),
    token_hash BLOB NOT NULL UNIQUE,
    created_by TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- 0 until the link is used (it works once).
    used_at    INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX invites_by_time ON invites (created_at);
