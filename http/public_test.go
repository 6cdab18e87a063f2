package http_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// public reads a public record, now (at "") or as at an instant, and checks
// the answer's instants.
func (e *env) public(t *testing.T, n, at string) map[string]any {
	t.Helper()
	path := "/v1/public/registrants/" + n
	if at != "" {
		path += "?at=" + at
	}
	r := e.Do("GET", path, "", nil)
	if r.Status != 200 {
		t.Fatalf("GET %s: status %d: %s", path, r.Status, r.Body)
	}
	m := r.JSON(t)
	now := e.Now().UTC().Format(time.RFC3339)
	if m["checked_at"] != now {
		t.Errorf("checked_at = %v, want %s", m["checked_at"], now)
	}
	if want := cmpOr(at, now); m["as_at"] != want {
		t.Errorf("as_at = %v, want %s", m["as_at"], want)
	}
	return m
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// wantStanding checks a public answer's status, roles and registered_until
// (nil for none).
func wantStanding(t *testing.T, m map[string]any, status string, roles []string, until any) {
	t.Helper()
	if m["status"] != status {
		t.Errorf("status = %v, want %s (as at %v)", m["status"], status, m["as_at"])
	}
	if got := texts(m["authorised_roles"]); !slices.Equal(got, roles) {
		t.Errorf("authorised_roles = %v, want %v (as at %v)", got, roles, m["as_at"])
	}
	if m["registered_until"] != until {
		t.Errorf("registered_until = %v, want %v (as at %v)", m["registered_until"], until, m["as_at"])
	}
}

var (
	noRoles = []string{}
	pso     = []string{"PSO"}
	psoPO   = []string{"PSO", "PO"}
)

func TestPublicRecordAsAt(t *testing.T) {
	e := newEnv(t) // 2026-03-02T10:00Z
	tok := e.Token(register.RoleRegistrar)
	n := e.Registrant(tok, "Ngata", "Aroha")
	q := jsonID(e.Must(201, "POST", "/v1/registrants/"+n+"/qualifications", tok, map[string]any{
		"level": 5, "title": "Level 5 Diploma in Probation Practice", "awarding_body": "Open University",
		"awarded_on": "2025-07-01", "certificate_ref": "PQ-1", "state": "claimed",
	})["id"])
	set := func(s string) {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		e.Set(ts)
		tok = e.Token(register.RoleRegistrar)
	}

	t.Run("ApplicantIsNotPublic", func(t *testing.T) {
		e.Do("GET", "/v1/public/registrants/"+n, "", nil).WantError(t, 404, register.ENOTFOUND)
		e.Do("GET", "/v1/public/registrants/"+n+"?at=2026-03-02T10:00:00Z", "", nil).WantError(t, 404, register.ENOTFOUND)
	})

	set("2026-03-03T10:00:00Z")
	e.Must(200, "POST", "/v1/registrants/"+n+"/registration/admit", tok, map[string]any{"registered_until": "2026-06-30"})
	set("2026-03-04T10:00:00Z")
	e.Must(200, "POST", "/v1/registrants/"+n+"/qualifications/"+q+"/verify", tok, nil)
	set("2026-03-04T10:05:00Z")

	t.Run("BeforeAdmission", func(t *testing.T) {
		m := e.public(t, n, "2026-03-02T12:00:00Z")
		wantStanding(t, m, "not_registered", noRoles, nil)
		if qs, _ := m["qualifications"].([]any); len(qs) != 0 {
			t.Errorf("an unverified claim is shown: %v", qs)
		}
	})
	t.Run("AdmittedBeforeVerification", func(t *testing.T) {
		wantStanding(t, e.public(t, n, "2026-03-03T12:00:00Z"), "registered", noRoles, "2026-06-30")
	})
	t.Run("AtTheInstantOfVerification", func(t *testing.T) {
		wantStanding(t, e.public(t, n, "2026-03-04T09:59:59Z"), "registered", noRoles, "2026-06-30")
		wantStanding(t, e.public(t, n, "2026-03-04T10:00:00Z"), "registered", psoPO, "2026-06-30")
	})
	t.Run("Now", func(t *testing.T) {
		m := e.public(t, n, "")
		wantStanding(t, m, "registered", psoPO, "2026-06-30")
		if m["family_name"] != "Ngata" || m["given_names"] != "Aroha" || m["register_number"] != n {
			t.Errorf("identity = %v %v %v", m["register_number"], m["given_names"], m["family_name"])
		}
		if c, ok := m["conditions"].([]any); !ok || len(c) != 0 {
			t.Errorf("conditions = %v, want []", m["conditions"])
		}
		qs, _ := m["qualifications"].([]any)
		if len(qs) != 1 {
			t.Fatalf("qualifications = %v", qs)
		}
		if qv := qs[0].(map[string]any); qv["level"] != 5.0 || qv["year"] != 2025.0 || qv["state"] != "verified" || qv["title"] != "Level 5 Diploma in Probation Practice" {
			t.Errorf("qualification = %v", qv)
		}
	})

	t.Run("AfterRegisteredUntilWithoutAWrite", func(t *testing.T) {
		set("2026-07-01T08:00:00Z")
		lastAudit := e.LastAuditID()
		stored := func() string {
			var status, body string
			if err := e.DB.Reader().QueryRow(`SELECT status, public_json FROM registrations WHERE register_number = ?`, n).Scan(&status, &body); err != nil {
				t.Fatal(err)
			}
			return status + body
		}
		before := stored()

		wantStanding(t, e.public(t, n, ""), "lapsed", noRoles, "2026-06-30")
		wantStanding(t, e.public(t, n, "2026-07-01T07:00:00Z"), "lapsed", noRoles, "2026-06-30")
		wantStanding(t, e.public(t, n, "2026-07-01T00:00:00Z"), "lapsed", noRoles, "2026-06-30")
		wantStanding(t, e.public(t, n, "2026-06-30T23:59:59Z"), "registered", psoPO, "2026-06-30")
		items := e.Must(200, "GET", "/v1/public/search?name=ngata", "", nil)["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["status"] != "lapsed" {
			t.Errorf("search after expiry = %v", items)
		}
		if got := e.Must(200, "GET", "/v1/registrants/"+n, tok, nil)["registration"].(map[string]any)["status"]; got != "lapsed" {
			t.Errorf("the registrar's record says %v", got)
		}
		if e.LastAuditID() != lastAudit || stored() != before {
			t.Fatal("reading after expiry wrote to the register")
		}
		if !strings.HasPrefix(before, "registered") {
			t.Fatalf("the stored row already said %q: the test does not show a read-time lapse", before[:20])
		}
	})

	set("2026-07-02T10:00:00Z")
	e.Must(200, "POST", "/v1/registrants/"+n+"/registration/restore", tok, map[string]any{"registered_until": "2027-07-01", "reason": "renewed late"})
	t.Run("AfterRestore", func(t *testing.T) {
		wantStanding(t, e.public(t, n, ""), "registered", psoPO, "2027-07-01")
	})
	set("2026-08-03T10:00:00Z")
	e.Must(200, "POST", "/v1/registrants/"+n+"/registration/lapse", tok, map[string]any{"reason": "left practice"})
	t.Run("AfterLapse", func(t *testing.T) {
		wantStanding(t, e.public(t, n, ""), "lapsed", noRoles, "2027-07-01")
	})
	set("2026-09-01T10:00:00Z")
	e.Must(200, "POST", "/v1/registrants/"+n+"/registration/restore", tok, map[string]any{"registered_until": "2027-08-31"})
	set("2026-09-01T11:00:00Z")

	t.Run("HistoryAsAt", func(t *testing.T) {
		for _, c := range []struct {
			at, status string
			roles      []string
			until      any
		}{
			{"2026-03-01T00:00:00Z", "not_registered", noRoles, nil},
			{"2026-03-03T10:00:00Z", "registered", noRoles, "2026-06-30"},
			{"2026-05-01T00:00:00+01:00", "registered", psoPO, "2026-06-30"},
			{"2026-07-01T12:00:00Z", "lapsed", noRoles, "2026-06-30"},
			{"2026-07-02T09:59:59Z", "lapsed", noRoles, "2026-06-30"},
			{"2026-07-02T10:00:00Z", "registered", psoPO, "2027-07-01"},
			{"2026-08-03T09:59:59Z", "registered", psoPO, "2027-07-01"},
			{"2026-08-10T00:00:00Z", "lapsed", noRoles, "2027-07-01"},
			{"2026-09-01T09:59:59Z", "lapsed", noRoles, "2027-07-01"},
			{"2026-09-01T10:00:00Z", "registered", psoPO, "2027-08-31"},
		} {
			t.Run(c.at, func(t *testing.T) {
				path := "/v1/public/registrants/" + n + "?at=" + strings.ReplaceAll(c.at, "+", "%2B")
				r := e.Do("GET", path, "", nil)
				if r.Status != 200 {
					t.Fatalf("status %d: %s", r.Status, r.Body)
				}
				m := r.JSON(t)
				asAt, _ := time.Parse(time.RFC3339, c.at)
				if m["as_at"] != asAt.UTC().Format(time.RFC3339) {
					t.Errorf("as_at = %v, want %s in UTC", m["as_at"], c.at)
				}
				wantStanding(t, m, c.status, c.roles, c.until)
			})
		}
	})

	t.Run("FutureInstantPastRegisteredUntil", func(t *testing.T) {
		m := e.public(t, n, "2027-09-15T00:00:00Z")
		wantStanding(t, m, "lapsed", noRoles, "2027-08-31")
	})

	t.Run("BadInstant", func(t *testing.T) {
		for _, at := range []string{"yesterday", "2026-03-01", "2026-03-01T10:00:00", "2026-13-01T00:00:00Z"} {
			r := e.Do("GET", "/v1/public/registrants/"+n+"?at="+at, "", nil)
			r.WantError(t, 400, register.EINVALID)
			if r.Field(t, "at") == "" {
				t.Errorf("%s: at not named: %s", at, r.Body)
			}
		}
	})
}

func TestPublicQualificationsAsAt(t *testing.T) {
	e := newEnv(t)
	tok := e.Token(register.RoleRegistrar)
	add := func(n string, level int, state string) string {
		body := map[string]any{"level": level, "title": "Level " + jsonID(level) + " qualification", "awarding_body": "Open University",
			"certificate_ref": "Q", "state": state}
		if state == "claimed" {
			body["awarded_on"] = "2024-07-01"
		}
		return jsonID(e.Must(201, "POST", "/v1/registrants/"+n+"/qualifications", tok, body)["id"])
	}
	verify := func(n, id string) {
		e.Must(200, "POST", "/v1/registrants/"+n+"/qualifications/"+id+"/verify", tok, nil)
	}
	admit := func(n string) {
		e.Must(200, "POST", "/v1/registrants/"+n+"/registration/admit", tok, map[string]any{"registered_until": "2027-03-01"})
	}
	instant := func() string { return e.Now().UTC().Format(time.RFC3339) }

	t.Run("POQualificationVerifiedLater", func(t *testing.T) {
		n := e.Practitioner(tok, "Varga", "Ilona", 3, "2027-03-01")
		e.Advance(time.Minute)
		l5 := add(n, 5, "claimed")
		e.Advance(time.Minute)
		claimed := instant()
		e.Advance(time.Minute)
		verify(n, l5)
		verified := instant()
		e.Advance(time.Minute)
		wantStanding(t, e.public(t, n, claimed), "registered", pso, "2027-03-01")
		wantStanding(t, e.public(t, n, verified), "registered", psoPO, "2027-03-01")
		wantStanding(t, e.public(t, n, ""), "registered", psoPO, "2027-03-01")
	})

	t.Run("TraineeProbationOfficer", func(t *testing.T) {
		n := e.Registrant(tok, "Osei", "Kwame")
		verify(n, add(n, 3, "claimed"))
		pqip := add(n, 5, "in_training")
		admit(n)
		e.Advance(time.Minute)
		trainee := instant()
		m := e.public(t, n, "")
		wantStanding(t, m, "registered", pso, "2027-03-01")
		var described []string
		for _, q := range m["qualifications"].([]any) {
			qv := q.(map[string]any)
			described = append(described, jsonID(qv["level"])+" "+qv["state"].(string)+" "+qv["description"].(string))
		}
		want := []string{"3 verified Probation Services Officer qualification", "5 in_training trainee Probation Officer"}
		if !slices.Equal(described, want) {
			t.Errorf("qualifications = %v, want %v", described, want)
		}
		if s := m["summary"].(string); !strings.Contains(s, "Probation Services Officer") || strings.Contains(s, "Probation Officer or") {
			t.Errorf("summary = %q", s)
		}

		e.Advance(time.Minute)
		verify(n, pqip) // the PQiP is completed
		e.Advance(time.Minute)
		wantStanding(t, e.public(t, n, ""), "registered", psoPO, "2027-03-01")
		wantStanding(t, e.public(t, n, trainee), "registered", pso, "2027-03-01")
	})

	t.Run("TraineeAloneAuthorisesNothing", func(t *testing.T) {
		n := e.Registrant(tok, "Osei", "Abena")
		add(n, 5, "in_training")
		admit(n)
		m := e.public(t, n, "")
		wantStanding(t, m, "registered", noRoles, "2027-03-01")
		qs := m["qualifications"].([]any)
		if len(qs) != 1 || qs[0].(map[string]any)["description"] != "trainee Probation Officer" {
			t.Errorf("qualifications = %v", qs)
		}
		if !strings.Contains(m["summary"].(string), "may not practise") {
			t.Errorf("summary = %q", m["summary"])
		}
	})
}

// TestPublicNoPrivateFields follows one registrant through every status and
// looks for their private details in every public answer and in the log.
func TestPublicNoPrivateFields(t *testing.T) {
	e := newEnv(t)
	tok := e.Token(register.RoleRegistrar)
	const (
		email  = "zq-private-marker-7781@marker.example"
		email2 = "zq-second-marker-4410@marker.example"
		dob    = "1979-11-23"
		dob2   = "1981-02-17"
	)
	markers := []string{email, email2, dob, dob2, "zq-private-marker", "zq-second-marker"}
	n := e.Must(201, "POST", "/v1/registrants", tok, map[string]any{
		"family_name": "Quillfeather", "given_names": "Zebedee", "date_of_birth": dob, "email": email,
		"previous_names": []string{"Zebedee Inkwell"},
	})["register_number"].(string)
	if r := e.Do("GET", "/v1/registrants/"+n, tok, nil); !strings.Contains(string(r.Body), email) || !strings.Contains(string(r.Body), dob) {
		t.Fatalf("the markers are not on the record, so their absence proves nothing: %s", r.Body)
	}

	check := func(t *testing.T, what string, body []byte) {
		t.Helper()
		s := string(body)
		for _, m := range markers {
			if strings.Contains(s, m) {
				t.Errorf("%s holds private %q: %s", what, m, s)
			}
		}
		for _, k := range []string{`"date_of_birth"`, `"email"`, `"previous_names"`} {
			if strings.Contains(s, k) {
				t.Errorf("%s holds key %s: %s", what, k, s)
			}
		}
	}
	var admitted string
	checkAll := func(t *testing.T, status string) {
		t.Helper()
		r := e.Do("GET", "/v1/public/registrants/"+n, "", nil)
		if r.Status != 200 || r.JSON(t)["status"] != status {
			t.Fatalf("public record: %d %s, want status %s", r.Status, r.Body, status)
		}
		check(t, "public record", r.Body)
		asAt := e.Now().Add(-time.Second).UTC().Format(time.RFC3339)
		check(t, "as-at record", e.Do("GET", "/v1/public/registrants/"+n+"?at="+asAt, "", nil).Body)
		check(t, "as-at record before admission", e.Do("GET", "/v1/public/registrants/"+n+"?at="+admitted, "", nil).Body)
		for _, name := range []string{"quill", "zebedee", "inkwell"} {
			r := e.Do("GET", "/v1/public/search?name="+name, "", nil)
			if r.Status != 200 || !strings.Contains(string(r.Body), n) {
				t.Fatalf("search %s: %d %s", name, r.Status, r.Body)
			}
			check(t, "search results", r.Body)
		}
	}

	t.Run("applicant", func(t *testing.T) {
		r := e.Do("GET", "/v1/public/registrants/"+n, "", nil)
		r.WantError(t, 404, register.ENOTFOUND)
		check(t, "404 answer", r.Body)
		r = e.Do("GET", "/v1/public/search?name=quill", "", nil)
		check(t, "search results", r.Body)
		if strings.Contains(string(r.Body), n) {
			t.Fatalf("an applicant is found by public search: %s", r.Body)
		}
	})
	admitted = e.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	e.Advance(time.Minute)
	q := jsonID(e.Must(201, "POST", "/v1/registrants/"+n+"/qualifications", tok, map[string]any{
		"level": 5, "title": "PQiP", "awarding_body": "B", "awarded_on": "2024-07-01", "certificate_ref": "C", "state": "claimed"})["id"])
	e.Must(200, "POST", "/v1/registrants/"+n+"/qualifications/"+q+"/verify", tok, nil)
	e.Must(200, "POST", "/v1/registrants/"+n+"/registration/admit", tok, map[string]any{"registered_until": "2026-04-30"})
	e.Advance(time.Minute)

	t.Run("registered", func(t *testing.T) { checkAll(t, "registered") })
	t.Run("renamed", func(t *testing.T) {
		e.Must(200, "PATCH", "/v1/registrants/"+n, tok, map[string]any{"given_names": "Zebedee Arthur", "email": email2, "date_of_birth": dob2})
		e.Advance(time.Minute)
		checkAll(t, "registered")
	})
	t.Run("lapsed_by_date", func(t *testing.T) {
		e.Set(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
		tok = e.Token(register.RoleRegistrar)
		checkAll(t, "lapsed")
	})
	t.Run("restored", func(t *testing.T) {
		e.Must(200, "POST", "/v1/registrants/"+n+"/registration/restore", tok, map[string]any{"registered_until": "2027-04-30"})
		e.Advance(time.Minute)
		checkAll(t, "registered")
	})
	t.Run("lapsed", func(t *testing.T) {
		e.Must(200, "POST", "/v1/registrants/"+n+"/registration/lapse", tok, map[string]any{"reason": "left"})
		e.Advance(time.Minute)
		checkAll(t, "lapsed")
	})
	// Suspension and removal come with fitness to practise: write their
	// periods straight into the store, then make an API write (a change of
	// email) so that the stored public answer is recomputed.
	for _, status := range []string{"suspended", "removed"} {
		t.Run(status, func(t *testing.T) {
			ts := e.Now().UTC().Format(sqlite.TimeLayout)
			w := e.DB.Writer()
			if _, err := w.Exec(`UPDATE registration_periods SET valid_to = ? WHERE registrant_id = (SELECT id FROM registrants WHERE register_number = ?) AND valid_to IS NULL`, ts, n); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Exec(`INSERT INTO registration_periods (registrant_id, status, valid_from, registered_until, reason, recorded_at)
				SELECT id, ?, ?, '2027-04-30', 'panel decision', ? FROM registrants WHERE register_number = ?`, status, ts, ts, n); err != nil {
				t.Fatal(err)
			}
			e.Advance(time.Minute)
			e.Must(200, "PATCH", "/v1/registrants/"+n, tok, map[string]any{"email": email})
			e.Advance(time.Minute)
			checkAll(t, status)
		})
	}

	t.Run("Log", func(t *testing.T) {
		log := e.Logs()
		if !strings.Contains(log, `"route":"/v1/public/registrants/:number"`) {
			t.Fatalf("the log holds no public requests, so it proves nothing: %.500s", log)
		}
		for _, m := range markers {
			if strings.Contains(log, m) {
				t.Errorf("the log holds private %q", m)
			}
		}
	})
}

func TestPublicNumbers(t *testing.T) {
	e := newEnv(t)
	tok := e.Token(register.RoleRegistrar)
	registered := e.Practitioner(tok, "Abara", "Ngozi", 3, "2027-03-01")
	applicant := e.Registrant(tok, "Abara", "Emeka")
	unknown := unknownNumber(t, registered, applicant)
	wrongDigit := registered[:8] + string('0'+(registered[8]-'0'+1)%10)

	t.Run("Known", func(t *testing.T) {
		wantStanding(t, e.public(t, registered, ""), "registered", pso, "2027-03-01")
	})
	t.Run("NotFound", func(t *testing.T) {
		var bodies []string
		for _, c := range []struct{ name, n, query string }{
			{"Unknown", unknown, ""},
			{"UnknownAsAt", unknown, "?at=2026-03-01T00:00:00Z"},
			{"Applicant", applicant, ""},
			{"ApplicantAsAt", applicant, "?at=2026-03-02T10:00:00Z"},
		} {
			r := e.Do("GET", "/v1/public/registrants/"+c.n+c.query, "", nil)
			r.WantError(t, 404, register.ENOTFOUND)
			bodies = append(bodies, strings.ReplaceAll(string(r.Body), c.n, "N"))
		}
		for _, b := range bodies[1:] {
			if b != bodies[0] {
				t.Fatalf("an applicant can be told from an unknown number: %s vs %s", b, bodies[0])
			}
		}
	})
	t.Run("Malformed", func(t *testing.T) {
		for name, n := range map[string]string{
			"BadPrefix":      "XX" + registered[2:],
			"NoPrefix":       registered[2:] + "00",
			"Short":          registered[:8],
			"Long":           registered + "0",
			"Letters":        "PR12a4567",
			"WrongLuhnDigit": wrongDigit,
			"Spaces":         "PR%20123456",
		} {
			t.Run(name, func(t *testing.T) {
				for _, q := range []string{"", "?at=2026-03-01T00:00:00Z"} {
					r := e.Do("GET", "/v1/public/registrants/"+n+q, "", nil)
					r.WantError(t, 400, register.EINVALID)
					if r.Field(t, "register_number") == "" {
						t.Fatalf("register_number not named: %s", r.Body)
					}
				}
			})
		}
	})
}

func TestPublicSearch(t *testing.T) {
	e := newEnv(t)
	tok := e.Token(register.RoleRegistrar)
	admitted := func(family, given string) string {
		n := e.Must(201, "POST", "/v1/registrants", tok, map[string]any{
			"family_name": family, "given_names": given, "date_of_birth": "1990-01-01", "email": "someone@example.org",
		})["register_number"].(string)
		e.Must(200, "POST", "/v1/registrants/"+n+"/registration/admit", tok, map[string]any{"registered_until": "2027-03-01"})
		return n
	}
	zoe := admitted("Whitaker", "Zoë")
	obrien := admitted("O'Brien", "Liam")
	jose := admitted("Álvarez", "José")
	maryAnne := admitted("Lovelace", "Mary Anne")
	anna := admitted("Annick", "Anna Annabel")
	priya := admitted("Sharma", "Priya")
	e.Must(200, "PATCH", "/v1/registrants/"+priya, tok, map[string]any{"family_name": "Patel"})
	applicant := e.Registrant(tok, "Zoeller", "Zoe")
	for range 25 {
		admitted("Whitfield", "Sam")
	}

	search := func(t *testing.T, name string) []map[string]any {
		t.Helper()
		r := e.Do("GET", "/v1/public/search?name="+name, "", nil)
		if r.Status != 200 {
			t.Fatalf("search %q: status %d: %s", name, r.Status, r.Body)
		}
		items, ok := r.JSON(t)["items"].([]any)
		if !ok {
			t.Fatalf("no items: %s", r.Body)
		}
		var out []map[string]any
		for _, it := range items {
			out = append(out, it.(map[string]any))
		}
		return out
	}
	numbers := func(items []map[string]any) []string {
		var out []string
		for _, m := range items {
			out = append(out, m["register_number"].(string))
		}
		return out
	}

	for _, c := range []struct {
		name, query string
		want        []string
	}{
		{"AccentFolded", "zoe", []string{zoe}},
		{"AccentInQuery", "ZO%C3%8B", []string{zoe}},
		{"Apostrophe", "OBRI", []string{obrien}},
		{"ApostropheInQuery", "o%27bri", []string{obrien}},
		{"AccentedFamilyName", "alva", []string{jose}},
		{"TwoWords", "jos+alv", []string{jose}},
		{"SecondGivenName", "anne", []string{maryAnne}},
		{"ManyMatchingWordsOnce", "anna", []string{anna}},
		{"PreviousName", "sharma", []string{priya}},
		{"NewName", "patel", []string{priya}},
		{"WordsMustAllMatch", "zoe+obrien", nil},
		{"NoMatch", "qqqq", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := numbers(search(t, c.query)); !slices.Equal(got, c.want) {
				t.Fatalf("search %q = %v, want %v", c.query, got, c.want)
			}
		})
	}
	t.Run("ApplicantsExcluded", func(t *testing.T) {
		if got := numbers(search(t, "zoeller")); len(got) != 0 {
			t.Fatalf("found applicant: %v", got)
		}
		if slices.Contains(numbers(search(t, "zo")), applicant) {
			t.Fatal("found applicant")
		}
	})
	t.Run("AtMostTwenty", func(t *testing.T) {
		items := search(t, "whit")
		if len(items) != 20 {
			t.Fatalf("%d results, want 20 of the 26 matches", len(items))
		}
		seen := map[string]bool{}
		for _, n := range numbers(items) {
			if seen[n] {
				t.Fatalf("%s listed twice", n)
			}
			seen[n] = true
		}
	})
	t.Run("PublicFields", func(t *testing.T) {
		items := search(t, "patel")
		m := items[0]
		for _, k := range []string{"register_number", "family_name", "given_names", "status", "authorised_roles", "qualifications", "conditions", "registered_until", "as_at", "checked_at"} {
			if _, ok := m[k]; !ok {
				t.Errorf("result lacks %s: %v", k, m)
			}
		}
		if m["family_name"] != "Patel" || m["status"] != "registered" {
			t.Errorf("result = %v", m)
		}
	})
	t.Run("BadName", func(t *testing.T) {
		for name, q := range map[string]string{
			"Missing":     "",
			"OneLetter":   "?name=z",
			"OneAccented": "?name=%C3%AB",
			"TooLong":     "?name=" + strings.Repeat("a", 101),
			"NoLetters":   "?name=%21%21",
		} {
			r := e.Do("GET", "/v1/public/search"+q, "", nil)
			r.WantError(t, 400, register.EINVALID)
			if r.Field(t, "name") == "" {
				t.Errorf("%s: name not named: %s", name, r.Body)
			}
		}
	})
}
