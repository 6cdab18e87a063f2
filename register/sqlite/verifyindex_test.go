package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/probation-register/register/migrations"
	"github.com/probation-register/register/register"
)

// verificationFixture is a register of people and an organisation that
// checks them; "who checked me" is compared with a full scan of the
// verifications table at every step.
type verificationFixture struct {
	*cacheFixture
	orgs *OrganisationService
	org  int64
	ids  map[string]int64 // registrant id by register number
}

func newVerificationFixture(t *testing.T, people int) *verificationFixture {
	f := &verificationFixture{cacheFixture: newCacheFixture(t, people), ids: map[string]int64{}}
	f.orgs = NewOrganisationService(f.db)
	o := &register.Organisation{Name: "Northgate Probation Agency", Kind: register.OrgAgency}
	if err := f.orgs.CreateOrganisation(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	f.org = o.ID
	for _, n := range f.numbers {
		var id int64
		if err := f.db.reader.QueryRow(`SELECT id FROM registrants WHERE register_number = ?`, n).Scan(&id); err != nil {
			t.Fatal(err)
		}
		f.ids[n] = id
	}
	return f
}

// check makes one bulk check of items numbers, cycling through the
// register from offset, plus one number that is not on the register.
func (f *verificationFixture) check(svc *OrganisationService, items, offset int) {
	f.t.Helper()
	list := []register.CheckItem{{Number: "NPR-999999-Z"}}
	for i := range items {
		list = append(list, register.CheckItem{Number: f.numbers[(offset+i)%len(f.numbers)]})
	}
	if _, _, err := svc.Check(context.Background(), f.org, register.PurposePlacement, nil, list); err != nil {
		f.t.Fatal(err)
	}
}

// indexState is the indexed mark, the number of index entries, the highest
// verification id and the number of verifications that name someone.
func (f *verificationFixture) indexState() (through, entries, maxID, named int64) {
	f.t.Helper()
	err := f.db.reader.QueryRow(`SELECT (SELECT through FROM verifications_indexed), (SELECT count(*) FROM verifications_by_registrant),
		(SELECT coalesce(max(id), 0) FROM verifications), (SELECT count(registrant_id) FROM verifications)`).Scan(&through, &entries, &maxID, &named)
	if err != nil {
		f.t.Fatal(err)
	}
	return
}

// wantFound compares every person's "who checked me" with a full scan.
func (f *verificationFixture) wantFound(step string) {
	f.t.Helper()
	rows, err := f.db.reader.Query(`SELECT registrant_id, id FROM verifications WHERE registrant_id IS NOT NULL ORDER BY id DESC`)
	if err != nil {
		f.t.Fatal(err)
	}
	want := map[int64][]int64{}
	for rows.Next() {
		var r, id int64
		if err := rows.Scan(&r, &id); err != nil {
			f.t.Fatal(err)
		}
		if len(want[r]) < register.MaxVerifications {
			want[r] = append(want[r], id)
		}
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	for n, r := range f.ids {
		vs, err := f.orgs.FindVerifications(context.Background(), r)
		if err != nil {
			f.t.Fatal(err)
		}
		got := make([]int64, len(vs))
		for i, v := range vs {
			got[i] = v.ID
			if v.Number != n || v.OrganisationID != f.org || v.Purpose != register.PurposePlacement {
				f.t.Fatalf("%s: %s: verification %+v", step, n, v)
			}
		}
		if !slices.Equal(got, want[r]) {
			f.t.Fatalf("%s: %s was checked in verifications %v, found %v", step, n, want[r], got)
		}
	}
}

func TestVerificationIndex(t *testing.T) {
	f := newVerificationFixture(t, 40)
	ctx := context.Background()
	// More entries than one chunk, spread over everyone.
	f.check(f.orgs, 900, 0)
	f.check(f.orgs, 900, 7)
	f.check(f.orgs, 900, 13)
	through, entries, maxID, named := f.indexState()
	if through != 0 || entries != 0 || named != 2700 || maxID != 2703 {
		t.Fatalf("before indexing: through %d, entries %d, max id %d, named %d", through, entries, maxID, named)
	}
	f.wantFound("nothing indexed")

	// A pass stopped after its first chunk: entries without the mark.
	rows, err := f.db.reader.Query(`SELECT registrant_id, id FROM verifications WHERE registrant_id IS NOT NULL ORDER BY registrant_id, id LIMIT ?`, verificationIndexChunk)
	if err != nil {
		t.Fatal(err)
	}
	var first []verificationEntry
	for rows.Next() {
		var e verificationEntry
		if err := rows.Scan(&e.registrant, &e.id); err != nil {
			t.Fatal(err)
		}
		first = append(first, e)
	}
	if err := f.db.addVerificationEntries(ctx, first, false, maxID); err != nil {
		t.Fatal(err)
	}
	if through, entries, _, _ = f.indexState(); through != 0 || entries != verificationIndexChunk {
		t.Fatalf("after one chunk: through %d, entries %d", through, entries)
	}
	f.wantFound("one chunk indexed, mark not moved") // each found once, not twice

	n, err := f.db.IndexVerifications(ctx)
	if err != nil || n != 2700 {
		t.Fatalf("indexing: %d entries, %v", n, err)
	}
	if through, entries, _, _ = f.indexState(); through != maxID || entries != named {
		t.Fatalf("indexed: through %d (want %d), entries %d (want %d)", through, maxID, entries, named)
	}
	f.wantFound("all indexed")
	if n, err := f.db.IndexVerifications(ctx); err != nil || n != 0 {
		t.Fatalf("indexing again: %d, %v", n, err)
	}

	// New verifications after the mark, by this process and by another.
	f.check(f.orgs, 50, 3)
	f.check(NewOrganisationService(f.other), 50, 5)
	f.wantFound("indexed, then more checks")
	if through, _, maxID, _ = f.indexState(); through >= maxID {
		t.Fatalf("through %d, max id %d: new checks are already indexed", through, maxID)
	}

	// The server's indexer adds them, and stops with Close.
	f.db.StartVerificationIndex(slog.New(slog.NewTextHandler(&syncBuffer{b: f.log}, nil)))
	deadline := time.Now().Add(20 * time.Second)
	for {
		through, entries, maxID, named = f.indexState()
		if through == maxID && entries == named {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the indexer did not catch up in 20 s: through %d of %d, %d entries of %d\n%s", through, maxID, entries, named, f.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.wantFound("indexed in the background")
	done := make(chan error)
	go func() { done <- f.db.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop the indexer in 10 s")
	}
}

// TestFindVerificationsPlan holds "who checked me" to index searches: a
// scan of the verifications table would grow with every check ever made.
func TestFindVerificationsPlan(t *testing.T) {
	db := openTestDB(t)
	rows, err := db.reader.Query(`EXPLAIN QUERY PLAN `+findVerificationsQuery, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	for _, want := range []string{
		"SEARCH verifications_by_registrant USING PRIMARY KEY (registrant_id=?)",
		"SEARCH verifications USING INTEGER PRIMARY KEY (rowid>?)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	for _, line := range plan {
		if line == "SCAN verifications" || line == "SCAN v" {
			t.Errorf("plan scans a table: %q\n%s", line, text)
		}
	}
}

// TestVerificationIndexMigration: verifications made before migration 0011
// are indexed by it, and the index on verifications goes.
func TestVerificationIndexMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "register.db")
	raw, err := sql.Open("sqlite3", "file:"+path) // foreign keys off: verifications of made-up registrants
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.UpTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		var registrant any = int64(i%7 + 1)
		if i%10 == 9 {
			registrant = nil
		}
		if _, err := raw.Exec(`INSERT INTO verifications (registrant_id, register_number, organisation_id, method, purpose, checked_at, as_at)
			VALUES (?, ?, NULL, 'share_code', 'share_code', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`, registrant, fmt.Sprint("N", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	var through, entries, oldIndex int64
	if err := raw.QueryRow(`SELECT (SELECT through FROM verifications_indexed), (SELECT count(*) FROM verifications_by_registrant),
		(SELECT count(*) FROM sqlite_schema WHERE name = 'verifications_registrant')`).Scan(&through, &entries, &oldIndex); err != nil {
		t.Fatal(err)
	}
	if through != 30 || entries != 27 || oldIndex != 0 {
		t.Fatalf("after migrating: through %d, %d entries, old index present: %d", through, entries, oldIndex)
	}
	if _, err := p.DownTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'verifications_registrant'`).Scan(&oldIndex); err != nil || oldIndex != 1 {
		t.Fatalf("after migrating down: old index present: %d, %v", oldIndex, err)
	}
}
