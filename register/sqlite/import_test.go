package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"

	"github.com/probation-register/register/register"
)

// TestNumberPool checks that every way of numbering gives out distinct,
// valid numbers that are not already taken, until the space is full.
func TestNumberPool(t *testing.T) {
	db := openTestDB(t)
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	existing := map[string]bool{}
	for range 3 {
		r := &register.Registrant{FamilyName: "Taken", GivenNames: "Number", DateOfBirth: register.MustDate("1980-01-01"), Email: "t@example.org"}
		if err := NewRegistrantService(db).CreateRegistrant(ctx, r); err != nil {
			t.Fatal(err)
		}
		existing[r.Number] = true
	}

	for _, c := range []struct {
		name  string
		opt   ImportOptions
		draws int
	}{
		{"Random", ImportOptions{}, 1000},
		{"RandomAhead", ImportOptions{Count: 1000}, 1200},
		{"Shuffled", ImportOptions{Count: 600_000}, 600_100},
		{"SpreadFillsTheSpace", ImportOptions{Spread: true, Seed: 42, Count: 10}, register.NumberSpace - 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx, err := db.ReadTx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			p, err := loadNumbers(tx, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			seen := make(map[string]bool, c.draws)
			prev := ""
			for i := range c.draws {
				n, err := p.next()
				if err != nil {
					t.Fatalf("draw %d: %v", i, err)
				}
				if _, err := register.ParseNumber(n); err != nil {
					t.Fatalf("draw %d: %s: %v", i, n, err)
				}
				if seen[n] || existing[n] {
					t.Fatalf("draw %d: %s given out twice", i, n)
				}
				seen[n] = true
				if i < c.opt.Count && n < prev {
					t.Fatalf("draw %d: numbers drawn ahead come in ascending order: %s after %s", i, n, prev)
				}
				prev = n
			}
			if c.draws == register.NumberSpace-3 {
				if _, err := p.next(); register.ErrorCode(err) != register.ECONFLICT {
					t.Fatalf("a full space: want ECONFLICT, got %v", err)
				}
			}
		})
	}
}

// TestBulkTable checks the bulk writer's way of running a multi-row INSERT
// on the driver's connection, through Query: every value arrives with its
// type (converted as database/sql converts it), a short last statement is
// flushed, and a conflict is an error that ends the transaction (OR
// ROLLBACK), never a silent no-op.
func TestBulkTable(t *testing.T) {
	db := openTestDB(t)
	w := db.Writer()
	if _, err := w.Exec(`CREATE TABLE fused (id INTEGER PRIMARY KEY, s TEXT, b BLOB, n TEXT)`); err != nil {
		t.Fatal(err)
	}
	type label string
	// load adds rows to a two-row statement in one transaction on one
	// connection, flushes, and commits unless the writing failed.
	load := func(before string, rows ...[]any) error {
		ctx := context.Background()
		conn, err := w.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if before != "" {
			if _, err := tx.Exec(before); err != nil {
				t.Fatal(err)
			}
		}
		table := &bulkTable{insert: `INSERT OR ROLLBACK INTO fused (id, s, b, n) VALUES `, columns: 4, rows: 2}
		var werr error
		if err := conn.Raw(func(dc any) error {
			sc := dc.(*sqlite3.SQLiteConn)
			defer func() {
				if table.full != nil {
					table.full.Close()
				}
			}()
			for _, r := range rows {
				if werr = table.add(sc, r...); werr != nil {
					return nil
				}
			}
			werr = table.flush(sc)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if werr != nil {
			return werr
		}
		return tx.Commit()
	}
	if err := load("",
		[]any{int64(1), "één", []byte(`{"a":1}`), nil},
		[]any{2, "", []byte{0, 1}, nil}, // an int, as database/sql would take it
		[]any{int64(3), label("typed"), []byte{2}, "last, flushed alone"},
	); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := w.QueryRow(`SELECT group_concat(id || ':' || typeof(s) || ':' || s || ':' || typeof(b) || ':' || hex(b) || ':' || typeof(n), ' ') FROM fused`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := "1:text:één:blob:7B2261223A317D:null 2:text::blob:0001:null 3:text:typed:blob:02:text"; got != want {
		t.Fatalf("rows written: got %q, want %q", got, want)
	}

	err := load(`INSERT INTO fused (id, s, b) VALUES (4, 'kept only if committed', x'00')`,
		[]any{int64(5), "x", []byte{1}, nil}, []any{int64(1), "clash", []byte{2}, nil})
	if err == nil {
		t.Fatal("a duplicate id was written without an error")
	}
	if err := load("", []any{struct{}{}, "x", nil, nil}); err == nil || !strings.Contains(err.Error(), "column 1") {
		t.Fatalf("a value of no SQL type: want an error naming column 1, got %v", err)
	}
	var n int
	if err := w.QueryRow(`SELECT count(*) FROM fused`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("after the conflict the table has %d rows, want the 3 committed before", n)
	}
}

// TestImportCancelled checks that a load whose context is cancelled part
// way stops at the next batch, reports the cancellation and writes nothing:
// not the batches before it, and not the indexes it set aside.
func TestImportCancelled(t *testing.T) {
	db := openTestDB(t)
	ctx, cancel := context.WithCancel(register.NewContextWithActor(context.Background(), register.CLIActor))
	defer cancel()
	made := 0
	rows := func(yield func(*register.ImportRow, error) bool) {
		for made = 0; made < 100_000; made++ {
			if made == 2000 {
				cancel() // after several batches have been written
			}
			row := &register.ImportRow{
				Registrant: register.Registrant{FamilyName: "Okafor", GivenNames: fmt.Sprint("Ada ", made), DateOfBirth: register.MustDate("1985-04-01"), Email: "ada@example.org"},
				Status:     register.StatusApplicant,
			}
			if !yield(row, nil) {
				return
			}
		}
	}
	n, err := NewImportService(db).Import(ctx, rows, ImportOptions{})
	if !errors.Is(err, context.Canceled) || n != 0 {
		t.Fatalf("want a cancelled load, got %d written, %v", n, err)
	}
	if made >= 100_000 {
		t.Fatal("the load read every row after it was cancelled")
	}
	var registrants, indexes int
	if err := db.Reader().QueryRow(`SELECT (SELECT COUNT(*) FROM registrants), (SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('registrations_status', 'registrations_changes_at'))`).Scan(&registrants, &indexes); err != nil {
		t.Fatal(err)
	}
	if registrants != 0 || indexes != 2 {
		t.Fatalf("after a cancelled load: %d registrants, %d of the 2 deferred indexes", registrants, indexes)
	}
}

// TestAppendCanonString checks the bulk writer's hand-written string
// encoding against encoding/json's on every printable ASCII character,
// runs with and without escapes, and refuses what is not printable ASCII.
func TestAppendCanonString(t *testing.T) {
	var all strings.Builder
	for c := byte(0x20); c <= 0x7e; c++ {
		all.WriteByte(c)
	}
	for _, s := range []string{"", "plain", all.String(), `"`, `a"b\c<d>e&f`, `{"register_number":"PR0000001","id":1}`, "<<>>&&", `\\`} {
		want, _ := json.Marshal(s)
		if got := appendCanonString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("%q: got %s, want x%s", s, got, want)
		}
	}
	for _, s := range []string{"tab\there", "é", "line\n", "\x7f", "ok then \x00"} {
		if got := appendCanonString(nil, s); got != nil {
			t.Errorf("%q is not printable ASCII: got %q, want nil", s, got)
		}
	}
}

// TestRowDigest pins the digest an import's audit entry carries: SHA-256
// over each value as its type letter, length and bytes, in order, however
// the values are grouped, so that entries written before and after any
// change to the writer can be checked the same way.
func TestRowDigest(t *testing.T) {
	var d rowDigest
	d.reset()
	d.add([]any{int64(42), "Smith", nil})
	d.add([]any{[]byte(`{"a":1}`), 7})
	want := sha256.Sum256([]byte(`i42;s5:Smith;n;b7:{"a":1};i7;`))
	if got := d.sum(); !bytes.Equal(got, want[:]) {
		t.Fatalf("digest %x, want %x", got, want)
	}
	d.reset()
	d.add([]any{int64(42), "Smith", nil, []byte(`{"a":1}`), 7})
	if got := d.sum(); !bytes.Equal(got, want[:]) {
		t.Fatalf("the same values in one group: digest %x, want %x", got, want)
	}
	// A value longer than digestCopyMax is hashed in place, to the same digest.
	long := bytes.Repeat([]byte("x"), digestCopyMax+1)
	d.reset()
	d.add([]any{"a", long, int64(1)})
	wantLong := sha256.Sum256([]byte(fmt.Sprintf("s1:a;b%d:%s;i1;", len(long), long)))
	if got := d.sum(); !bytes.Equal(got, wantLong[:]) {
		t.Fatalf("a long value: digest %x, want %x", got, wantLong)
	}
}
