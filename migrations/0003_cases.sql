-- +goose Up
-- Fitness to practise: cases, panels, decisions by vote, and the orders
-- decisions lay on registrations. An order that sets a status (suspension,
-- removal) owns a period in registration_periods; both are superseded
-- together, never deleted, when a later decision changes them.

CREATE TABLE cases (
    id             INTEGER PRIMARY KEY,
    registrant_id  INTEGER NOT NULL REFERENCES registrants (id),
    kind           TEXT NOT NULL CHECK (kind IN ('referral', 'restoration')),
    source         TEXT NOT NULL CHECK (source IN ('employer', 'public', 'self', 'police', 'regulator')),
    category       TEXT NOT NULL DEFAULT '' CHECK (category IN ('', 'misconduct', 'lack_of_competence', 'conviction', 'health', 'dismissal_for_malpractice')),
    allegation     TEXT NOT NULL, -- private, never published
    stage          TEXT NOT NULL CHECK (stage IN ('received', 'investigation', 'closed_no_case', 'referred_to_panel', 'hearing', 'decided', 'appealed', 'final')),
    opened_at      TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    decided_at     TEXT,
    appeal_ends_at TEXT, -- a decided case reads as final from here unless appealed
    appealed_at    TEXT,
    appeal_reason  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cases_registrant ON cases (registrant_id, id);
CREATE INDEX cases_stage ON cases (stage, id);

CREATE TABLE case_stages (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    from_stage TEXT NOT NULL DEFAULT '',
    to_stage   TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL
);
CREATE INDEX case_stages_case ON case_stages (case_id, id);

CREATE TABLE panel_members (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    seat    TEXT NOT NULL CHECK (seat IN ('chair', 'lay', 'registrant')),
    PRIMARY KEY (case_id, user_id)
) WITHOUT ROWID;
CREATE INDEX panel_members_user ON panel_members (user_id, case_id);

CREATE TABLE decisions (
    id               INTEGER PRIMARY KEY,
    case_id          INTEGER NOT NULL REFERENCES cases (id),
    kind             TEXT NOT NULL CHECK (kind IN ('interim_suspension', 'interim_conditions', 'no_further_action', 'advice', 'warning', 'conditions', 'suspension', 'removal', 'restoration')),
    state            TEXT NOT NULL CHECK (state IN ('proposed', 'made', 'rejected')),
    conditions       TEXT NOT NULL DEFAULT '[]', -- JSON array of {code, text}
    months           INTEGER NOT NULL DEFAULT 0,
    registered_until TEXT NOT NULL DEFAULT '',
    public_summary   TEXT NOT NULL,
    reasons          TEXT NOT NULL, -- private full text
    immediate        INTEGER NOT NULL DEFAULT 0 CHECK (immediate IN (0, 1)),
    proposed_by      INTEGER REFERENCES users (id), -- NULL for a variation on appeal
    proposed_at      TEXT NOT NULL,
    decided_at       TEXT,
    takes_effect_at  TEXT,
    varies           INTEGER REFERENCES decisions (id),
    appeal_result    TEXT NOT NULL DEFAULT '' CHECK (appeal_result IN ('', 'upheld', 'varied', 'quashed')),
    appeal_result_at TEXT
);
CREATE INDEX decisions_case ON decisions (case_id, id);
-- One proposal at a time per case.
CREATE UNIQUE INDEX decisions_open ON decisions (case_id) WHERE state = 'proposed';

CREATE TABLE votes (
    decision_id INTEGER NOT NULL REFERENCES decisions (id),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    vote        TEXT NOT NULL CHECK (vote IN ('agree', 'disagree')),
    at          TEXT NOT NULL,
    PRIMARY KEY (decision_id, user_id)
) WITHOUT ROWID;

-- Orders in force over [valid_from, valid_to); ends_at is the end the
-- decision set, valid_to may be earlier when a later decision cut it short.
CREATE TABLE orders (
    id             INTEGER PRIMARY KEY,
    registrant_id  INTEGER NOT NULL REFERENCES registrants (id),
    case_id        INTEGER NOT NULL REFERENCES cases (id),
    decision_id    INTEGER NOT NULL REFERENCES decisions (id),
    kind           TEXT NOT NULL CHECK (kind IN ('interim_suspension', 'interim_conditions', 'warning', 'conditions', 'suspension', 'removal')),
    valid_from     TEXT NOT NULL,
    valid_to       TEXT,
    ends_at        TEXT,
    review_by      TEXT,
    conditions     TEXT NOT NULL DEFAULT '[]',
    public_summary TEXT NOT NULL,
    period_id      INTEGER REFERENCES registration_periods (id),
    recorded_at    TEXT NOT NULL,
    superseded_at  TEXT
);
CREATE INDEX orders_registrant ON orders (registrant_id, valid_from) WHERE superseded_at IS NULL;
CREATE INDEX orders_review ON orders (review_by) WHERE review_by IS NOT NULL AND superseded_at IS NULL;

-- +goose Down
DROP TABLE orders;
DROP TABLE votes;
DROP TABLE decisions;
DROP TABLE panel_members;
DROP TABLE case_stages;
DROP TABLE cases;
