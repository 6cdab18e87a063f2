package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
)

// TestStandingWindowKeptByWrites checks the window in which the stored
// answer holds, as the bulk writer and then an ordinary write record it,
// and that as-at questions inside and outside it answer as the history says.
func TestStandingWindowKeptByWrites(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "register.db"))
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return clock }
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	row := &register.ImportRow{
		Registrant: register.Registrant{FamilyName: "Okafor", GivenNames: "Ada", DateOfBirth: register.MustDate("1985-04-01"), Email: "ada@example.org"},
		Qualifications: []*register.Qualification{{Level: register.LevelPSO, Title: "Level 3 Diploma in Probation Practice", AwardingBody: "Pearson",
			AwardedOn: register.MustDate("2018-06-01"), CertificateRef: "PE-1", State: register.QualificationVerified}},
		Status: register.StatusRegistered, RegisteredUntil: register.MustDate("2027-01-31"), AdmittedOn: register.MustDate("2019-01-07"),
	}
	rows := func(yield func(*register.ImportRow, error) bool) { yield(row, nil) }
	if n, err := NewImportService(db).Import(ctx, rows, ImportOptions{Count: 1}); err != nil || n != 1 {
		t.Fatalf("import: %d %v", n, err)
	}
	number := row.Registrant.Number
	window := func() (standingFrom, historyFrom sql.NullString) {
		if err := db.Reader().QueryRow(`SELECT standing_from, history_from FROM registrations WHERE register_number = ?`, number).Scan(&standingFrom, &historyFrom); err != nil {
			t.Fatal(err)
		}
		return standingFrom, historyFrom
	}
	// Admitted on 2019-01-07 with a qualification awarded before: both
	// the standing and the history start at the admission.
	if from, first := window(); from.String != "2019-01-07T00:00:00.000000Z" || first.String != from.String {
		t.Fatalf("imported: standing_from %v, history_from %v, want the admission", from, first)
	}

	clock = clock.Add(24 * time.Hour)
	if _, err := NewRegistrationService(db).Transition(ctx, number, register.TransitionLapse, register.Date{}, "did not renew"); err != nil {
		t.Fatal(err)
	}
	// The lapse starts a new standing now; the history still starts at
	// the admission.
	if from, first := window(); from.String != formatTime(clock) || first.String != "2019-01-07T00:00:00.000000Z" {
		t.Fatalf("after a lapse: standing_from %v, history_from %v, want now and the admission", from, first)
	}
	public := NewPublicService(db)
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), `"status":"registered"`},
		{clock.Add(-time.Hour), `"status":"registered"`},
		{clock.Add(time.Hour), `"status":"lapsed"`},
		{time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), `"status":"not_registered"`},
	} {
		a, err := public.PublicRecord(ctx, number, &c.at)
		if err != nil {
			t.Fatalf("at %s: %v", c.at, err)
		}
		if !strings.Contains(string(a.Body), c.want) {
			t.Errorf("at %s: want %s in %s", c.at, c.want, a.Body)
		}
	}
	if a, err := public.PublicRecord(ctx, number, nil); err != nil || !strings.Contains(string(a.Body), `"status":"lapsed"`) {
		t.Errorf("now: %v %s", err, a.Body)
	}
}

// TestBulkAuditHash checks the bulk writer's hand-written canonical form
// against register.AuditEntry.ComputeHash, escapes and fallbacks included.
func TestBulkAuditHash(t *testing.T) {
	w := &bulkWriter{}
	for i, e := range []register.AuditEntry{
		{ID: 1, At: "2026-03-02T10:00:00.000000Z", Actor: "system", Action: "registrant.import", Entity: "registrant", EntityID: "PR0000018",
			After: `{"register_number":"PR0000018","id":1,"sha256":"ab"}`, PrevHash: register.GenesisHash},
		{ID: 4097, At: "x", Actor: `cli <admin> & "root" \ path`, Addr: "127.0.0.1", Action: "a", Entity: "e", EntityID: "1", Before: "", After: "{}", PrevHash: "ff"},
		{ID: 3, Actor: "Zoë", After: "line\nbreak", PrevHash: "00"},
		{ID: 4, Actor: "bad \xff byte", PrevHash: "00"},
		{ID: 5, Actor: "tab\there \u2028", PrevHash: "00"},
	} {
		got, err := w.hash(&e)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if want := e.ComputeHash(); got != want {
			t.Errorf("entry %d: hash %s, want %s", i, got, want)
		}
	}
}

// TestImportJournalMode checks that a bulk write leaves the database in
// write-ahead-log mode, both when it could write through a rollback
// journal (no one else on the file) and when a reader held it.
func TestImportJournalMode(t *testing.T) {
	db := openTestDB(t)
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	rows := func(n int) func(func(*register.ImportRow, error) bool) {
		return func(yield func(*register.ImportRow, error) bool) {
			for i := range n {
				r := &register.ImportRow{
					Registrant: register.Registrant{FamilyName: "Mensah", GivenNames: "Kofi", DateOfBirth: register.MustDate("1990-02-03"), Email: "k@example.org"},
					Status:     register.StatusRegistered, RegisteredUntil: register.DateOf(db.Now()).AddDate(1, 0, 0), AdmittedOn: register.MustDate("2020-01-06").AddDate(0, 0, i),
				}
				if !yield(r, nil) {
					return
				}
			}
		}
	}
	mode := func() string {
		var m string
		if err := db.Writer().QueryRow(`PRAGMA journal_mode`).Scan(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if n, err := NewImportService(db).Import(ctx, rows(300), ImportOptions{Count: 300}); err != nil || n != 300 {
		t.Fatalf("import alone: %d %v", n, err)
	}
	if m := mode(); m != "wal" {
		t.Fatalf("after an import alone: journal_mode %s", m)
	}
	// A reader in the middle of a read transaction keeps the file.
	rtx, err := db.ReadTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var before int
	if err := rtx.QueryRow(`SELECT COUNT(*) FROM registrants`).Scan(&before); err != nil || before != 300 {
		t.Fatalf("reader: %d %v", before, err)
	}
	if n, err := NewImportService(db).Import(ctx, rows(200), ImportOptions{Count: 200}); err != nil || n != 200 {
		t.Fatalf("import beside a reader: %d %v", n, err)
	}
	var still int
	if err := rtx.QueryRow(`SELECT COUNT(*) FROM registrants`).Scan(&still); err != nil || still != 300 {
		t.Errorf("the reader's snapshot moved: %d %v", still, err)
	}
	rtx.Rollback()
	if m := mode(); m != "wal" {
		t.Fatalf("after an import beside a reader: journal_mode %s", m)
	}
	// The writer's settings are as Open made them.
	var busy, cache, keys int
	if err := db.Writer().QueryRow(`SELECT * FROM pragma_busy_timeout, pragma_cache_size, pragma_foreign_keys`).Scan(&busy, &cache, &keys); err != nil || busy != 5000 || cache != -2000 || keys != 1 {
		t.Errorf("writer after imports: busy_timeout %d, cache_size %d, foreign_keys %d (%v)", busy, cache, keys, err)
	}
	var n int
	if err := db.Reader().QueryRow(`SELECT COUNT(*) FROM registrations`).Scan(&n); err != nil || n != 500 {
		t.Errorf("readers see %d registrations, want 500 (%v)", n, err)
	}
}
