package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/probation-register/register/register"
)

// IdempotencyTTL is how long an answer stays replayable.
const IdempotencyTTL = 24 * time.Hour

// Idempotency carries one request's Idempotency-Key through the store. The
// request's write transaction is not committed by its own Commit: it is held
// until the answer is known, and Finish then stores the answer in that same
// transaction and commits both, so that a write and the answer that a retry
// will replay are never one without the other.
//
// Requests that write more than once, or read after writing, commit the
// earlier transaction on the next BeginTx or ReadTx (so they see their own
// writes and never wait on themselves); their answer is then stored by the
// last write transaction, or by one of its own when none follows.
type Idempotency struct {
	db                          *DB
	principal, key, requestHash string
	held                        *Tx
	released                    bool
}

type idempotencyKey struct{}

// Track starts holding the writes made with the returned context for one
// request's Idempotency-Key. Call finish with the answer (it stores it with
// the write and commits), or abandon to roll a held write back.
func (db *DB) Track(ctx context.Context, principal, key, requestHash string) (_ context.Context, finish func(ctx context.Context, status int, body []byte) error, abandon func()) {
	i := &Idempotency{db: db, principal: principal, key: key, requestHash: requestHash}
	return context.WithValue(ctx, idempotencyKey{}, i), i.Finish, i.Abandon
}

func idempotencyFrom(ctx context.Context) *Idempotency {
	i, _ := ctx.Value(idempotencyKey{}).(*Idempotency)
	return i
}

// FindAnswer returns the unexpired answer stored for principal and key;
// status is 0 when there is none.
func (db *DB) FindAnswer(ctx context.Context, principal, key string) (requestHash string, status int, body []byte, err error) {
	err = db.reader.QueryRowContext(ctx, `SELECT request_hash, status, body FROM idempotency_keys
		WHERE principal = ? AND key = ? AND created_at >= ?`, principal, key, formatTime(db.now().Add(-IdempotencyTTL))).
		Scan(&requestHash, &status, &body)
	if err == sql.ErrNoRows {
		return "", 0, nil, nil
	}
	return requestHash, status, body, err
}

// hold keeps tx open in place of committing it.
func (i *Idempotency) hold(tx *Tx) error {
	if i.held != nil && i.held != tx {
		if err := i.release(); err != nil {
			return err
		}
	}
	i.held = tx
	return nil
}

// releaseIfAny commits the held transaction, if i holds one: the request
// is about to begin another and must see its own write.
func (i *Idempotency) releaseIfAny() error {
	if i == nil {
		return nil
	}
	return i.release()
}

// release commits a held transaction without the answer.
func (i *Idempotency) release() error {
	if i.held == nil {
		return nil
	}
	tx := i.held
	i.held, i.released = nil, true
	return tx.commit()
}

// Finish stores the answer with the request's write and commits it. When
// the request wrote nothing it stores nothing, so that a retry runs afresh.
// A unique-key failure means a concurrent request with the same key won: the
// write is rolled back and Finish reports a conflict.
func (i *Idempotency) Finish(ctx context.Context, status int, body []byte) error {
	tx := i.held
	i.held = nil
	if tx == nil {
		if !i.released {
			return nil
		}
		var err error
		if tx, err = i.db.BeginTx(ctx); err != nil {
			return err
		}
	}
	defer tx.Tx.Rollback()
	if body == nil {
		body = []byte{} // a 204 has no body; the column is NOT NULL
	}
	if _, err := tx.Exec(`DELETE FROM idempotency_keys WHERE created_at < ?`, formatTime(tx.now.Add(-IdempotencyTTL))); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO idempotency_keys (principal, key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		i.principal, i.key, i.requestHash, status, body, formatTime(tx.now)); err != nil {
		if isUnique(err) {
			return register.Errorf(register.ECONFLICT, "Another request with this Idempotency-Key was processed at the same time; retry to get its answer.")
		}
		return err
	}
	return tx.commit()
}

// Abandon rolls back a held write whose answer will not be sent.
func (i *Idempotency) Abandon() {
	if i.held != nil {
		i.held.Tx.Rollback()
		i.held = nil
	}
}

// Commit commits, or, under an Idempotency, holds the transaction for Finish.
func (tx *Tx) Commit() error {
	if tx.idem != nil {
		return tx.idem.hold(tx)
	}
	return tx.commit()
}

// Rollback rolls back, unless the transaction is held for Finish: every
// write's deferred Rollback then leaves the held write alone.
func (tx *Tx) Rollback() error {
	if tx.idem != nil && tx.idem.held == tx {
		return nil
	}
	return tx.Tx.Rollback()
}
