package sqlite

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// Checkpoints are signed statements "entry N of the audit chain has hash H".
// The hash chain alone catches any edit, deletion or reordering inside the
// chain, but not the loss of its tail, nor a rewrite that recomputes every
// hash: checkpoints catch both, since only the holder of the signing key can
// make one. They are kept in the database (audit_checkpoints), not in a file,
// so that they are backed up, replicated and restored with the chain they
// cover and a restore needs nothing beside the keys. Each checkpoint signs
// the previous checkpoint's signature too, so none can be removed from the
// middle. What no record inside the database can catch is the removal of the
// newest checkpoints together with the entries they cover: for that, keep
// the head that `register audit verify` prints somewhere else (see
// docs/operations.md).

// Keys sign checkpoints and check them (auth.Keyring is one): the newest
// key signs, every key ever used must still be found by its id.
type Keys interface {
	Sign(msg []byte) (kid string, sig []byte)
	PublicKey(kid string) ed25519.PublicKey
}

// checkpointMessage is what a checkpoint signs.
func checkpointMessage(id, entryID int64, hash, at, prevSignature string) []byte {
	return []byte("npr-audit-checkpoint/v1\n" + strconv.FormatInt(id, 10) + "\n" + strconv.FormatInt(entryID, 10) + "\n" + hash + "\n" + at + "\n" + prevSignature)
}

// Checkpoint signs the head of the audit chain with the current key, unless
// the newest checkpoint covers it already, and returns the entry id covered
// (0 when the chain is empty). It is not itself audited: an audit entry
// would move the head it is meant to fix.
func (s *AuditService) Checkpoint(ctx context.Context) (int64, error) {
	if s.Keys == nil {
		return 0, errors.New("audit checkpoint: no signing keys")
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var entryID int64
	var hash string
	err = tx.QueryRow(`SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&entryID, &hash)
	if err == sql.ErrNoRows {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	var id, covered int64
	var prev string
	err = tx.QueryRow(`SELECT id, entry_id, signature FROM audit_checkpoints ORDER BY id DESC LIMIT 1`).Scan(&id, &covered, &prev)
	if err != nil && err != sql.ErrNoRows {
		return 0, err
	}
	if err == nil && covered == entryID {
		return entryID, nil
	}
	id++
	at := formatTime(tx.now)
	kid, raw := s.Keys.Sign(checkpointMessage(id, entryID, hash, at, prev))
	sig := base64.RawURLEncoding.EncodeToString(raw)
	if _, err := tx.Exec(`INSERT INTO audit_checkpoints (id, entry_id, hash, at, kid, signature) VALUES (?, ?, ?, ?, ?, ?)`,
		id, entryID, hash, at, kid, sig); err != nil {
		return 0, err
	}
	return entryID, tx.Commit()
}

// verifyCheckpoints checks every checkpoint's signature, their sequence, and
// that the entry each covers is still there with the hash it signed. Run it
// after the chain itself verifies.
func (s *AuditService) verifyCheckpoints(ctx context.Context) (int, error) {
	rows, err := s.db.reader.QueryContext(ctx, `SELECT c.id, c.entry_id, c.hash, c.at, c.kid, c.signature, a.hash
		FROM audit_checkpoints c LEFT JOIN audit_log a ON a.id = c.entry_id ORDER BY c.id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var prev string
	var want, lastEntry int64 = 1, 0
	n := 0
	for rows.Next() {
		var id, entryID int64
		var hash, at, kid, sig string
		var actual sql.NullString
		if err := rows.Scan(&id, &entryID, &hash, &at, &kid, &sig, &actual); err != nil {
			return n, err
		}
		if s.Keys == nil {
			return n, errors.New("audit checkpoints present: the signing keys are needed to check them")
		}
		key := s.Keys.PublicKey(kid)
		raw, _ := base64.RawURLEncoding.DecodeString(sig)
		switch {
		case id != want:
			return n, fmt.Errorf("audit checkpoints broken at checkpoint %d: expected checkpoint %d (checkpoints missing or reordered)", id, want)
		case key == nil:
			return n, fmt.Errorf("audit checkpoint %d: signed by unknown key %q", id, kid)
		case !ed25519.Verify(key, checkpointMessage(id, entryID, hash, at, prev), raw):
			return n, fmt.Errorf("audit checkpoint %d: signature does not verify", id)
		case entryID < lastEntry:
			return n, fmt.Errorf("audit checkpoint %d: covers entry %d, before the previous checkpoint's %d", id, entryID, lastEntry)
		case !actual.Valid:
			return n, fmt.Errorf("audit chain truncated: checkpoint %d covers entry %d, which is missing", id, entryID)
		case actual.String != hash:
			return n, fmt.Errorf("audit chain rewritten: entry %d does not have the hash checkpoint %d signed", entryID, id)
		}
		prev, want, lastEntry = sig, want+1, entryID
		n++
	}
	return n, rows.Err()
}

// NewestCheckpoint returns the entry and hash the newest checkpoint covers;
// entryID is 0 when there is none. Operators keep it outside the database.
func (s *AuditService) NewestCheckpoint(ctx context.Context) (entryID int64, hash string, err error) {
	err = s.db.reader.QueryRowContext(ctx, `SELECT entry_id, hash FROM audit_checkpoints ORDER BY id DESC LIMIT 1`).Scan(&entryID, &hash)
	if err == sql.ErrNoRows {
		return 0, "", nil
	}
	return entryID, hash, err
}
