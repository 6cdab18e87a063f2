-- +goose Up

-- The stored public answers move from a WITHOUT ROWID table to an ordinary
-- one keyed by registrant_id (the rowid). A WITHOUT ROWID table keeps whole
-- rows, each with its ~550-byte answer, in its interior pages: at a million
-- registrants that tree was seven levels deep with 76 MB of interior pages,
-- more than any page cache holds, so every verification read several pages
-- from the operating system. Keyed by rowid, the interior pages hold only
-- integers (about 1.6 MB in all) and the lookup by register number goes
-- through a small unique index. The columns keep their names and meaning.
--
-- standing_from and history_from are new. standing_from is the instant
-- from which the stored answer holds (it holds until changes_at): an as-at
-- question for an instant in that window is answered from the stored row,
-- like a question about now. history_from is the earliest instant that
-- anything in the registrant's history takes effect: before it, the answer
-- is the empty one (not registered, nothing shown), made from the names in
-- the stored answer. Both are NULL when unknown (the as-at answer is then
-- computed from the history). Every write of a row writes both, from the
-- same record as the answer (standingRow, register/sqlite/registration.go).
CREATE TABLE registrations_0008 (
    registrant_id     INTEGER PRIMARY KEY REFERENCES registrants (id),
    register_number   TEXT NOT NULL UNIQUE,
    status            TEXT NOT NULL,
    registered_until  TEXT NOT NULL,
    first_admitted_at TEXT NOT NULL,
    public_json       BLOB NOT NULL,
    changes_at        TEXT,
    standing_from     TEXT,
    history_from      TEXT
);

INSERT INTO registrations_0008 (registrant_id, register_number, status, registered_until, first_admitted_at, public_json, changes_at)
SELECT registrant_id, register_number, status, registered_until, first_admitted_at, public_json, changes_at
FROM registrations ORDER BY registrant_id;

DROP TABLE registrations;
ALTER TABLE registrations_0008 RENAME TO registrations;
CREATE INDEX registrations_changes_at ON registrations (changes_at) WHERE changes_at IS NOT NULL;
CREATE INDEX registrations_status ON registrations (status, registered_until);


-- +goose Down

CREATE TABLE registrations_0001 (
    register_number   TEXT PRIMARY KEY,
    registrant_id     INTEGER NOT NULL UNIQUE REFERENCES registrants (id),
    status            TEXT NOT NULL,
    registered_until  TEXT NOT NULL,
    first_admitted_at TEXT NOT NULL,
    public_json       BLOB NOT NULL,
    changes_at        TEXT
) WITHOUT ROWID;

INSERT INTO registrations_0001 (register_number, registrant_id, status, registered_until, first_admitted_at, public_json, changes_at)
SELECT register_number, registrant_id, status, registered_until, first_admitted_at, public_json, changes_at FROM registrations;

DROP TABLE registrations;
ALTER TABLE registrations_0001 RENAME TO registrations;
CREATE INDEX registrations_changes_at ON registrations (changes_at) WHERE changes_at IS NOT NULL;
CREATE INDEX registrations_status ON registrations (status, registered_until);
