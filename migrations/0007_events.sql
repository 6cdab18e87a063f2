-- +goose Up

-- Every change in a registrant's public standing that an employer or agency
-- acts on (status, authorised roles, conditions, sanctions, interim orders,
-- registered_until), whether a write made it or the passage of time did.
-- Written in the transaction that stores the new answer (or that notices a
-- time-driven change), so a change is recorded exactly once.
CREATE TABLE register_changes (
    id              INTEGER PRIMARY KEY,
    registrant_id   INTEGER NOT NULL REFERENCES registrants (id),
    register_number TEXT NOT NULL,
    occurred_at     TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    cause           TEXT NOT NULL CHECK (cause IN ('write', 'time')),
    fields          TEXT NOT NULL,
    previous_json   BLOB,
    current_json    BLOB NOT NULL
);
CREATE INDEX register_changes_registrant ON register_changes (registrant_id, id);

-- Each organisation's feed: one row per change of a registrant it watched
-- when the change was recorded, numbered 1, 2, 3... without gaps.
CREATE TABLE events (
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    seq             INTEGER NOT NULL,
    change_id       INTEGER NOT NULL REFERENCES register_changes (id),
    PRIMARY KEY (organisation_id, seq)
) WITHOUT ROWID;

-- Webhooks deliver an organisation's feed in order. cursor is the last seq
-- delivered (or given up on); the delivery of cursor+1 is attempted at
-- next_attempt_at, and failing_since is the first failed attempt of it.
CREATE TABLE webhooks (
    id              INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    url             TEXT NOT NULL,
    secret          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    deleted_at      TEXT,
    cursor          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    failing_since   TEXT
);
CREATE INDEX webhooks_organisation ON webhooks (organisation_id, id);

-- Every delivery attempt, kept so an organisation can see what happened.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    webhook_id  INTEGER NOT NULL REFERENCES webhooks (id),
    seq         INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    at          TEXT NOT NULL,
    status_code INTEGER,
    error       TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'gave_up'))
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, id);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhooks;
DROP TABLE events;
DROP TABLE register_changes;
