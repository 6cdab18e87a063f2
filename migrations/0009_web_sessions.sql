-- +goose Up

-- Signed-in browsers of the web pages, kept here so that a restart or a
-- second server does not sign anyone out. Only the SHA-256 hash of the
-- cookie value is stored, so a copy of the database holds no usable
-- cookie. The CSRF token is the one each of the session's forms must echo.
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions;
