package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// hammer runs writers and readers for d and returns how many operations
// succeeded and the errors that mention a locked or busy database.
func hammer(d time.Duration, writers, readers int, write, read func(i int) error) (ok int64, locked []error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	run := func(i int, f func(int) error) {
		defer wg.Done()
		for n := 0; time.Now().Before(stop); n++ {
			if err := f(i*1_000_000 + n); err != nil {
				if s := err.Error(); strings.Contains(s, "locked") || strings.Contains(s, "busy") {
					mu.Lock()
					locked = append(locked, err)
					mu.Unlock()
				}
				continue
			}
			atomic.AddInt64(&ok, 1)
		}
	}
	for i := range writers {
		wg.Add(1)
		go run(i, write)
	}
	for i := range readers {
		wg.Add(1)
		go run(writers+i, read)
	}
	wg.Wait()
	return ok, locked
}

// TestContentionNoLockedErrors: many writers and readers at once through the
// store reach no "database is locked" error.
func TestContentionNoLockedErrors(t *testing.T) {
	db := openDB(t)
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	regs := sqlite.NewRegistrantService(db)
	public := sqlite.NewPublicService(db)
	d := 1500 * time.Millisecond // test/run-long sets REGISTER_CONTENTION_SECONDS for the figures
	if secs, err := strconv.Atoi(os.Getenv("REGISTER_CONTENTION_SECONDS")); err == nil && secs > 0 {
		d = time.Duration(secs) * time.Second
	}
	ok, locked := hammer(d, 8, 8,
		func(i int) error {
			return regs.CreateRegistrant(ctx, &register.Registrant{FamilyName: "Writer", GivenNames: fmt.Sprint("W", i),
				DateOfBirth: register.MustDate("1980-01-01"), Email: fmt.Sprintf("w%d@example.org", i)})
		},
		func(i int) error {
			_, err := public.SearchPublic(ctx, "writer", 20)
			return err
		})
	if len(locked) > 0 {
		t.Fatalf("%d locked errors reached callers, first: %v", len(locked), locked[0])
	}
	if ok == 0 {
		t.Fatal("no operation succeeded")
	}
	t.Logf("contention: 8 writers and 8 readers for %s: %d operations, %d locked errors reached callers", d, ok, len(locked))
	if _, err := sqlite.NewAuditService(db).VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestContentionControl shows the check above can fail: two writer pools
// with deferred transactions and no busy timeout do report locked errors.
func TestContentionControl(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unsafe.db")
	open := func() *sql.DB {
		d, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=0&_txlock=deferred")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	a, b := open(), open()
	if _, err := a.Exec(`CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	write := func(d *sql.DB) func(int) error {
		return func(i int) error {
			tx, err := d.Begin()
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var n int
			if err := tx.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO t VALUES (?)`, n+i); err != nil {
				return err
			}
			return tx.Commit()
		}
	}
	wa, wb := write(a), write(b)
	_, locked := hammer(time.Second, 4, 4, wa, wb)
	if len(locked) == 0 {
		t.Fatal("unsafe settings produced no locked error: the contention check could not catch one")
	}
}
