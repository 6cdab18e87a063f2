-- +goose Up
-- Registrant accounts, CPD logs, renewal requests and CPD audits.

-- A registrant's own account is a user linked to their record: at most one each.
ALTER TABLE users ADD COLUMN registrant_id INTEGER REFERENCES registrants (id);
CREATE UNIQUE INDEX users_registrant ON users (registrant_id) WHERE registrant_id IS NOT NULL;

-- One-time codes a registrar issues so a registrant can set a password.
-- Only the SHA-256 of the code is kept.
CREATE TABLE activation_codes (
    id            INTEGER PRIMARY KEY,
    registrant_id INTEGER NOT NULL REFERENCES registrants (id),
    code_hash     TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT,
    withdrawn_at  TEXT
);
CREATE INDEX activation_codes_registrant ON activation_codes (registrant_id);

-- Hours are whole quarter hours (1 to 96), so that sums are exact.
CREATE TABLE cpd_activities (
    id            INTEGER PRIMARY KEY,
    registrant_id INTEGER NOT NULL REFERENCES registrants (id),
    date          TEXT NOT NULL,
    title         TEXT NOT NULL,
    category      TEXT NOT NULL CHECK (category IN ('participatory', 'self_directed')),
    quarter_hours INTEGER NOT NULL CHECK (quarter_hours BETWEEN 1 AND 96),
    reflection    TEXT NOT NULL DEFAULT '',
    evidence_ref  TEXT NOT NULL DEFAULT '',
    -- The renewal request this entry was part of when submitted.
    renewal_id    INTEGER REFERENCES renewals (id),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX cpd_activities_registrant_date ON cpd_activities (registrant_id, date);

-- A registrant's request to renew the registration year ending at cycle_end,
-- with the CPD totals (in quarter hours) as they stood when it was made.
CREATE TABLE renewals (
    id                         INTEGER PRIMARY KEY,
    registrant_id              INTEGER NOT NULL REFERENCES registrants (id),
    state                      TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'refused')),
    cycle_start                TEXT NOT NULL,
    cycle_end                  TEXT NOT NULL,
    cpd_declaration            INTEGER NOT NULL CHECK (cpd_declaration IN (0, 1)),
    good_character_declaration INTEGER NOT NULL CHECK (good_character_declaration IN (0, 1)),
    quarter_hours              INTEGER NOT NULL,
    participatory_quarter_hours INTEGER NOT NULL,
    compliant                  INTEGER NOT NULL CHECK (compliant IN (0, 1)),
    review                     TEXT NOT NULL DEFAULT '[]', -- JSON array of reasons
    automatic                  INTEGER NOT NULL DEFAULT 0 CHECK (automatic IN (0, 1)),
    registered_until           TEXT,
    reason                     TEXT NOT NULL DEFAULT '',
    submitted_at               TEXT NOT NULL,
    decided_at                 TEXT,
    decided_by                 INTEGER REFERENCES users (id)
);
-- At most one live request per registration year; a refused one may be followed by another.
CREATE UNIQUE INDEX renewals_live ON renewals (registrant_id, cycle_end) WHERE state IN ('pending', 'approved');
CREATE INDEX renewals_state ON renewals (state, id);

-- A CPD audit of one registrant's registration year, selected at random.
CREATE TABLE cpd_audits (
    id            INTEGER PRIMARY KEY,
    registrant_id INTEGER NOT NULL REFERENCES registrants (id),
    state         TEXT NOT NULL CHECK (state IN ('selected', 'submitted', 'passed', 'failed')),
    cycle_start   TEXT NOT NULL,
    cycle_end     TEXT NOT NULL,
    seed          TEXT NOT NULL, -- the sampling seed, as decimal text (uint64)
    reason        TEXT NOT NULL DEFAULT '',
    selected_at   TEXT NOT NULL,
    submitted_at  TEXT,
    decided_at    TEXT,
    decided_by    INTEGER REFERENCES users (id),
    UNIQUE (registrant_id, cycle_end)
);
CREATE INDEX cpd_audits_state ON cpd_audits (state, id);

-- The evidence a registrant points the auditor at, one row per activity.
CREATE TABLE cpd_audit_evidence (
    audit_id     INTEGER NOT NULL REFERENCES cpd_audits (id),
    activity_id  INTEGER NOT NULL REFERENCES cpd_activities (id),
    evidence_ref TEXT NOT NULL,
    PRIMARY KEY (audit_id, activity_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE cpd_audit_evidence;
DROP TABLE cpd_audits;
DROP TABLE cpd_activities;
DROP TABLE renewals;
DROP TABLE activation_codes;
DROP INDEX users_registrant;
ALTER TABLE users DROP COLUMN registrant_id;
