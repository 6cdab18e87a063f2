package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probation-register/register/register"
)

// cacheFixture is a register of imported people with a running answer
// cache, and a second DB on the same file standing for another process
// (the command line, a bulk import): its commits reach the first DB's
// cache only through the file.
type cacheFixture struct {
	t       *testing.T
	db      *DB // the server's, with the cache
	other   *DB // another process's
	clock   time.Time
	mu      sync.Mutex
	numbers []string
	log     *bytes.Buffer
}

func newCacheFixture(t *testing.T, people int) *cacheFixture {
	t.Helper()
	f := &cacheFixture{t: t, clock: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), log: &bytes.Buffer{}}
	path := filepath.Join(t.TempDir(), "register.db")
	f.db, f.other = NewDB(path), NewDB(path)
	for _, db := range []*DB{f.db, f.other} {
		db.Now = f.now
		if err := db.Open(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
	}
	if people > 0 {
		f.numbers = f.importPeople(f.other, people, 0)
	}
	if err := f.db.StartAnswerCache(slog.New(slog.NewTextHandler(&syncBuffer{b: f.log}, nil))); err != nil {
		t.Fatal(err)
	}
	f.waitBuilt(1)
	return f
}

type syncBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (f *cacheFixture) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clock
}

func (f *cacheFixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = f.clock.Add(d)
}

// importPeople writes n people through db's bulk writer, a quarter each
// registered, lapsed, suspended and removed, and returns their numbers.
func (f *cacheFixture) importPeople(db *DB, n, from int) []string {
	f.t.Helper()
	statuses := []register.Status{register.StatusRegistered, register.StatusLapsed, register.StatusSuspended, register.StatusRemoved}
	rows := make([]*register.ImportRow, n)
	for i := range rows {
		k := from + i
		rows[i] = &register.ImportRow{
			Registrant: register.Registrant{FamilyName: fmt.Sprintf("Family%d", k), GivenNames: "Ada", DateOfBirth: register.MustDate("1985-04-01"), Email: fmt.Sprintf("p%d@example.org", k)},
			Qualifications: []*register.Qualification{{Level: register.LevelPSO, Title: "Level 3 Diploma in Probation Practice", AwardingBody: "Pearson",
				AwardedOn: register.MustDate("2018-06-01"), CertificateRef: fmt.Sprintf("PE-%d", k), State: register.QualificationVerified}},
			Status: statuses[k%4], RegisteredUntil: register.MustDate("2026-12-31"), AdmittedOn: register.MustDate("2019-01-07"),
		}
	}
	seq := func(yield func(*register.ImportRow, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	if got, err := NewImportService(db).Import(ctx, seq, ImportOptions{Count: n}); err != nil || got != n {
		f.t.Fatalf("import: %d %v", got, err)
	}
	numbers := make([]string, n)
	for i, r := range rows {
		numbers[i] = r.Registrant.Number
	}
	return numbers
}

// waitBuilt waits for the cache's builds-th full build.
func (f *cacheFixture) waitBuilt(builds int64) AnswerCacheStats {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, ok := f.db.AnswerCacheStats()
		if !ok {
			f.t.Fatal("the answer cache is not running")
		}
		if st.Builds >= builds {
			return st
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("no build %d in 30 s: %+v\n%s", builds, st, f.log)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stored is the answer as SQLite holds it.
func (f *cacheFixture) stored(number string) []byte {
	f.t.Helper()
	var body []byte
	if err := f.other.Reader().QueryRow(`SELECT public_json FROM registrations WHERE register_number = ?`, number).Scan(&body); err != nil {
		f.t.Fatalf("%s: %v", number, err)
	}
	return body
}

// cached is the answer in the cache, which must know it.
func (f *cacheFixture) cached(number string) []byte {
	f.t.Helper()
	a, found, err := f.db.answers.lookup(number, nil)
	if err != nil || !found || a == nil {
		f.t.Fatalf("%s: the cache does not hold it (found %v, %v)", number, found, err)
	}
	return a.body
}

func (f *cacheFixture) public(number string) string {
	f.t.Helper()
	a, err := NewPublicService(f.db).PublicRecord(context.Background(), number, nil)
	if err != nil {
		f.t.Fatalf("%s: %v", number, err)
	}
	return string(a.Body)
}

func TestAnswerCacheHoldsEveryStoredAnswer(t *testing.T) {
	f := newCacheFixture(t, 3000)
	st, _ := f.db.AnswerCacheStats()
	if !st.Complete || st.Entries != 3000 {
		t.Fatalf("after the build: %+v, want all 3000 answers", st)
	}
	for _, n := range f.numbers {
		if got, want := f.cached(n), f.stored(n); !bytes.Equal(got, want) {
			t.Fatalf("%s: cached\n%s\nstored\n%s", n, got, want)
		}
	}
	// A number not on the register is known to be absent, without SQLite.
	taken := map[string]bool{}
	for _, n := range f.numbers {
		taken[n] = true
	}
	free := register.NumberFromSerial(0)
	for serial := 1; taken[free]; serial++ {
		free = register.NumberFromSerial(serial)
	}
	if a, found, err := f.db.answers.lookup(free, nil); err != nil || !found || a != nil {
		t.Fatalf("%s: %v %v %v, want known absent", free, a, found, err)
	}
	if _, err := NewPublicService(f.db).PublicRecord(context.Background(), free, nil); register.ErrorCode(err) != register.ENOTFOUND {
		t.Fatalf("%s: %v, want not found", free, err)
	}
}

// TestAnswerCacheReadsItsOwnWrites: a write through the DB with the
// cache is in the cache when the write returns.
func TestAnswerCacheReadsItsOwnWrites(t *testing.T) {
	f := newCacheFixture(t, 200)
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	regs := NewRegistrationService(f.db)
	for i, n := range f.numbers {
		if i%4 != 0 { // the registered ones
			continue
		}
		if !strings.Contains(f.public(n), `"status":"registered"`) {
			t.Fatalf("%s: %s", n, f.public(n))
		}
		f.advance(time.Second)
		if _, err := regs.Transition(ctx, n, register.TransitionLapse, register.Date{}, "did not renew"); err != nil {
			t.Fatal(err)
		}
		if got := string(f.cached(n)); !strings.Contains(got, `"status":"lapsed"`) || got != string(f.stored(n)) {
			t.Fatalf("%s: straight after its lapse the cache holds\n%s\nand SQLite\n%s", n, got, f.stored(n))
		}
		if !strings.Contains(f.public(n), `"status":"lapsed"`) {
			t.Fatalf("%s: %s", n, f.public(n))
		}
	}
}

// TestAnswerCacheSeesOtherProcesses: a commit by another connection to
// the file (another process) is seen by the next lookup, with no wait:
// the lookup sees the WAL-index header change and catches up first.
func TestAnswerCacheSeesOtherProcesses(t *testing.T) {
	f := newCacheFixture(t, 200)
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	regs := NewRegistrationService(f.other)
	for i, n := range f.numbers[:40] {
		if i%4 != 0 {
			continue
		}
		f.advance(time.Second)
		if _, err := regs.Transition(ctx, n, register.TransitionLapse, register.Date{}, "did not renew"); err != nil {
			t.Fatal(err)
		}
		if got := f.public(n); !strings.Contains(got, `"status":"lapsed"`) {
			t.Fatalf("%s: straight after another process lapsed them: %s", n, got)
		}
		if !bytes.Equal(f.cached(n), f.stored(n)) {
			t.Fatalf("%s: the cache did not catch up", n)
		}
	}
	// A few new people: on the register at once.
	added := f.importPeople(f.other, 5, 1000)
	for _, n := range added {
		if got, want := f.public(n), string(f.stored(n)); got != want {
			t.Fatalf("%s, added by another process: served\n%s\nwant\n%s", n, got, want)
		}
	}
	// A load too large to read row by row: served from SQLite at once,
	// from memory again after a rebuild.
	before, _ := f.db.AnswerCacheStats()
	added = f.importPeople(f.other, answerCatchUpMax+500, 2000)
	for _, n := range []string{added[0], added[len(added)/2], added[len(added)-1]} {
		if got, want := f.public(n), string(f.stored(n)); got != want {
			t.Fatalf("%s, in a large load by another process: served\n%s\nwant\n%s", n, got, want)
		}
	}
	st := f.waitBuilt(before.Builds + 1)
	if want := int64(200 + 5 + answerCatchUpMax + 500); !st.Complete || st.Entries != want {
		t.Fatalf("after the rebuild: %+v, want %d answers", st, want)
	}
	for _, n := range added[:50] {
		if !bytes.Equal(f.cached(n), f.stored(n)) {
			t.Fatalf("%s: not rebuilt", n)
		}
	}
}

// TestAnswerCacheWindows: an answer is served from memory only inside
// the window in which it holds; outside it, it is derived from the
// history, as without the cache.
func TestAnswerCacheWindows(t *testing.T) {
	f := newCacheFixture(t, 8)
	registered := f.numbers[0]
	if got := f.public(registered); !strings.Contains(got, `"status":"registered"`) {
		t.Fatal(got)
	}
	// Past the registration's end (2026-12-31) with nothing written: lapsed.
	f.advance(310 * 24 * time.Hour) // 2027-01-06
	if got := f.public(registered); !strings.Contains(got, `"status":"lapsed"`) {
		t.Fatalf("after registered_until: %s", got)
	}
	public := NewPublicService(f.db)
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), `"status":"not_registered"`}, // before the history
		{time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), `"status":"registered"`},
		{time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC), `"status":"lapsed"`},
	} {
		a, err := public.PublicRecord(context.Background(), registered, &c.at)
		if err != nil || !strings.Contains(string(a.Body), c.want) {
			t.Errorf("at %s: %v %s, want %s", c.at, err, a.Body, c.want)
		}
	}
}

// TestAnswerCacheConcurrent reads answers while this process and another
// write them: every answer read is one that SQLite held, and once a write
// has returned no read gives the answer before it. Run with -race.
func TestAnswerCacheConcurrent(t *testing.T) {
	f := newCacheFixture(t, 400)
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	registered := []string{}
	for i, n := range f.numbers {
		if i%4 == 0 {
			registered = append(registered, n)
		}
	}
	var done sync.WaitGroup
	var lapsed sync.Map // numbers whose lapse has returned
	stop := make(chan struct{})
	errs := make(chan error, 16)
	for r := 0; r < 4; r++ {
		done.Add(1)
		go func() {
			defer done.Done()
			public := NewPublicService(f.db)
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := registered[rand.IntN(len(registered))]
				_, wasLapsed := lapsed.Load(n)
				a, err := public.PublicRecord(ctx, n, nil)
				if err != nil {
					errs <- err
					return
				}
				if wasLapsed && !bytes.Contains(a.Body, []byte(`"status":"lapsed"`)) {
					errs <- fmt.Errorf("%s: the answer from before a returned lapse: %s", n, a.Body)
					return
				}
			}
		}()
	}
	for i, n := range registered {
		db := f.db
		if i%2 == 1 {
			db = f.other
		}
		if _, err := NewRegistrationService(db).Transition(ctx, n, register.TransitionLapse, register.Date{}, "did not renew"); err != nil {
			t.Fatal(err)
		}
		lapsed.Store(n, true)
	}
	close(stop)
	done.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, n := range registered {
		if !bytes.Equal(f.cached(n), f.stored(n)) {
			t.Fatalf("%s: cache and SQLite differ at the end", n)
		}
	}
}

// TestAnswerCacheRebuildDropsReplaced: rewriting answers leaves the
// replaced ones in the arena until a rebuild, which serves the same
// answers from a smaller arena.
func TestAnswerCacheRebuildDropsReplaced(t *testing.T) {
	f := newCacheFixture(t, 400)
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	regs := NewRegistrationService(f.db)
	for i, n := range f.numbers {
		if i%4 == 0 {
			if _, err := regs.Transition(ctx, n, register.TransitionLapse, register.Date{}, "did not renew"); err != nil {
				t.Fatal(err)
			}
		}
	}
	g := f.db.answers.gen.Load()
	if g.live >= g.bytes.Load() || g.entries.Load() != 400 {
		t.Fatalf("live %d of %d bytes, %d entries", g.live, g.bytes.Load(), g.entries.Load())
	}
	before, _ := f.db.AnswerCacheStats()
	f.db.answers.mu.Lock()
	f.db.answers.startBuild()
	f.db.answers.mu.Unlock()
	st := f.waitBuilt(before.Builds + 1)
	if st.Entries != 400 || !st.Complete {
		t.Fatalf("after the rebuild: %+v", st)
	}
	for _, n := range f.numbers {
		if !bytes.Equal(f.cached(n), f.stored(n)) {
			t.Fatalf("%s: differs after the rebuild", n)
		}
	}
}

// TestAnswerCacheClosed: after Close, nothing is served from memory and
// nothing panics.
func TestAnswerCacheClosed(t *testing.T) {
	f := newCacheFixture(t, 20)
	f.db.Close()
	if _, err := NewPublicService(f.db).PublicRecord(context.Background(), f.numbers[0], nil); err == nil {
		t.Fatal("a closed store answered")
	}
}

func TestInstantEncoding(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(s sql.NullString) {
		v, ok := encodeInstant(s)
		if !ok {
			t.Fatalf("%v not held", s)
		}
		got := decodeInstant(v)
		if got.ok != s.Valid {
			t.Fatalf("%v: NULL-ness lost", s)
		}
		if s.Valid && formatTime(time.UnixMicro(got.us)) != s.String {
			t.Fatalf("%s came back as %s", s.String, formatTime(time.UnixMicro(got.us)))
		}
	}
	check(sql.NullString{})
	for range 100000 {
		t := time.Unix(r.Int64N(4102444800), 0)
		switch r.IntN(3) {
		case 0:
			t = t.Truncate(24 * time.Hour)
		case 1:
			t = t.Add(time.Duration(r.Int64N(1e6)) * time.Microsecond)
		}
		check(sql.NullString{String: formatTime(t), Valid: true})
	}
	if _, ok := encodeInstant(sql.NullString{String: "1969-12-31T23:59:59.000000Z", Valid: true}); ok {
		t.Fatal("an instant before 1970 was held")
	}
}
