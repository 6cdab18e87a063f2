package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBackupUnderLoad takes `register backup` copies while clients keep
// creating registrants, restores each into a fresh data folder and checks:
// SQLite's integrity and foreign-key checks pass, every write acknowledged
// before the backup began is in it, nothing acknowledged after it ended
// could be missing from a later copy, and the audit chain (with its signed
// checkpoints) verifies with the restored keys.
func TestBackupUnderLoad(t *testing.T) {
	data, email := setup(t)
	srv := start(t, data)
	defer srv.stop(t)
	token := login(t, srv, email)

	var mu sync.Mutex
	var acked []string // register numbers, in the order answered
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for c := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				key := fmt.Sprintf("b%d-%d", c, n)
				status, m, err := call(context.Background(), "POST", srv.url+"/v1/registrants", token, key,
					map[string]any{"family_name": "Backup " + key, "given_names": "Test", "date_of_birth": "1980-01-01", "email": key + "@example.org"})
				if err != nil || status != 201 {
					t.Errorf("write %s: %d %v %v", key, status, m, err)
					return
				}
				mu.Lock()
				acked = append(acked, m["register_number"].(string))
				mu.Unlock()
			}
		}()
	}
	defer func() { cancel(); wg.Wait() }() // before the server stops
	snapshot := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), acked...)
	}

	const backups = 3
	for i := range backups {
		time.Sleep(200 * time.Millisecond)
		before := snapshot()
		file := filepath.Join(t.TempDir(), fmt.Sprintf("backup-%d.db", i))
		register(t, data, "", "backup", file)
		after := snapshot()

		// Restore: the database file and the keys, as docs/operations.md says.
		restored := t.TempDir()
		copyTree(t, filepath.Join(data, "keys"), filepath.Join(restored, "keys"))
		copyFile(t, file, filepath.Join(restored, "register.db"))
		db := checkDB(t, filepath.Join(restored, "register.db"))
		var count int
		if err := db.QueryRow(`SELECT COUNT(*) FROM registrants WHERE family_name LIKE 'Backup %'`).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if count < len(before) || count > len(after)+3 {
			t.Fatalf("backup %d holds %d registrants; %d were acknowledged before it began and %d by its end", i, count, len(before), len(after))
		}
		for _, n := range before {
			var x int
			if err := db.QueryRow(`SELECT COUNT(*) FROM registrants WHERE register_number = ?`, n).Scan(&x); err != nil || x != 1 {
				t.Fatalf("backup %d lacks %s, acknowledged before it began", i, n)
			}
		}
		db.Close()
		if out := register(t, restored, "", "audit", "verify"); !strings.Contains(out, "audit chain intact") {
			t.Fatalf("restored backup %d: %s", i, out)
		}
		t.Logf("backup %d: %d registrants (acknowledged: %d before, %d after); restored and verified", i, count, len(before), len(after))
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies a flat folder (the keys), private to its owner.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		copyFile(t, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
	}
}
