-- Staff accounts (admins and interviewers) and their login sessions. Times are
-- milliseconds since the Unix epoch (UTC).

CREATE TABLE users (
    id            TEXT NOT NULL PRIMARY KEY,
    -- Lower-cased; one account per address.
    email         TEXT NOT NULL UNIQUE,
    -- An argon2id hash in PHC string form.
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'interviewer')),
    -- 0 while the account may log in; otherwise when it was disabled.
    disabled_at   BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

-- A session is found by the SHA-256 of its cookie's token: the database never holds a
-- token that would let its reader log in.
CREATE TABLE sessions (
    token_hash BYTEA NOT NULL PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The token every form of this session must carry (CSRF protection).
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);
