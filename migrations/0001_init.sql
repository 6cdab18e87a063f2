-- +goose Up
-- Times are UTC in a fixed-width form (2006-01-02T15:04:05.000000Z) so that
-- text order is time order; dates are YYYY-MM-DD.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'registrar', 'panel_member', 'employer', 'agency', 'registrant')),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- Refresh tokens, stored hashed; one family per login, rotated on each refresh.
CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY,
    family     TEXT NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    rotated_at TEXT,
    revoked_at TEXT
);
CREATE INDEX sessions_family ON sessions (family);

CREATE TABLE registrants (
    id              INTEGER PRIMARY KEY,
    register_number TEXT NOT NULL UNIQUE,
    family_name     TEXT NOT NULL,
    given_names     TEXT NOT NULL,
    previous_names  TEXT NOT NULL DEFAULT '[]', -- JSON array of full names
    date_of_birth   TEXT NOT NULL,
    email           TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- One row per normalised word of any current or previous name: name search
-- is a B-tree range scan on a prefix, never a table scan.
CREATE TABLE name_tokens (
    token         TEXT NOT NULL,
    registrant_id INTEGER NOT NULL REFERENCES registrants (id),
    PRIMARY KEY (token, registrant_id)
) WITHOUT ROWID;
CREATE INDEX name_tokens_registrant ON name_tokens (registrant_id);

CREATE TABLE qualifications (
    id              INTEGER PRIMARY KEY,
    registrant_id   INTEGER NOT NULL REFERENCES registrants (id),
    level           INTEGER NOT NULL CHECK (level IN (3, 5)),
    title           TEXT NOT NULL,
    awarding_body   TEXT NOT NULL,
    awarded_on      TEXT,
    certificate_ref TEXT NOT NULL,
    initial_state   TEXT NOT NULL CHECK (initial_state IN ('claimed', 'in_training')),
    verified_by     INTEGER REFERENCES users (id),
    verified_at     TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX qualifications_registrant ON qualifications (registrant_id);

-- The registration's history: dated periods [valid_from, valid_to).
-- superseded_at marks a period withdrawn by a later decision; it is kept.
CREATE TABLE registration_periods (
    id               INTEGER PRIMARY KEY,
    registrant_id    INTEGER NOT NULL REFERENCES registrants (id),
    status           TEXT NOT NULL CHECK (status IN ('registered', 'suspended', 'lapsed', 'removed')),
    valid_from       TEXT NOT NULL,
    valid_to         TEXT,
    registered_until TEXT NOT NULL,
    reason           TEXT NOT NULL DEFAULT '',
    recorded_at      TEXT NOT NULL,
    superseded_at    TEXT
);
CREATE INDEX registration_periods_registrant ON registration_periods (registrant_id, valid_from);

-- The current standing, materialised in the same transaction as every write:
-- the public answer ready to serve, and the instant it next changes by time.
CREATE TABLE registrations (
    register_number   TEXT PRIMARY KEY,
    registrant_id     INTEGER NOT NULL UNIQUE REFERENCES registrants (id),
    status            TEXT NOT NULL,
    registered_until  TEXT NOT NULL,
    first_admitted_at TEXT NOT NULL,
    public_json       BLOB NOT NULL,
    changes_at        TEXT
) WITHOUT ROWID;
CREATE INDEX registrations_changes_at ON registrations (changes_at) WHERE changes_at IS NOT NULL;
CREATE INDEX registrations_status ON registrations (status, registered_until);

-- Append-only, hash-chained record of every write.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    addr      TEXT NOT NULL DEFAULT '',
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before    TEXT,
    after     TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_log;
DROP TABLE registrations;
DROP TABLE registration_periods;
DROP TABLE qualifications;
DROP TABLE name_tokens;
DROP TABLE registrants;
DROP TABLE sessions;
DROP TABLE users;
