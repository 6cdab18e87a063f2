package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/probation-register/register/register"
)

// TestNumberPool checks that every way of numbering gives out distinct,
// valid numbers that are not already taken, until the space is full.
func TestNumberPool(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "register.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
