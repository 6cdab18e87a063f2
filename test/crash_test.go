package test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// ledger is what the clients were told: key → register number.
type ledger struct {
	mu      sync.Mutex
	acked   map[string]string
	retries int
}

// TestCrashSafety runs concurrent clients creating registrants, each with an
// Idempotency-Key they retry until answered, while the register is killed
// with SIGKILL at random moments and restarted. Afterwards every answered
// write is present exactly once, SQLite's checks pass and the audit chain
// verifies.
func TestCrashSafety(t *testing.T) {
	trials := crashTrials(t)
	data, email := setup(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	l := &ledger{acked: map[string]string{}}

	var mu sync.Mutex // guards url and token across restarts
	srv := start(t, data)
	url, token := srv.url, login(t, srv, email)
	current := func() (string, string) {
		mu.Lock()
		defer mu.Unlock()
		return url, token
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
				// Retry the same key until it is answered: through kills, too.
				for attempt := 0; ; attempt++ {
					u, tok := current()
					status, m, err := call(context.Background(), "POST", u+"/v1/registrants", tok, key, body)
					if err == nil && status == 201 {
						l.mu.Lock()
						l.acked[key] = m["register_number"].(string)
						l.retries += attempt
						l.mu.Unlock()
						break
					}
					if err == nil && status != 401 && status != 409 {
						t.Errorf("key %s: status %d %v", key, status, m)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
				if ctx.Err() != nil {
					return
				}
			}
		}()
	}

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
	// The clean stop signed the head: the checkpoints verify too.
	if out := register(t, data, "", "audit", "verify"); !strings.Contains(out, "audit chain intact") || !strings.Contains(out, "newest signed checkpoint") {
		t.Fatalf("audit verify: %s", out)
	}
	t.Logf("crash trials: %d SIGKILLs; %d writes acknowledged, %d lost, %d duplicated; %d attempts refused while the register was down (seed %d)",
		trials, len(l.acked), lost, duplicates, l.retries, seed)
	if out := os.Getenv("REGISTER_CRASH_FIGURES"); out != "" {
		_ = os.WriteFile(out, []byte(fmt.Sprintf("trials=%d acknowledged=%d lost=%d duplicates=%d retries=%d\n", trials, len(l.acked), lost, duplicates, l.retries)), 0o644)
	}
}
