package sqlite

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestFormatTime holds formatTime to time.Format with TimeLayout: random
// instants over the four-digit years, the edges of each field, zones other
// than UTC, and years the layout cannot hold.
func TestFormatTime(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lo := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		london = time.FixedZone("BST", 3600)
	}
	cases := []time.Time{
		{},
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 30, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 1_000, time.UTC),
		time.Date(2025, 3, 30, 1, 30, 0, 0, london),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC),
	}
	for range 200_000 {
		cases = append(cases, time.Unix(lo+r.Int64N(hi-lo), r.Int64N(1e9)).In(london))
	}
	for _, c := range cases {
		if got, want := formatTime(c), c.UTC().Format(TimeLayout); got != want {
			t.Fatalf("formatTime(%v) = %q, want %q", c, got, want)
		}
	}
}
