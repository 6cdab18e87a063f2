package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// clock is a test clock shared by every handle on one database file.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

func openAt(t *testing.T, path string, c *clock) *sqlite.DB {
	t.Helper()
	db := sqlite.NewDB(path)
	db.Now = c.Now
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func countRows(t *testing.T, db *sqlite.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWebSessions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "register.db")
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	c := &clock{now: start}
	db := openAt(t, path, c)
	outer := t // the reopened handle must outlive the subtest that opens it
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	users := sqlite.NewUserService(db)
	u := &register.User{Email: "staff@example.org", Role: register.RoleRegistrant}
	if err := users.CreateUser(ctx, u, "not-a-real-hash"); err != nil {
		t.Fatal(err)
	}
	const hash, csrf = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", "csrf-token-1"
	expires := start.Add(8 * time.Hour)
	if err := users.CreateWebSession(ctx, hash, u.ID, csrf, expires); err != nil {
		t.Fatal(err)
	}

	t.Run("Found", func(t *testing.T) {
		id, gotCSRF, gotExp, err := users.FindWebSession(ctx, hash)
		if err != nil || id != u.ID || gotCSRF != csrf || !gotExp.Equal(expires) {
			t.Fatalf("FindWebSession = %d, %q, %v, %v", id, gotCSRF, gotExp, err)
		}
	})
	t.Run("SurvivesReopen", func(t *testing.T) {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = openAt(outer, path, c)
		users = sqlite.NewUserService(db)
		id, gotCSRF, _, err := users.FindWebSession(ctx, hash)
		if err != nil || id != u.ID || gotCSRF != csrf {
			t.Fatalf("after reopening: %d, %q, %v", id, gotCSRF, err)
		}
	})
	t.Run("UnknownNotFound", func(t *testing.T) {
		_, _, _, err := users.FindWebSession(ctx, "0000")
		if register.ErrorCode(err) != register.ENOTFOUND {
			t.Fatalf("unknown hash: %v", err)
		}
	})
	t.Run("DuplicateConflict", func(t *testing.T) {
		err := users.CreateWebSession(ctx, hash, u.ID, "other", expires)
		if register.ErrorCode(err) != register.ECONFLICT {
			t.Fatalf("duplicate hash: %v", err)
		}
	})
	t.Run("UnknownUserRefused", func(t *testing.T) {
		err := users.CreateWebSession(ctx, "abcd", u.ID+100, "x", expires)
		if register.ErrorCode(err) != register.EUNPROCESSABLE {
			t.Fatalf("unknown user: %v", err)
		}
	})
	t.Run("ExpiredRefusedThenDeleted", func(t *testing.T) {
		c.Set(expires)
		defer c.Set(start)
		if _, _, _, err := users.FindWebSession(ctx, hash); register.ErrorCode(err) != register.ENOTFOUND {
			t.Fatalf("expired session: %v", err)
		}
		if err := users.CreateWebSession(ctx, "fresh", u.ID, "csrf-2", expires.Add(8*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM web_sessions WHERE token_hash = ?`, hash); n != 0 {
			t.Fatalf("expired session kept after a new sign-in: %d rows", n)
		}
		if err := users.DeleteWebSession(ctx, "fresh"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("DeleteRemovesRowAndIsAudited", func(t *testing.T) {
		if err := users.CreateWebSession(ctx, "bye", u.ID, "csrf-3", expires); err != nil {
			t.Fatal(err)
		}
		if err := users.DeleteWebSession(ctx, "bye"); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM web_sessions WHERE token_hash = 'bye'`); n != 0 {
			t.Fatalf("%d rows after delete", n)
		}
		if _, _, _, err := users.FindWebSession(ctx, "bye"); register.ErrorCode(err) != register.ENOTFOUND {
			t.Fatalf("deleted session: %v", err)
		}
		if err := users.DeleteWebSession(ctx, "bye"); err != nil {
			t.Fatalf("second delete: %v", err)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'web_session.delete' AND entity_id = 'bye'`); n != 1 {
			t.Fatalf("%d delete audit entries, want 1", n)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'web_session.create'`); n != 3 {
			t.Fatalf("%d create audit entries, want 3", n)
		}
	})
	t.Run("AuditHoldsNoWholeHash", func(t *testing.T) {
		if n := countRows(t, db, `SELECT COUNT(*) FROM audit_log WHERE entity_id = ? OR after LIKE ?`, hash, "%"+hash+"%"); n != 0 {
			t.Fatalf("%d audit entries hold the whole session hash", n)
		}
	})
}
