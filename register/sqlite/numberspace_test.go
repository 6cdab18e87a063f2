package sqlite

import (
	"context"
	"slices"
	"testing"

	"github.com/probation-register/register/register"
)

// TestCreateRegistrantNumberSpaceFull fills the register's number space
// but for three numbers: creating registrants still finds each of them
// (random draws keep colliding, so the free ones are found by walking the
// taken numbers, wrapping around), and once all are taken the answer is a
// conflict that says so, with nothing written.
func TestCreateRegistrantNumberSpaceFull(t *testing.T) {
	db := openTestDB(t)
	free := []int{0, 612_345, register.NumberSpace - 1}
	tx, err := db.Writer().Begin()
	if err != nil {
		t.Fatal(err)
	}
	ins, err := tx.Prepare(`INSERT INTO registrants (register_number, family_name, given_names, date_of_birth, email, created_at, updated_at)
		VALUES (?, 'Full', 'Space', '1980-01-01', 'f@example.org', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`)
	if err != nil {
		t.Fatal(err)
	}
	for serial := range register.NumberSpace {
		if !slices.Contains(free, serial) {
			if _, err := ins.Exec(register.NumberFromSerial(serial)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	s := NewRegistrantService(db)
	var got []string
	for range free {
		r := &register.Registrant{FamilyName: "Last", GivenNames: "Numbers", DateOfBirth: register.MustDate("1985-04-01"), Email: "l@example.org"}
		if err := s.CreateRegistrant(ctx, r); err != nil {
			t.Fatalf("with %d numbers free: %v", len(free)-len(got), err)
		}
		got = append(got, r.Number)
	}
	slices.Sort(got)
	want := []string{register.NumberFromSerial(free[0]), register.NumberFromSerial(free[1]), register.NumberFromSerial(free[2])}
	if !slices.Equal(got, want) {
		t.Fatalf("numbers given: %v, want the free ones %v", got, want)
	}
	r := &register.Registrant{FamilyName: "One", GivenNames: "Toomany", DateOfBirth: register.MustDate("1985-04-01"), Email: "o@example.org"}
	err = s.CreateRegistrant(ctx, r)
	if register.ErrorCode(err) != register.ECONFLICT || register.ErrorMessage(err) != "Every one of the 1000000 register numbers is taken." {
		t.Fatalf("with the space full: %v", err)
	}
	var n int
	if err := db.Reader().QueryRow(`SELECT COUNT(*) FROM registrants`).Scan(&n); err != nil || n != register.NumberSpace {
		t.Fatalf("%d registrants (%v), want %d", n, err, register.NumberSpace)
	}
}
