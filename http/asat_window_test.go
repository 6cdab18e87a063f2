package http_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// TestAsAtWindowAgreesWithHistory builds histories of every kind through
// the API (sanctions in and after their appeal period, interim orders, a
// quashed appeal, a lapse and a restoration, a qualification verified
// later) and checks that every as-at answer served from the stored answer's
// window is byte for byte the answer derived from the whole history, at
// each instant the history names, a second either side, and every day.
func TestAsAtWindowAgreesWithHistory(t *testing.T) {
	f := newFTP(t)
	conds := []map[string]any{{"code": "no_sole_working", "text": "Must not work alone."}}
	var numbers []string
	add := func(n string) string { numbers = append(numbers, n); return n }

	for _, body := range []map[string]any{
		{"kind": "suspension", "months": 3},
		{"kind": "conditions", "months": 6, "conditions": conds},
		{"kind": "warning", "months": 12},
		{"kind": "removal", "immediate": true},
		{"kind": "suspension", "months": 2, "immediate": true},
	} {
		n := add(f.practitioner("Window"))
		f.decide(f.toHearing(n, "Allegation."), body)
		f.Advance(36 * time.Hour)
	}
	// Interim conditions during an investigation, replaced by a final
	// suspension that waits for its appeal period.
	n := add(f.practitioner("Interim"))
	id := f.referral(n, "Allegation.")
	f.stage(id, "investigation")
	f.seatPanel(id)
	f.decide(id, map[string]any{"kind": "interim_conditions", "months": 6, "conditions": conds})
	f.Advance(10 * 24 * time.Hour)
	f.stage(id, "referred_to_panel")
	f.stage(id, "hearing")
	f.decide(id, map[string]any{"kind": "suspension", "months": 1})
	// A removal quashed on appeal.
	n = add(f.practitioner("Quashed"))
	id = f.toHearing(n, "Allegation.")
	f.decide(id, map[string]any{"kind": "removal", "immediate": true})
	f.Advance(5 * 24 * time.Hour)
	f.Must(200, "POST", "/v1/cases/"+id+"/appeal", f.reg(), map[string]any{"reason": "Unfair."})
	f.Advance(5 * 24 * time.Hour)
	f.Must(200, "POST", "/v1/cases/"+id+"/appeal/outcome", f.reg(), map[string]any{"result": "quashed"})
	// A PSO who qualifies as a PO later, lapses and is restored.
	n = add(f.Practitioner(f.reg(), "Later", "Lee", 3, "2026-06-30"))
	q := f.Must(201, "POST", "/v1/registrants/"+n+"/qualifications", f.reg(), map[string]any{
		"level": 5, "title": "Level 5 Diploma in Probation Practice", "awarding_body": "Awarding Body",
		"awarded_on": "2025-07-01", "certificate_ref": "CERT-5", "state": "claimed"})
	f.Advance(24 * time.Hour)
	f.Must(200, "POST", "/v1/registrants/"+n+"/qualifications/"+jsonID(q["id"])+"/verify", f.reg(), nil)
	f.Set(register.MustDate("2026-08-01").Start().Add(9 * time.Hour))
	refreshDue(t, f.env)
	f.Must(200, "POST", "/v1/registrants/"+n+"/registration/restore", f.reg(), map[string]any{"registered_until": "2027-07-31", "reason": "returned"})
	// Some time on, the stored answers of the others have been refreshed by the job.
	f.Advance(40 * 24 * time.Hour)
	refreshDue(t, f.env)

	ctx := context.Background()
	db := f.DB.Reader()
	var windows int
	if err := db.QueryRow(`SELECT COUNT(*) FROM registrations WHERE standing_from IS NOT NULL`).Scan(&windows); err != nil || windows < len(numbers) {
		t.Fatalf("%d stored answers with a window (%v), want %d: the fast path is not exercised", windows, err, len(numbers))
	}
	if st, ok := f.DB.AnswerCacheStats(); !ok || !st.Complete || st.Entries != int64(windows) {
		t.Fatalf("answer cache %+v (running %v), want all %d answers: the answers in memory are not exercised", st, ok, windows)
	}
	instants := func(number string) []time.Time {
		var out []time.Time
		rows, err := db.Query(`SELECT t FROM (
				SELECT p.valid_from AS t, p.registrant_id AS r FROM registration_periods p
				UNION ALL SELECT p.valid_to, p.registrant_id FROM registration_periods p
				UNION ALL SELECT p.registered_until || 'T23:59:59.999999Z', p.registrant_id FROM registration_periods p
				UNION ALL SELECT o.valid_from, o.registrant_id FROM orders o
				UNION ALL SELECT o.valid_to, o.registrant_id FROM orders o
				UNION ALL SELECT o.ends_at, o.registrant_id FROM orders o
				UNION ALL SELECT q.created_at, q.registrant_id FROM qualifications q
				UNION ALL SELECT q.verified_at, q.registrant_id FROM qualifications q)
			WHERE t IS NOT NULL AND r = (SELECT id FROM registrants WHERE register_number = ?)`, number)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			v, err := time.Parse(sqlite.TimeLayout, s)
			if err != nil {
				t.Fatalf("%q: %v", s, err)
			}
			out = append(out, v.Add(-time.Second), v.Add(-time.Microsecond), v, v.Add(time.Microsecond), v.Add(time.Second))
		}
		for d := register.MustDate("2025-12-01").Start().Add(10 * time.Hour); d.Before(f.Now().AddDate(2, 0, 0)); d = d.Add(24 * time.Hour) {
			out = append(out, d)
		}
		return append(out, f.Now())
	}
	type key struct {
		number string
		at     time.Time
	}
	served := map[key][]byte{}
	for _, n := range numbers {
		for _, at := range instants(n) {
			a, err := f.Server.Public.PublicRecord(ctx, n, &at)
			if err != nil {
				t.Fatalf("%s at %s: %v", n, at, err)
			}
			served[key{n, at}] = append([]byte(a.AsAt.UTC().Format(time.RFC3339Nano)+" "), a.Body...)
		}
	}
	// Without the windows every answer is derived from the history.
	if _, err := f.DB.Writer().Exec(`UPDATE registrations SET standing_from = NULL, history_from = NULL,
		answer_seq = (SELECT max(answer_seq) FROM registrations) + 1`); err != nil {
		t.Fatal(err)
	}
	f.DB.SyncAnswers()
	for k, want := range served {
		a, err := f.Server.Public.PublicRecord(ctx, k.number, &k.at)
		if err != nil {
			t.Fatal(err)
		}
		if got := append([]byte(a.AsAt.UTC().Format(time.RFC3339Nano)+" "), a.Body...); !bytes.Equal(got, want) {
			t.Fatalf("%s as at %s:\nserved  %s\nderived %s", k.number, k.at.Format(time.RFC3339Nano), want, got)
		}
	}
	t.Logf("%d as-at answers compared over %d registrants", len(served), len(numbers))
}
