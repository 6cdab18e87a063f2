package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register/sqlite"
)

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "register.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConnectionSettings holds several connections from each pool at once,
// so each is a distinct pooled connection, and checks every one.
func TestConnectionSettings(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	check := func(t *testing.T, c *sql.Conn, readOnly bool) {
		t.Helper()
		for pragma, want := range map[string]string{
			"journal_mode": "wal",
			"synchronous":  "2", // FULL
			"foreign_keys": "1",
			"busy_timeout": "5000",
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if strings.ToLower(got) != want {
				t.Errorf("%s = %s, want %s", pragma, got, want)
			}
		}
		_, err := c.ExecContext(ctx, "CREATE TABLE probe_write (x)")
		if readOnly && err == nil {
			t.Error("a reader connection could write")
		}
		if !readOnly && err != nil {
			t.Errorf("the writer could not write: %v", err)
		}
	}
	t.Run("Readers", func(t *testing.T) {
		var conns []*sql.Conn
		for range 4 {
			c, err := db.Reader().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			check(t, c, true)
		}
		for _, c := range conns {
			c.Close()
		}
	})
	t.Run("Writer", func(t *testing.T) {
		c, err := db.Writer().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check(t, c, false)
		// The writer pool holds one connection: a second must wait.
		ctx2, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		if c2, err := db.Writer().Conn(ctx2); err == nil {
			c2.Close()
			t.Error("the writer pool gave out a second connection")
		}
		c.Close()
	})
}

func TestMigrationsApplyOnceAndReady(t *testing.T) {
	db := openDB(t)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if err := db.Ready(context.Background()); err != nil {
		t.Fatalf("ready: %v", err)
	}
}
