package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// auditFixture is a closed database file holding a real audit chain of n
// entries, with signed checkpoints at entry n/2 and at the head.
func auditFixture(t *testing.T, n int) (path string, keys *auth.Keyring) {
	t.Helper()
	dir := t.TempDir()
	keys, _, err := auth.LoadKeyring(filepath.Join(dir, "keys"), true)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "register.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	users := sqlite.NewUserService(db)
	audit := sqlite.NewAuditService(db)
	audit.Keys = keys
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	for i := range n {
		if err := users.RecordLogin(ctx, fmt.Sprintf("user%d@example.org", i), int64(i%7), i%3 == 0, fmt.Sprintf("192.0.2.%d", i%250)); err != nil {
			t.Fatal(err)
		}
		if i+1 == n/2 || i+1 == n {
			if _, err := audit.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path, keys
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// rawEdit runs fn on a raw connection to the file with the append-only
// triggers dropped: what someone with the file and no key can do.
func rawEdit(t *testing.T, path string, fn func(db *sql.DB) error) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, trg := range []string{"audit_log_no_update", "audit_log_no_delete", "audit_checkpoints_no_update", "audit_checkpoints_no_delete"} {
		if _, err := db.Exec(`DROP TRIGGER ` + trg); err != nil {
			t.Fatal(err)
		}
	}
	if err := fn(db); err != nil {
		t.Fatal(err)
	}
}

// verify opens the file as the register does and verifies the chain.
func verify(t *testing.T, path string, keys *auth.Keyring) error {
	t.Helper()
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	audit := sqlite.NewAuditService(db)
	if keys != nil { // a nil *Keyring is not a nil Keys
		audit.Keys = keys
	}
	_, err := audit.VerifyAudit(context.Background())
	return err
}

func readChain(t *testing.T, db *sql.DB) []register.AuditEntry {
	t.Helper()
	rows, err := db.Query(`SELECT id, at, actor, addr, action, entity, entity_id, COALESCE(before, ''), COALESCE(after, ''), prev_hash, hash FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []register.AuditEntry
	for rows.Next() {
		var e register.AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Addr, &e.Action, &e.Entity, &e.EntityID, &e.Before, &e.After, &e.PrevHash, &e.Hash); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

var auditColumns = []string{"at", "actor", "addr", "action", "entity", "entity_id", "before", "after", "prev_hash", "hash"}

// tamper applies one random change of the given kind to the file.
func tamper(t *testing.T, path, kind string, rng *rand.Rand, n int) {
	rawEdit(t, path, func(db *sql.DB) error {
		switch kind {
		case "edit":
			col := auditColumns[rng.IntN(len(auditColumns))]
			_, err := db.Exec(`UPDATE audit_log SET `+col+` = COALESCE(`+col+`, '') || 'x' WHERE id = ?`, 1+rng.IntN(n))
			return err
		case "delete":
			_, err := db.Exec(`DELETE FROM audit_log WHERE id = ?`, 1+rng.IntN(n))
			return err
		case "reorder":
			i := 1 + rng.IntN(n-1)
			j := i + 1 + rng.IntN(n-i)
			// Swap the contents of two entries, keeping their ids.
			_, err := db.Exec(`UPDATE audit_log SET id = CASE id WHEN ? THEN ? ELSE ? END WHERE id IN (?, ?)`, i, -j, -i, i, j)
			if err == nil {
				_, err = db.Exec(`UPDATE audit_log SET id = -id WHERE id < 0`)
			}
			return err
		case "truncate":
			_, err := db.Exec(`DELETE FROM audit_log WHERE id > ?`, n-1-rng.IntN(n/4))
			return err
		case "rewrite":
			// Change one entry and recompute every hash after it, as someone
			// with the file and the code but not the signing key can.
			chain := readChain(t, db)
			from := rng.IntN(n)
			chain[from].Actor = "someone-else"
			for k := from; k < len(chain); k++ {
				if k > 0 {
					chain[k].PrevHash = chain[k-1].Hash
				}
				chain[k].Hash = chain[k].ComputeHash()
				if _, err := db.Exec(`UPDATE audit_log SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?`, chain[k].Actor, chain[k].PrevHash, chain[k].Hash, chain[k].ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// TestTamperDetection makes 100 random edits, deletions, reorderings,
// truncations and full rewrites of audit rows on copies of a real database
// and checks that verification catches every one.
func TestTamperDetection(t *testing.T) {
	const entries = 40
	pristine, keys := auditFixture(t, entries)
	if err := verify(t, pristine, keys); err != nil {
		t.Fatalf("the untouched chain does not verify: %v", err)
	}
	seed := uint64(os.Getpid())
	rng := rand.New(rand.NewPCG(seed, 8))
	kinds := []string{"edit", "delete", "reorder", "truncate", "rewrite"}
	caught := map[string]int{}
	byCheckpoint := 0
	dir := t.TempDir()
	for i := range 100 {
		kind := kinds[i%len(kinds)]
		path := filepath.Join(dir, fmt.Sprintf("case%03d.db", i))
		copyFile(t, pristine, path)
		tamper(t, path, kind, rng, entries)
		err := verify(t, path, keys)
		if err == nil {
			t.Errorf("case %d (%s, seed %d): tampering not caught", i, kind, seed)
			continue
		}
		caught[kind]++
		if strings.Contains(err.Error(), "checkpoint") {
			byCheckpoint++
		}
	}
	total := 0
	for _, c := range caught {
		total += c
	}
	t.Logf("tamper cases caught: %d/100 %v (%d only by the signed checkpoints)", total, caught, byCheckpoint)
	if total != 100 {
		t.Fatalf("caught %d of 100", total)
	}
}

func TestCheckpoints(t *testing.T) {
	t.Run("TailTruncationWithoutCheckpointsIsInvisible", func(t *testing.T) {
		// The control: without checkpoints the chain alone cannot see a lost
		// tail, which is why checkpoints exist.
		pristine, keys := auditFixture(t, 10)
		path := filepath.Join(t.TempDir(), "c.db")
		copyFile(t, pristine, path)
		rawEdit(t, path, func(db *sql.DB) error {
			_, err := db.Exec(`DELETE FROM audit_checkpoints; DELETE FROM audit_log WHERE id > 7`)
			return err
		})
		if err := verify(t, path, keys); err != nil {
			t.Fatalf("want the truncated chain alone to verify, got %v", err)
		}
	})
	t.Run("MiddleCheckpointRemoved", func(t *testing.T) {
		pristine, keys := auditFixture(t, 10)
		path := filepath.Join(t.TempDir(), "c.db")
		copyFile(t, pristine, path)
		rawEdit(t, path, func(db *sql.DB) error {
			_, err := db.Exec(`DELETE FROM audit_checkpoints WHERE id = 1`)
			return err
		})
		if err := verify(t, path, keys); err == nil || !strings.Contains(err.Error(), "checkpoint") {
			t.Fatalf("got %v, want a checkpoint error", err)
		}
	})
	t.Run("WrongKey", func(t *testing.T) {
		pristine, keys := auditFixture(t, 10)
		_, other := auditFixture(t, 1)
		other.Keys[0].ID = keys.Current().ID // another key claiming the same id
		if err := verify(t, pristine, other); err == nil || !strings.Contains(err.Error(), "signature") {
			t.Fatalf("got %v, want a signature error", err)
		}
	})
	t.Run("NoKeys", func(t *testing.T) {
		pristine, _ := auditFixture(t, 4)
		if err := verify(t, pristine, nil); err == nil || !strings.Contains(err.Error(), "keys") {
			t.Fatalf("got %v, want an error asking for the keys", err)
		}
	})
	t.Run("OnlyWhenTheHeadMoves", func(t *testing.T) {
		path, keys := auditFixture(t, 4)
		db := sqlite.NewDB(path)
		if err := db.Open(); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		audit := sqlite.NewAuditService(db)
		audit.Keys = keys
		for range 2 {
			if id, err := audit.Checkpoint(context.Background()); err != nil || id != 4 {
				t.Fatalf("Checkpoint = %d, %v; want 4", id, err)
			}
		}
		var count int
		if err := db.Reader().QueryRow(`SELECT COUNT(*) FROM audit_checkpoints`).Scan(&count); err != nil || count != 2 {
			t.Fatalf("%d checkpoints (%v), want 2: one at entry 2, one at the head", count, err)
		}
	})
}
