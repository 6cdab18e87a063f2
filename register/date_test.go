package register

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestDateString holds Date.String to time.Format with DateLayout over
// random days of the four-digit years, the edges, and years the layout
// cannot hold in four digits.
func TestDateString(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	days := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	for range 100_000 {
		days = append(days, time.Date(r.IntN(10000), time.January, 1+r.IntN(366), 0, 0, 0, 0, time.UTC))
	}
	for _, day := range days {
		d := DateOf(day)
		if got, want := d.String(), day.Format(DateLayout); got != want {
			t.Fatalf("Date(%v).String() = %q, want %q", day, got, want)
		}
	}
	if (Date{}).String() != "" {
		t.Fatal("the zero date is not empty")
	}
}
