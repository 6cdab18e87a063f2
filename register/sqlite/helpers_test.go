package sqlite

import (
	"path/filepath"
	"testing"
)

// openTestDB opens a new register in a temporary folder, closed when the
// test ends.
func openTestDB(t *testing.T) *DB {
	t.Helper()
	db := NewDB(filepath.Join(t.TempDir(), "register.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
