package http_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// move posts a registration transition.
func (e *env) move(tok, n, tr string, body map[string]any) *Response {
	e.t.Helper()
	return e.Do("POST", "/v1/registrants/"+n+"/registration/"+tr, tok, body)
}

func TestRegistrationLifecycle(t *testing.T) {
	e := newEnv(t) // 2026-03-02
	tok := e.Token(register.RoleRegistrar)
	n := e.Registrant(tok, "Haddad", "Layla")

	want := func(t *testing.T, r *Response, status, until string) map[string]any {
		t.Helper()
		if r.Status != 200 {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		if m["status"] != status || m["registered_until"] != until {
			t.Fatalf("standing = %s, want %s until %s", r.Body, status, until)
		}
		got := e.Must(200, "GET", "/v1/registrants/"+n, tok, nil)["registration"].(map[string]any)
		if got["status"] != status || got["registered_until"] != until {
			t.Fatalf("record standing = %v, want %s until %s", got, status, until)
		}
		return m
	}

	t.Run("Admit", func(t *testing.T) {
		m := want(t, e.move(tok, n, "admit", map[string]any{"registered_until": "2027-03-01"}), "registered", "2027-03-01")
		if roles := texts(m["authorised_roles"]); len(roles) != 0 {
			t.Fatalf("admitted without a verified qualification but authorised %v", roles)
		}
	})
	t.Run("Renew", func(t *testing.T) {
		e.Advance(24 * time.Hour)
		tok = e.Token(register.RoleRegistrar)
		want(t, e.move(tok, n, "renew", map[string]any{"registered_until": "2028-03-01"}), "registered", "2028-03-01")
	})
	t.Run("Lapse", func(t *testing.T) {
		e.Advance(24 * time.Hour)
		tok = e.Token(register.RoleRegistrar)
		want(t, e.move(tok, n, "lapse", map[string]any{"reason": "asked to leave the register"}), "lapsed", "2028-03-01")
	})
	t.Run("Restore", func(t *testing.T) {
		e.Advance(24 * time.Hour)
		tok = e.Token(register.RoleRegistrar)
		want(t, e.move(tok, n, "restore", map[string]any{"registered_until": "2027-06-30", "reason": "returned to practice"}), "registered", "2027-06-30")
	})
	t.Run("History", func(t *testing.T) {
		m := e.Must(200, "GET", "/v1/registrants/"+n+"/history", tok, nil)
		items, _ := m["items"].([]any)
		var got []string
		for _, it := range items {
			p := it.(map[string]any)
			got = append(got, p["status"].(string)+" until "+p["registered_until"].(string))
		}
		wantPeriods := []string{"registered until 2027-03-01", "registered until 2028-03-01", "lapsed until 2028-03-01", "registered until 2027-06-30"}
		if !slices.Equal(got, wantPeriods) {
			t.Fatalf("history = %v, want %v", got, wantPeriods)
		}
		for i, it := range items {
			p := it.(map[string]any)
			last := i == len(items)-1
			if (p["to"] == nil) != last {
				t.Errorf("period %d: to = %v; only the last period is open", i, p["to"])
			}
			if i > 0 && items[i-1].(map[string]any)["to"] != p["from"] {
				t.Errorf("period %d starts at %v but the one before ends at %v", i, p["from"], items[i-1].(map[string]any)["to"])
			}
		}
		if items[2].(map[string]any)["reason"] != "asked to leave the register" {
			t.Errorf("lapse reason = %v", items[2].(map[string]any)["reason"])
		}
	})
	t.Run("HistoryShowsExpiry", func(t *testing.T) {
		e.Set(time.Date(2027, 7, 1, 9, 0, 0, 0, time.UTC))
		tok := e.Token(register.RoleRegistrar)
		items := e.Must(200, "GET", "/v1/registrants/"+n+"/history", tok, nil)["items"].([]any)
		last := items[len(items)-1].(map[string]any)
		if last["status"] != "lapsed" || last["derived"] != true || last["from"] != "2027-07-01T00:00:00Z" || last["to"] != nil {
			t.Fatalf("after registered_until passed the history ends with %v, want a derived lapse from 2027-07-01", last)
		}
		if prev := items[len(items)-2].(map[string]any); prev["to"] != "2027-07-01T00:00:00Z" {
			t.Fatalf("the registered period ends at %v, want 2027-07-01T00:00:00Z", prev["to"])
		}
	})
	t.Run("HistoryOfApplicant", func(t *testing.T) {
		tok := e.Token(register.RoleRegistrar)
		a := e.Registrant(tok, "Haddad", "Omar")
		items, ok := e.Must(200, "GET", "/v1/registrants/"+a+"/history", tok, nil)["items"].([]any)
		if !ok || len(items) != 0 {
			t.Fatalf("an applicant's history = %v, want []", items)
		}
		e.Do("GET", "/v1/registrants/"+unknownNumber(t, n, a)+"/history", tok, nil).WantError(t, 404, register.ENOTFOUND)
	})
}

func TestIllegalTransitions(t *testing.T) {
	e := newEnv(t) // 2026-03-02
	tok := e.Token(register.RoleRegistrar)
	until := map[string]any{"registered_until": "2027-03-01"}
	reason := map[string]any{"reason": "not renewed", "registered_until": "2027-03-01"}

	applicant := e.Registrant(tok, "Ferreira", "Ana")
	registered := e.Practitioner(tok, "Ferreira", "Bruno", 5, "2027-01-31")
	lapsed := e.Practitioner(tok, "Ferreira", "Carla", 5, "2027-01-31")
	e.Must(200, "POST", "/v1/registrants/"+lapsed+"/registration/lapse", tok, map[string]any{"reason": "left"})
	expiring := e.Practitioner(tok, "Ferreira", "Duarte", 5, "2026-03-05")
	e.Set(time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)) // expiring has now lapsed by date
	tok = e.Token(register.RoleRegistrar)

	for _, c := range []struct {
		name, number, tr string
		body             map[string]any
		message          string
	}{
		{"AdmitRegistered", registered, "admit", until, "Already admitted"},
		{"AdmitLapsed", lapsed, "admit", until, "Already admitted"},
		{"AdmitExpired", expiring, "admit", until, "Already admitted"},
		{"RenewApplicant", applicant, "renew", until, "not yet admitted"},
		{"RenewLapsed", lapsed, "renew", until, "Use restore"},
		{"RenewExpired", expiring, "renew", until, "Use restore"},
		{"LapseApplicant", applicant, "lapse", reason, "Cannot lapse"},
		{"LapseLapsed", lapsed, "lapse", reason, "Cannot lapse a registration that is lapsed"},
		{"LapseExpired", expiring, "lapse", reason, "Cannot lapse a registration that is lapsed"},
		{"RestoreApplicant", applicant, "restore", until, "Cannot restore"},
		{"RestoreRegistered", registered, "restore", until, "only a lapsed registration can be restored"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.LastAuditID()
			d := e.move(tok, c.number, c.tr, c.body).WantError(t, 409, register.ECONFLICT)
			if msg := d["message"].(string); !strings.Contains(msg, c.message) {
				t.Fatalf("message %q does not say %q", msg, c.message)
			}
			if got := e.AuditSince(before); len(got) != 0 {
				t.Fatalf("a refused transition wrote %v", got)
			}
		})
	}

	t.Run("AdmitTwiceInARow", func(t *testing.T) {
		n := e.Registrant(tok, "Ferreira", "Eva")
		e.Must(200, "POST", "/v1/registrants/"+n+"/registration/admit", tok, until)
		e.move(tok, n, "admit", until).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("UnknownTransition", func(t *testing.T) {
		e.move(tok, registered, "suspend", until).WantError(t, 404, register.ENOTFOUND)
	})
	t.Run("UnknownRegistrant", func(t *testing.T) {
		e.move(tok, unknownNumber(t, applicant, registered, lapsed, expiring), "admit", until).WantError(t, 404, register.ENOTFOUND)
	})
}

// TestTransitionsFromSuspendedAndRemoved covers the statuses that only
// fitness-to-practise decisions will set: the periods are written straight
// into the store, as no API makes them yet.
func TestTransitionsFromSuspendedAndRemoved(t *testing.T) {
	e := newEnv(t)
	tok := e.Token(register.RoleRegistrar)
	until := map[string]any{"registered_until": "2027-03-01"}
	for _, status := range []string{"suspended", "removed"} {
		n := e.Practitioner(tok, "Lindqvist", "Astrid", 5, "2027-01-31")
		e.Advance(time.Minute)
		ts := e.Now().UTC().Format(sqlite.TimeLayout)
		w := e.DB.Writer()
		if _, err := w.Exec(`UPDATE registration_periods SET valid_to = ? WHERE registrant_id = (SELECT id FROM registrants WHERE register_number = ?) AND valid_to IS NULL`, ts, n); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Exec(`INSERT INTO registration_periods (registrant_id, status, valid_from, registered_until, reason, recorded_at)
			SELECT id, ?, ?, '2027-01-31', 'panel decision', ? FROM registrants WHERE register_number = ?`, status, ts, ts, n); err != nil {
			t.Fatal(err)
		}
		e.Advance(time.Minute)
		for _, tr := range []string{"admit", "renew", "lapse", "restore"} {
			t.Run(tr+"_"+status, func(t *testing.T) {
				body := map[string]any{"registered_until": "2027-03-01", "reason": "test"}
				d := e.move(tok, n, tr, body).WantError(t, 409, register.ECONFLICT)
				if tr != "admit" && !strings.Contains(d["message"].(string), status) {
					t.Fatalf("message %q does not name the status %s", d["message"], status)
				}
			})
		}
		if status == "removed" {
			d := e.move(tok, n, "restore", until).WantError(t, 409, register.ECONFLICT)
			if !strings.Contains(d["message"].(string), "panel") {
				t.Fatalf("restoring a removed registration: %q does not say it is a panel decision", d["message"])
			}
		}
	}
}

func TestRegisteredUntil(t *testing.T) {
	e := newEnv(t) // today is 2026-03-02
	tok := e.Token(register.RoleRegistrar)
	applicant := e.Registrant(tok, "Mensah", "Kofi")
	registered := e.Practitioner(tok, "Mensah", "Ama", 3, "2027-01-31")
	lapsed := e.Practitioner(tok, "Mensah", "Yaw", 3, "2027-01-31")
	e.Must(200, "POST", "/v1/registrants/"+lapsed+"/registration/lapse", tok, map[string]any{"reason": "left"})

	bad := map[string]any{
		"Past":          "2026-03-01",
		"Today":         "2026-03-02",
		"OverThreeYear": "2029-03-03",
		"NotADate":      "2026-02-30",
		"WrongForm":     "01/03/2027",
		"Instant":       "2027-03-01T00:00:00Z",
		"Missing":       "",
		"Number":        20270301,
	}
	for _, c := range []struct{ tr, number string }{{"admit", applicant}, {"renew", registered}, {"restore", lapsed}} {
		for name, v := range bad {
			t.Run(c.tr+"/"+name, func(t *testing.T) {
				r := e.move(tok, c.number, c.tr, map[string]any{"registered_until": v})
				r.WantError(t, 400, register.EINVALID)
				if r.Field(t, "registered_until") == "" {
					t.Fatalf("registered_until not named: %s", r.Body)
				}
			})
		}
	}
	t.Run("ThreeYearsIsAllowed", func(t *testing.T) {
		e.Must(200, "POST", "/v1/registrants/"+applicant+"/registration/admit", tok, map[string]any{"registered_until": "2029-03-02"})
	})
	t.Run("RenewMustExtend", func(t *testing.T) {
		r := e.move(tok, registered, "renew", map[string]any{"registered_until": "2027-01-31"})
		r.WantError(t, 400, register.EINVALID)
		if !strings.Contains(r.Field(t, "registered_until"), "2027-01-31") {
			t.Fatalf("the reason does not give the current date: %s", r.Body)
		}
	})
	t.Run("LapseNeedsReason", func(t *testing.T) {
		for name, body := range map[string]map[string]any{
			"Missing": {},
			"TooLong": {"reason": strings.Repeat("r", 1001)},
		} {
			r := e.move(tok, registered, "lapse", body)
			r.WantError(t, 400, register.EINVALID)
			if r.Field(t, "reason") == "" {
				t.Fatalf("%s: reason not named: %s", name, r.Body)
			}
		}
	})
}

func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.User("admin@example.org", register.RoleAdmin)
	tok, registrar := e.User("registrar@example.org", register.RoleRegistrar)
	actor := "user:" + jsonID(registrar.ID)
	n := ""
	qid := ""

	steps := []struct {
		action, entity string
		do             func(t *testing.T)
	}{
		{"registrant.create", "registrant", func(t *testing.T) { n = e.Registrant(tok, "Quinn", "Rowan") }},
		{"qualification.create", "qualification", func(t *testing.T) {
			qid = jsonID(e.Must(201, "POST", "/v1/registrants/"+n+"/qualifications", tok, map[string]any{
				"level": 3, "title": "Level 3 Diploma", "awarding_body": "B", "awarded_on": "2024-07-01", "certificate_ref": "C", "state": "claimed",
			})["id"])
		}},
		{"qualification.verify", "qualification", func(t *testing.T) {
			e.Must(200, "POST", "/v1/registrants/"+n+"/qualifications/"+qid+"/verify", tok, nil)
		}},
		{"registration.admit", "registration", func(t *testing.T) {
			e.Must(200, "POST", "/v1/registrants/"+n+"/registration/admit", tok, map[string]any{"registered_until": "2027-01-31"})
		}},
		{"registration.renew", "registration", func(t *testing.T) {
			e.Must(200, "POST", "/v1/registrants/"+n+"/registration/renew", tok, map[string]any{"registered_until": "2027-02-28"})
		}},
		{"registration.lapse", "registration", func(t *testing.T) {
			e.Must(200, "POST", "/v1/registrants/"+n+"/registration/lapse", tok, map[string]any{"reason": "left"})
		}},
		{"registration.restore", "registration", func(t *testing.T) {
			e.Must(200, "POST", "/v1/registrants/"+n+"/registration/restore", tok, map[string]any{"registered_until": "2027-02-28"})
		}},
		{"registrant.update", "registrant", func(t *testing.T) {
			e.Must(200, "PATCH", "/v1/registrants/"+n, tok, map[string]any{"family_name": "Quinn-Byrne"})
		}},
	}
	for _, s := range steps {
		t.Run(s.action, func(t *testing.T) {
			before := e.LastAuditID()
			s.do(t)
			got := e.AuditSince(before)
			if len(got) == 0 {
				t.Fatal("the write appended no audit entry")
			}
			found := false
			for _, a := range got {
				if a.Action == s.action && a.Entity == s.entity {
					found = true
					if a.Actor != actor {
						t.Errorf("actor = %s, want %s", a.Actor, actor)
					}
					if s.entity != "qualification" && a.EntityID != n {
						t.Errorf("entity_id = %s, want %s", a.EntityID, n)
					}
				}
			}
			if !found {
				t.Fatalf("entries %v, want one %s on %s", got, s.action, s.entity)
			}
		})
	}

	var userID string
	for _, s := range []struct {
		action string
		do     func(t *testing.T)
	}{
		{"user.create", func(t *testing.T) {
			userID = jsonID(e.Must(201, "POST", "/v1/users", admin, map[string]any{"email": "emp@example.org", "role": "employer", "password": Password})["id"])
		}},
		{"user.update", func(t *testing.T) {
			e.Must(200, "PATCH", "/v1/users/"+userID, admin, map[string]any{"role": "agency"})
		}},
		{"session.create", func(t *testing.T) {
			e.Must(200, "POST", "/v1/auth/login", "", map[string]any{"email": "emp@example.org", "password": Password})
		}},
		{"login.fail", func(t *testing.T) {
			e.Do("POST", "/v1/auth/login", "", map[string]any{"email": "emp@example.org", "password": "wrong password!"}).WantError(t, 401, register.EUNAUTHORIZED)
		}},
	} {
		t.Run(s.action, func(t *testing.T) {
			before := e.LastAuditID()
			s.do(t)
			got := e.AuditSince(before)
			if len(got) == 0 || !slices.ContainsFunc(got, func(a auditRow) bool { return a.Action == s.action }) {
				t.Fatalf("entries %v, want a %s", got, s.action)
			}
		})
	}

	t.Run("ReadsWriteNothing", func(t *testing.T) {
		before := e.LastAuditID()
		e.Must(200, "GET", "/v1/registrants/"+n, tok, nil)
		e.Must(200, "GET", "/v1/registrants", tok, nil)
		e.Must(200, "GET", "/v1/registrants/"+n+"/history", tok, nil)
		e.Must(200, "GET", "/v1/public/registrants/"+n, "", nil)
		e.Must(200, "GET", "/v1/public/search?name=quinn", "", nil)
		if got := e.AuditSince(before); len(got) != 0 {
			t.Fatalf("reads wrote %v", got)
		}
	})

	t.Run("ChainVerifies", func(t *testing.T) {
		count, err := sqlite.NewAuditService(e.DB).VerifyAudit(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if last := e.LastAuditID(); int64(count) != last || count < len(steps)+4 {
			t.Fatalf("verified %d entries; the log holds %d and the test made at least %d writes", count, last, len(steps)+4)
		}
	})

	t.Run("AppendOnly", func(t *testing.T) {
		if _, err := e.DB.Writer().Exec(`UPDATE audit_log SET actor = 'someone else' WHERE id = 1`); err == nil {
			t.Fatal("audit_log accepted an UPDATE")
		}
		if _, err := e.DB.Writer().Exec(`DELETE FROM audit_log WHERE id = 1`); err == nil {
			t.Fatal("audit_log accepted a DELETE")
		}
	})
}
