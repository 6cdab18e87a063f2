package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/probation-register/register/register"
)

// audit appends an entry to the hash chain inside tx. before and after are
// snapshots of the entity (nil when it did not exist or is gone).
func (tx *Tx) audit(action, entity, entityID string, before, after any) error {
	e := register.AuditEntry{
		At:       formatTime(tx.now),
		Actor:    tx.actor.Name,
		Addr:     tx.actor.Addr,
		Action:   action,
		Entity:   entity,
		EntityID: entityID,
		Before:   snapshot(before),
		After:    snapshot(after),
	}
	err := tx.QueryRow(`SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&e.ID, &e.PrevHash)
	if err == sql.ErrNoRows {
		e.ID, e.PrevHash = 0, register.GenesisHash
	} else if err != nil {
		return err
	}
	e.ID++
	e.Hash = e.ComputeHash()
	_, err = tx.Exec(`INSERT INTO audit_log (id, at, actor, addr, action, entity, entity_id, before, after, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.At, e.Actor, e.Addr, e.Action, e.Entity, e.EntityID, e.Before, e.After, e.PrevHash, e.Hash)
	return err
}

func snapshot(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sqlite: audit snapshot: %v", err)) // register types always marshal
	}
	return string(b)
}

// AuditService checks the audit chain and its signed checkpoints.
type AuditService struct {
	db *DB
	// Keys sign and check checkpoints (checkpoint.go); needed once any exist.
	Keys Keys
}

// NewAuditService returns the audit chain checker.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db} }

// VerifyAudit walks the whole chain in id order, then checks the signed
// checkpoints against it.
func (s *AuditService) VerifyAudit(ctx context.Context) (int, error) {
	rows, err := s.db.reader.QueryContext(ctx, `SELECT id, at, actor, addr, action, entity, entity_id,
		COALESCE(before, ''), COALESCE(after, ''), prev_hash, hash FROM audit_log ORDER BY id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	prev, want := register.GenesisHash, int64(1)
	n := 0
	for rows.Next() {
		var e register.AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Addr, &e.Action, &e.Entity, &e.EntityID, &e.Before, &e.After, &e.PrevHash, &e.Hash); err != nil {
			return n, err
		}
		switch {
		case e.ID != want:
			return n, fmt.Errorf("audit chain broken at entry %d: expected entry %d (entries missing or reordered)", e.ID, want)
		case e.PrevHash != prev:
			return n, fmt.Errorf("audit chain broken at entry %d: prev_hash does not match the hash of entry %d", e.ID, e.ID-1)
		case e.ComputeHash() != e.Hash:
			return n, fmt.Errorf("audit chain broken at entry %d: contents do not match its hash", e.ID)
		}
		prev, want = e.Hash, want+1
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	_, err = s.verifyCheckpoints(ctx)
	return n, err
}
