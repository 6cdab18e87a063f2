-- +goose Up

-- "Who checked me" finds a registrant's verifications through this table
-- instead of an index on verifications: a bulk check of a thousand
-- registrants would otherwise change a thousand index pages scattered over
-- the whole index in the request's own transaction (two thirds of its
-- write time). New verifications are appended to verifications only; a
-- background indexer (register/sqlite/verifyindex.go) adds them here a
-- moment later, sorted by registrant, in short transactions that each
-- touch one stretch of the index. indexed_through is the highest
-- verification id it has added; readers look up the rows above it
-- directly, so every verification is found from its commit on.
CREATE TABLE verifications_by_registrant (
    registrant_id   INTEGER NOT NULL,
    verification_id INTEGER NOT NULL,
    PRIMARY KEY (registrant_id, verification_id)
) WITHOUT ROWID;

CREATE TABLE verifications_indexed (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    through INTEGER NOT NULL
);

INSERT INTO verifications_by_registrant (registrant_id, verification_id)
    SELECT registrant_id, id FROM verifications WHERE registrant_id IS NOT NULL ORDER BY registrant_id, id;
INSERT INTO verifications_indexed (id, through) SELECT 1, coalesce(max(id), 0) FROM verifications;
DROP INDEX verifications_registrant;

-- +goose Down
CREATE INDEX verifications_registrant ON verifications (registrant_id, id) WHERE registrant_id IS NOT NULL;
DROP TABLE verifications_indexed;
DROP TABLE verifications_by_registrant;
