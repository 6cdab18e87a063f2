package http_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLeakSentinels seeds every private field (date of birth, email, CPD
// reflection, allegation, panel reasons) with a marker, brings registrants
// into each status, calls every public endpoint for each of them, now and
// as at earlier instants, and every public page, and scans every answer and
// the server's log:
// no marker may appear.
func TestLeakSentinels(t *testing.T) {
	f := newFTP(t)
	var markers []string
	mark := func(kind string, i int) string {
		m := fmt.Sprintf("LEAKMARKER%s%02d", kind, i)
		markers = append(markers, m)
		return m
	}
	// Dates of birth are markers too: unusual dates no other field can hold.
	dob := func(i int) string {
		d := fmt.Sprintf("1931-01-%02d", i+1)
		markers = append(markers, d)
		return d
	}

	type subject struct{ number, family, status string }
	var subjects []subject
	admitted := func(i int, status string) string {
		family := fmt.Sprintf("Sentinel%c", 'A'+i)
		n := f.Practitioner(f.reg(), family, "Pat", 5, "2028-12-31")
		f.Must(200, "PATCH", "/v1/registrants/"+n, f.reg(), map[string]any{
			"date_of_birth": dob(i), "email": strings.ToLower(mark("EMAIL", i)) + "@example.org"})
		subjects = append(subjects, subject{n, family, status})
		return n
	}
	start := f.Now()

	// A registered practitioner with a CPD log.
	n := admitted(0, "registered")
	tok := activateAccount(f.env, f.reg(), n)
	f.Must(201, "POST", "/v1/me/cpd", tok, map[string]any{"date": "2026-03-02", "title": "Course", "category": "participatory",
		"hours": 2, "reflection": mark("REFLECTION", 0), "evidence_ref": mark("EVIDENCE", 0)})
	// Suspended and removed by a panel, with private allegations and reasons.
	for i, kind := range []string{"suspension", "removal"} {
		n := admitted(1+i, kind)
		id := f.toHearing(n, mark("ALLEGATION", 1+i))
		body := map[string]any{"kind": kind, "reasons": mark("REASONS", 1+i)}
		if kind == "suspension" {
			body["months"] = 3
		} else {
			body["immediate"] = true
		}
		f.decide(id, body)
	}
	// A case still open (unpublished) about a registered practitioner.
	f.referral(admitted(3, "under investigation"), mark("ALLEGATION", 3))
	// An applicant never admitted: not on the public register at all.
	applicant := f.Registrant(f.reg(), "SentinelApplicant", "Pat")
	f.Must(200, "PATCH", "/v1/registrants/"+applicant, f.reg(), map[string]any{"date_of_birth": dob(9), "email": strings.ToLower(mark("EMAIL", 9)) + "@example.org"})
	subjects = append(subjects, subject{applicant, "SentinelApplicant", "applicant"})

	scanned := 0
	scan := func(what string, body []byte) {
		t.Helper()
		scanned++
		for _, m := range markers {
			if strings.Contains(strings.ToLower(string(body)), strings.ToLower(m)) {
				t.Errorf("%s shows private marker %s: %.300s", what, m, body)
			}
		}
	}
	sweep := func() {
		for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml", "/.well-known/jwks.json", "/v1/public/search?name=Sentinel", "/v1/public/search?name=sentinel&limit=100", "/?q=Sentinel", "/sign-in"} {
			scan(path, f.Do("GET", path, "", nil).Body)
		}
		for _, s := range subjects {
			for _, path := range []string{
				"/v1/public/registrants/" + s.number,
				"/v1/public/registrants/" + s.number + "?at=" + url.QueryEscape(start.Format(time.RFC3339)),
				"/v1/public/registrants/" + s.number + "?at=" + url.QueryEscape(f.Now().Add(-time.Hour).Format(time.RFC3339)),
				"/v1/public/search?name=" + s.family,
				"/r/" + s.number, // the public pages
				"/r/" + s.number + "/certificate",
				"/r/" + s.number + "?at=" + start.Format("2006-01-02"),
				"/?q=" + s.family,
			} {
				r := f.Do("GET", path, "", nil)
				if s.status == "registered" && r.Status != 200 {
					t.Errorf("%s: status %d, want the public answer", path, r.Status) // else the scan proves nothing
				}
				scan(s.status+" "+path, r.Body)
			}
		}
		// Failed logins with a private email: neither the answer nor the log may echo it.
		scan("login", f.Do("POST", "/v1/auth/login", "", map[string]any{"email": strings.ToLower(markers[1]) + "@example.org", "password": "wrong password"}).Body)
	}
	// The control: a registrar's answer does show the markers, so the scan
	// would see a leak.
	if body := f.Do("GET", "/v1/registrants/"+n, f.reg(), nil).Body; !strings.Contains(strings.ToLower(string(body)), strings.ToLower(markers[1])) {
		t.Fatalf("control: the private answer lacks marker %s: %s", markers[1], body)
	}
	sweep()
	// Lapsed: past everyone's registered_until.
	f.Set(time.Date(2029, 2, 1, 12, 0, 0, 0, time.UTC))
	sweep()
	scan("server log", []byte(f.Logs()))
	t.Logf("leak sentinels: %d markers, %d answers and the log scanned", len(markers), scanned)
}
