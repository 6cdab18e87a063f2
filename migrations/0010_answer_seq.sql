-- +goose Up

-- answer_seq says when a stored public answer was last written: every
-- write transaction that stores answers gives them all one number, greater
-- than any already in the table (so greater than every earlier
-- transaction's). The server's in-memory copy of the answers
-- (register/sqlite/answercache.go) reads the rows whose number is greater
-- than the last it has seen, after each of its own commits and a few times
-- a second for other processes' (a bulk import, the command line), so that
-- it never serves an answer a commit has replaced. Existing rows start at
-- 0 and are read when the copy is first built.
ALTER TABLE registrations ADD COLUMN answer_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX registrations_answer_seq ON registrations (answer_seq);

-- +goose Down
DROP INDEX registrations_answer_seq;
ALTER TABLE registrations DROP COLUMN answer_seq;
