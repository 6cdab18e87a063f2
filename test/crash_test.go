package test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashTrials is how many SIGKILLs the crash test makes: a few in `go test`,
// more with REGISTER_CRASH_TRIALS (test/run-long uses 50).
func crashTrials(t *testing.T) int {
	if s := os.Getenv("REGISTER_CRASH_TRIALS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("REGISTER_CRASH_TRIALS=%q is not a positive number", s)
		}
		return n
	}
	return 3
}

// ledger is what the clients were told: key → register number, and for
// bulk checks key → items checked.
type ledger struct {
	mu      sync.Mutex
	acked   map[string]string
	checks  map[string]int
	retries int
}

// numbers returns up to n register numbers acknowledged so far.
func (l *ledger) numbers(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, number := range l.acked {
		if len(out) == n {
			break
		}
		out = append(out, number)
	}
	return out
}

// TestCrashSafety runs concurrent clients creating registrants, and an
// agency making bulk checks of them, each request with an Idempotency-Key
// retried until answered, while the register is killed with SIGKILL at
// random moments and restarted. Afterwards every answered write is present
// exactly once, "who checked me" finds every verification (its index is
// written in the background and was killed half way many times), SQLite's
// checks pass and the audit chain verifies.
func TestCrashSafety(t *testing.T) {
	trials := crashTrials(t)
	data, email := setup(t)
	register(t, data, password+"\n", "user", "add", "--email", "admin@example.org", "--role", "admin", "--password-stdin")
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	l := &ledger{acked: map[string]string{}, checks: map[string]int{}}

	var mu sync.Mutex // guards url and token across restarts
	srv := start(t, data)
	url, token := srv.url, login(t, srv, email)
	agencyKey := apiKey(t, srv, login(t, srv, "admin@example.org"))
	current := func() (string, string) {
		mu.Lock()
		defer mu.Unlock()
		return url, token
	}

	// untilAnswered retries one request with the same key until it is
	// answered with want (through kills, too), counting the attempts
	// refused on the way; false after an answer that is neither want nor
	// one of retry.
	untilAnswered := func(key string, want int, retry []int, send func(url, token string) (int, map[string]any, error)) (map[string]any, bool) {
		for attempt := 0; ; attempt++ {
			u, tok := current()
			status, m, err := send(u, tok)
			if err == nil && status == want {
				l.mu.Lock()
				l.retries += attempt
				l.mu.Unlock()
				return m, true
			}
			if err == nil && !slices.Contains(retry, status) {
				t.Errorf("key %s: status %d %v", key, status, m)
				return nil, false
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	const clients = 4
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				key := fmt.Sprintf("c%d-%d-%d", c, n, seed)
				body := map[string]any{"family_name": "Crash " + key, "given_names": "Test", "date_of_birth": "1980-01-01", "email": key + "@example.org"}
				m, ok := untilAnswered(key, 201, []int{401, 409}, func(u, tok string) (int, map[string]any, error) {
					return call(context.Background(), "POST", u+"/v1/registrants", tok, key, body)
				})
				if !ok {
					return
				}
				l.mu.Lock()
				l.acked[key] = m["register_number"].(string)
				l.mu.Unlock()
				if ctx.Err() != nil {
					return
				}
			}
		}()
	}

	// The agency: checks of up to 40 registrants and one unknown number.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ctx.Err() == nil; n++ {
			numbers := l.numbers(40)
			if len(numbers) == 0 {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			items := []map[string]any{{"register_number": "PR0000000"}}
			for _, number := range numbers {
				items = append(items, map[string]any{"register_number": number})
			}
			key := fmt.Sprintf("check-%d-%d", n, seed)
			body := map[string]any{"purpose": "placement", "items": items}
			if _, ok := untilAnswered(key, 200, []int{409}, func(u, _ string) (int, map[string]any, error) {
				return call(context.Background(), "POST", u+"/v1/checks", agencyKey, key, body)
			}); !ok {
				return
			}
			l.mu.Lock()
			l.checks[key] = len(items)
			l.mu.Unlock()
		}
	}()

	for range trials {
		time.Sleep(time.Duration(30+rng.IntN(300)) * time.Millisecond)
		srv.kill()
		next := start(t, data)
		tok := login(t, next, email)
		mu.Lock()
		srv, url, token = next, next.url, tok
		mu.Unlock()
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()
	srv.stop(t)

	// Every acknowledged write is there, once; nothing else was written.
	db := checkDB(t, filepath.Join(data, "register.db"))
	rows, err := db.Query(`SELECT register_number, family_name FROM registrants`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]string{} // key → number
	duplicates := 0
	for rows.Next() {
		var number, family string
		if err := rows.Scan(&number, &family); err != nil {
			t.Fatal(err)
		}
		key := strings.TrimPrefix(family, "Crash ")
		if _, dup := stored[key]; dup {
			duplicates++
		}
		stored[key] = number
	}
	rows.Close()
	lost := 0
	for key, number := range l.acked {
		if stored[key] != number {
			lost++
			t.Errorf("acknowledged write %s (%s) is missing or changed: stored %q", key, number, stored[key])
		}
	}
	if duplicates != 0 {
		t.Errorf("%d duplicate registrants", duplicates)
	}
	if len(stored) != len(l.acked) {
		t.Errorf("%d registrants stored, %d acknowledged: every key was retried until answered", len(stored), len(l.acked))
	}
	// Every acknowledged check's verifications, once each; the index's
	// entries are all true, and none is missing below its mark. Then a
	// server left running brings the index up to date.
	items := 0
	for _, n := range l.checks {
		items += n
	}
	var verifications, wrong, missing int
	if err := db.QueryRow(`SELECT count(*) FROM verifications`).Scan(&verifications); err != nil {
		t.Fatal(err)
	}
	if verifications != items {
		t.Errorf("%d verifications stored, %d acknowledged (%d checks)", verifications, items, len(l.checks))
	}
	indexState := func() {
		t.Helper()
		err := db.QueryRow(`SELECT
			(SELECT count(*) FROM verifications_by_registrant b LEFT JOIN verifications v ON v.id = b.verification_id
				WHERE v.id IS NULL OR v.registrant_id IS NOT b.registrant_id),
			(SELECT count(*) FROM verifications v WHERE v.registrant_id IS NOT NULL AND v.id <= (SELECT through FROM verifications_indexed)
				AND NOT EXISTS (SELECT 1 FROM verifications_by_registrant b WHERE b.registrant_id = v.registrant_id AND b.verification_id = v.id))`).Scan(&wrong, &missing)
		if err != nil {
			t.Fatal(err)
		}
		if wrong != 0 || missing != 0 {
			t.Fatalf("who-checked-me index: %d entries naming no such verification, %d verifications below the mark not in it", wrong, missing)
		}
	}
	indexState()
	srv = start(t, data)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var behind int
		if err := db.QueryRow(`SELECT count(*) FROM verifications WHERE id > (SELECT through FROM verifications_indexed)`).Scan(&behind); err != nil {
			t.Fatal(err)
		}
		if behind == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted server left %d verifications unindexed for 20 s\n%s", behind, srv.log.String())
		}
	}
	srv.stop(t)
	indexState()

	// The clean stop signed the head: the checkpoints verify too.
	if out := register(t, data, "", "audit", "verify"); !strings.Contains(out, "audit chain intact") || !strings.Contains(out, "newest signed checkpoint") {
		t.Fatalf("audit verify: %s", out)
	}
	t.Logf("crash trials: %d SIGKILLs; %d writes acknowledged, %d lost, %d duplicated; %d bulk checks of %d items acknowledged, all recorded and indexed; %d attempts refused while the register was down (seed %d)",
		trials, len(l.acked), lost, duplicates, len(l.checks), items, l.retries, seed)
	if out := os.Getenv("REGISTER_CRASH_FIGURES"); out != "" {
		_ = os.WriteFile(out, []byte(fmt.Sprintf("trials=%d acknowledged=%d lost=%d duplicates=%d retries=%d\n", trials, len(l.acked), lost, duplicates, l.retries)), 0o644)
	}
}
