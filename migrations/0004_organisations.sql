-- +goose Up

-- Employers and agencies. A user with role employer or agency belongs to
-- exactly one organisation (users.organisation_id); staff and registrants
-- belong to none. A panel member may also belong to one, which is what the
-- panel conflict-of-interest rule reads.
CREATE TABLE organisations (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('employer', 'agency')),
    created_at TEXT NOT NULL
);

ALTER TABLE users ADD COLUMN organisation_id INTEGER REFERENCES organisations (id);
CREATE INDEX users_organisation ON users (organisation_id) WHERE organisation_id IS NOT NULL;

-- API keys, stored hashed; the prefix identifies a key in lists.
CREATE TABLE api_keys (
    id              INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    prefix          TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    revoked_at      TEXT
);
CREATE INDEX api_keys_organisation ON api_keys (organisation_id, id);

CREATE TABLE engagements (
    id              INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    registrant_id   INTEGER NOT NULL REFERENCES registrants (id),
    role            TEXT NOT NULL CHECK (role IN ('PSO', 'PO')),
    type            TEXT NOT NULL CHECK (type IN ('employed', 'agency_placement', 'secondment')),
    valid_from      TEXT NOT NULL,
    valid_until     TEXT,
    ended_at        TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX engagements_organisation ON engagements (organisation_id, id);
CREATE INDEX engagements_registrant ON engagements (registrant_id);

-- One verification record per item checked: who checked whom, when, how
-- and why (read back by the registrant as "who checked me").
CREATE TABLE verifications (
    id              INTEGER PRIMARY KEY,
    registrant_id   INTEGER REFERENCES registrants (id),
    register_number TEXT NOT NULL,
    organisation_id INTEGER REFERENCES organisations (id),
    method          TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    checked_at      TEXT NOT NULL,
    as_at           TEXT NOT NULL
);
CREATE INDEX verifications_registrant ON verifications (registrant_id, id) WHERE registrant_id IS NOT NULL;
CREATE INDEX verifications_organisation ON verifications (organisation_id, id);

-- Codes a registrant gives to let a holder see a fuller view of their
-- record; stored hashed, with the last characters as a hint for lists.
CREATE TABLE share_codes (
    id            INTEGER PRIMARY KEY,
    registrant_id INTEGER NOT NULL REFERENCES registrants (id),
    code_hash     TEXT NOT NULL UNIQUE,
    hint          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT
);
CREATE INDEX share_codes_registrant ON share_codes (registrant_id, id);

-- Registrants an organisation watches beyond those it engages.
CREATE TABLE watches (
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    registrant_id   INTEGER NOT NULL REFERENCES registrants (id),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organisation_id, registrant_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE watches;
DROP TABLE share_codes;
DROP TABLE verifications;
DROP TABLE engagements;
DROP TABLE api_keys;
DROP INDEX users_organisation;
ALTER TABLE users DROP COLUMN organisation_id;
DROP TABLE organisations;
