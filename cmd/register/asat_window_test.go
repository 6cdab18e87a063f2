package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// TestAsAtWindowMatchesHistory checks the stored answer's window on demo
// data in every status: at every instant asked, the answer served from
// the stored row (when standing_from says it holds) or made from the names
// alone (before history_from) is byte for byte the answer derived from the
// whole history.
func TestAsAtWindowMatchesHistory(t *testing.T) {
	m := NewMain()
	m.Config.DataDir = t.TempDir()
	m.Passwords = auth.NewPasswords(auth.TestParams)
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	if _, _, err := writeDemo(ctx, m, 1200, 3, progress{}); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, filepath.Join(m.Config.DataDir, "register.db"))
	type row struct {
		number                     string
		from, first, admitted, chg string
	}
	rows, err := db.Query(`SELECT register_number, COALESCE(standing_from, ''), COALESCE(history_from, ''), first_admitted_at, COALESCE(changes_at, '') FROM registrations`)
	if err != nil {
		t.Fatal(err)
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.number, &r.from, &r.first, &r.admitted, &r.chg); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	rows.Close()
	if len(all) < 1000 {
		t.Fatalf("want the demo's registrants on the register, got %d", len(all))
	}
	now := m.DB.Now().UTC()
	instants := func(r row) []time.Time {
		parse := func(s string) time.Time {
			v, err := time.Parse(sqlite.TimeLayout, s)
			if err != nil {
				t.Fatalf("%s: %q: %v", r.number, s, err)
			}
			return v
		}
		from, first, admitted := parse(r.from), parse(r.first), parse(r.admitted)
		ts := []time.Time{from, from.Add(-time.Microsecond), from.Add(now.Sub(from) / 2), now.Add(-time.Second),
			first, first.Add(-time.Microsecond), admitted, admitted.Add(-time.Microsecond), now.AddDate(-3, 0, 0), now.AddDate(-10, 0, 0)}
		if r.chg != "" {
			c := parse(r.chg)
			ts = append(ts, c.Add(-time.Microsecond), c)
		}
		return ts
	}
	public := sqlite.NewPublicService(m.DB)
	answer := func(number string, at time.Time) []byte {
		a, err := public.PublicRecord(ctx, number, &at)
		if register.ErrorCode(err) == register.ENOTFOUND {
			return []byte("not found")
		} else if err != nil {
			t.Fatalf("%s at %s: %v", number, at, err)
		}
		return a.Body
	}
	windowed, empty := 0, 0
	served := map[string][][]byte{}
	for _, r := range all {
		if r.from == "" || r.first == "" {
			t.Fatalf("%s: the demo writer knows every standing's start and the history's", r.number)
		}
		for _, at := range instants(r) {
			served[r.number] = append(served[r.number], answer(r.number, at))
			if s := at.Format(sqlite.TimeLayout); s >= r.from {
				windowed++
			} else if s < r.first {
				empty++
			}
		}
	}
	if windowed < len(all)*3 || empty < len(all) {
		t.Fatalf("only %d of the instants fell in a stored window and %d before the history", windowed, empty)
	}
	// Forget every window: each past instant is now derived from the history.
	if _, err := db.Exec(`UPDATE registrations SET standing_from = NULL, history_from = NULL`); err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		for i, at := range instants(r) {
			if want, got := answer(r.number, at), served[r.number][i]; !bytes.Equal(want, got) {
				t.Fatalf("%s at %s (standing from %s): served\n%s\nbut the history says\n%s", r.number, at.Format(time.RFC3339Nano), r.from, got, want)
			}
		}
	}
}
