package http_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
)

var declare = map[string]any{"cpd_declaration": true, "good_character_declaration": true}

// logRequiredCPD logs exactly the default requirement, 10 participatory and
// 20 self-directed hours, on date.
func logRequiredCPD(e *env, token, date string) {
	e.t.Helper()
	logCPD(e, token, cpdEntry(date, "participatory", 10))
	logCPD(e, token, cpdEntry(date, "self_directed", 20))
}

// publicStanding is the registered_until and status the public register shows.
func publicStanding(e *env, number string) (status, until string) {
	e.t.Helper()
	m := e.Must(200, "GET", "/v1/public/registrants/"+number, "", nil)
	until, _ = m["registered_until"].(string)
	return m["status"].(string), until
}

func auditActions(e *env, since int64) []string {
	var out []string
	for _, a := range e.AuditSince(since) {
		out = append(out, a.Action)
	}
	return out
}

func TestRenewalApprovedAutomatically(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n, tok := staffMember(e, reg, "Gallagher", "Niamh", "2026-04-30") // the window opened on 2026-03-01
	logRequiredCPD(e, tok, "2026-03-02")

	since := e.LastAuditID()
	m := e.Must(201, "POST", "/v1/me/renewal", tok, declare)
	t.Run("Approved", func(t *testing.T) {
		if m["state"] != "approved" || m["automatic"] != true || m["registered_until"] != "2027-04-30" ||
			m["compliant"] != true || m["hours"] != 30.0 || len(m["review_reasons"].([]any)) != 0 {
			t.Fatalf("renewal = %v", m)
		}
	})
	t.Run("RegisterMovedOnOneYear", func(t *testing.T) {
		if status, until := publicStanding(e, n); status != "registered" || until != "2027-04-30" {
			t.Fatalf("public register shows %s until %s", status, until)
		}
		items := e.Must(200, "GET", "/v1/registrants/"+n+"/history", reg, nil)["items"].([]any)
		last := items[len(items)-1].(map[string]any)
		if last["registered_until"] != "2027-04-30" || !strings.Contains(last["reason"].(string), "approved automatically") {
			t.Fatalf("history ends with %v", last)
		}
	})
	t.Run("OneTransactionAudited", func(t *testing.T) {
		want := []string{"renewal.request", "registration.renew", "renewal.approve"}
		if got := auditActions(e, since); !slices.Equal(got, want) {
			t.Fatalf("audit actions = %v, want %v", got, want)
		}
	})
	t.Run("SeenByTheRegistrant", func(t *testing.T) {
		if got := e.Must(200, "GET", "/v1/me/renewal", tok, nil); got["id"] != m["id"] || got["state"] != "approved" {
			t.Fatalf("latest renewal = %v", got)
		}
	})
	t.Run("Twice", func(t *testing.T) {
		e.Do("POST", "/v1/me/renewal", tok, declare).WantError(t, 409, register.ECONFLICT)
	})
}

func TestRenewalWaitsWhileACaseIsOpen(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n, tok := staffMember(e, reg, "Quinn", "Ciara", "2026-04-30")
	logRequiredCPD(e, tok, "2026-03-02")
	e.Must(201, "POST", "/v1/cases", reg, map[string]any{"register_number": n, "source": "employer",
		"category": "misconduct", "allegation": "Reported by the employer."})
	m := e.Must(201, "POST", "/v1/me/renewal", tok, declare)
	review := m["review_reasons"].([]any)
	if m["state"] != "pending" || m["compliant"] != true || len(review) != 1 || review[0] != "open_case" {
		t.Fatalf("renewal = %v", m)
	}
	if _, until := publicStanding(e, n); until != "2026-04-30" {
		t.Fatalf("renewed to %s while a case is open", until)
	}
	if a := e.Must(200, "POST", "/v1/renewals/"+jsonID(m["id"])+"/approve", reg, nil); a["registered_until"] != "2027-04-30" {
		t.Fatalf("approved = %v", a)
	}
}

func TestRenewalManualApproval(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n, tok := staffMember(e, reg, "Hussain", "Imran", "2026-04-30")
	logCPD(e, tok, cpdEntry("2026-03-02", "participatory", 5))

	m := e.Must(201, "POST", "/v1/me/renewal", tok, declare)
	id := jsonID(m["id"])
	t.Run("WaitsForARegistrar", func(t *testing.T) {
		review := m["review_reasons"].([]any)
		if m["state"] != "pending" || m["registered_until"] != nil || len(review) != 1 || review[0] != "cpd_not_compliant" || m["hours"] != 5.0 {
			t.Fatalf("renewal = %v", m)
		}
		if _, until := publicStanding(e, n); until != "2026-04-30" {
			t.Fatalf("registered_until moved to %s before approval", until)
		}
	})
	t.Run("Twice", func(t *testing.T) {
		e.Do("POST", "/v1/me/renewal", tok, declare).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("RegistrarLists", func(t *testing.T) {
		items := e.Must(200, "GET", "/v1/renewals?state=pending", reg, nil)["items"].([]any)
		if len(items) != 1 || jsonID(items[0].(map[string]any)["id"]) != id || items[0].(map[string]any)["register_number"] != n {
			t.Fatalf("pending = %v", items)
		}
		if items := e.Must(200, "GET", "/v1/renewals?state=refused", reg, nil)["items"].([]any); len(items) != 0 {
			t.Fatalf("refused = %v", items)
		}
		r := e.Do("GET", "/v1/renewals?state=maybe", reg, nil)
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "state") == "" {
			t.Fatalf("state not named: %s", r.Body)
		}
	})
	t.Run("OnlyRegistrarsDecide", func(t *testing.T) {
		for _, tk := range []string{tok, e.Token(register.RoleEmployer), e.Token(register.RolePanelMember)} {
			e.Do("GET", "/v1/renewals", tk, nil).WantError(t, 403, register.EFORBIDDEN)
			e.Do("POST", "/v1/renewals/"+id+"/approve", tk, nil).WantError(t, 403, register.EFORBIDDEN)
		}
	})
	t.Run("UnknownRequest", func(t *testing.T) {
		e.Do("POST", "/v1/renewals/999/approve", reg, nil).WantError(t, 404, register.ENOTFOUND)
		e.Do("POST", "/v1/renewals/x/approve", reg, nil).WantError(t, 404, register.ENOTFOUND)
	})
	t.Run("Approve", func(t *testing.T) {
		a := e.Must(200, "POST", "/v1/renewals/"+id+"/approve", reg, nil)
		if a["state"] != "approved" || a["automatic"] != false || a["registered_until"] != "2027-04-30" || a["decided_at"] == nil {
			t.Fatalf("approved = %v", a)
		}
		if status, until := publicStanding(e, n); status != "registered" || until != "2027-04-30" {
			t.Fatalf("public register shows %s until %s", status, until)
		}
	})
	t.Run("DecidedOnce", func(t *testing.T) {
		e.Do("POST", "/v1/renewals/"+id+"/approve", reg, nil).WantError(t, 409, register.ECONFLICT)
		e.Do("POST", "/v1/renewals/"+id+"/refuse", reg, map[string]any{"reason": "late thoughts"}).WantError(t, 409, register.ECONFLICT)
	})
}

func TestRenewalRefusedThenLapses(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n, tok := staffMember(e, reg, "Ivanova", "Mila", "2026-04-30")
	entry := logCPD(e, tok, cpdEntry("2026-03-02", "self_directed", 5))
	id := jsonID(e.Must(201, "POST", "/v1/me/renewal", tok, declare)["id"])

	t.Run("SubmittedEntriesLocked", func(t *testing.T) {
		e.Do("PATCH", "/v1/me/cpd/"+entry, tok, map[string]any{"hours": 6}).WantError(t, 409, register.ECONFLICT)
		e.Do("DELETE", "/v1/me/cpd/"+entry, tok, nil).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("ReasonRequired", func(t *testing.T) {
		r := e.Do("POST", "/v1/renewals/"+id+"/refuse", reg, map[string]any{})
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "reason") == "" {
			t.Fatalf("reason not named: %s", r.Body)
		}
		r = e.Do("POST", "/v1/renewals/"+id+"/refuse", reg, map[string]any{"reason": strings.Repeat("x", 1001)})
		r.WantError(t, 400, register.EINVALID)
	})
	t.Run("Refuse", func(t *testing.T) {
		m := e.Must(200, "POST", "/v1/renewals/"+id+"/refuse", reg, map[string]any{"reason": "CPD is 25 hours short."})
		if m["state"] != "refused" || m["reason"] != "CPD is 25 hours short." || m["registered_until"] != nil {
			t.Fatalf("refused = %v", m)
		}
		if got := e.Must(200, "GET", "/v1/me/renewal", tok, nil); got["state"] != "refused" {
			t.Fatalf("the registrant sees %v", got)
		}
		if _, until := publicStanding(e, n); until != "2026-04-30" {
			t.Fatalf("refusal moved registered_until to %s", until)
		}
	})
	t.Run("RefusalFreesTheEntries", func(t *testing.T) {
		e.Must(200, "PATCH", "/v1/me/cpd/"+entry, tok, map[string]any{"hours": 6})
	})
	// After a refusal the registrant may ask again while the window is open.
	again := jsonID(e.Must(201, "POST", "/v1/me/renewal", tok, declare)["id"])

	e.Set(time.Date(2026, 5, 1, 0, 0, 1, 0, time.UTC))
	reg = signIn(e, "registrar@example.org")
	tok = signIn(e, "mila.ivanova@example.org")
	t.Run("LapsedWithoutRenewal", func(t *testing.T) {
		m := e.Must(200, "GET", "/v1/public/registrants/"+n, "", nil)
		if m["status"] != "lapsed" || len(m["authorised_roles"].([]any)) != 0 {
			t.Fatalf("after registered_until the register shows %v", m)
		}
		e.Do("POST", "/v1/me/renewal", tok, declare).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("ApprovalAfterLapseRefused", func(t *testing.T) {
		e.Do("POST", "/v1/renewals/"+again+"/approve", reg, nil).WantError(t, 409, register.ECONFLICT)
		if status, _ := publicStanding(e, n); status != "lapsed" {
			t.Fatalf("status = %s", status)
		}
	})
}

func TestRenewalWindow(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	_, early := staffMember(e, reg, "Jones", "Carys", "2027-03-01")
	t.Run("TooEarly", func(t *testing.T) {
		r := e.Do("POST", "/v1/me/renewal", early, declare)
		r.WantError(t, 409, register.ECONFLICT)
		if !strings.Contains(string(r.Body), "2026-12-31") {
			t.Fatalf("the answer does not say when the window opens: %s", r.Body)
		}
	})
	t.Run("BadDeclarations", func(t *testing.T) {
		for field, body := range map[string]any{
			"cpd_declaration":            map[string]any{"cpd_declaration": false, "good_character_declaration": true},
			"good_character_declaration": map[string]any{"cpd_declaration": true},
		} {
			r := e.Do("POST", "/v1/me/renewal", early, body)
			r.WantError(t, 400, register.EINVALID)
			if r.Field(t, field) == "" {
				t.Fatalf("%s not named: %s", field, r.Body)
			}
		}
		r := e.Do("POST", "/v1/me/renewal", early, map[string]any{"cpd_declaration": "yes", "good_character_declaration": true})
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "cpd_declaration") == "" {
			t.Fatalf("cpd_declaration not named: %s", r.Body)
		}
	})
	t.Run("NotYetAdmitted", func(t *testing.T) {
		applicant := activateAccount(e, reg, e.Registrant(reg, "Kaur", "Jasleen"))
		e.Do("POST", "/v1/me/renewal", applicant, declare).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("LapsedByTheRegistrar", func(t *testing.T) {
		n, tok := staffMember(e, reg, "Lewis", "Gareth", "2026-04-30")
		e.Must(200, "POST", "/v1/registrants/"+n+"/registration/lapse", reg, map[string]any{"reason": "asked to leave"})
		e.Do("POST", "/v1/me/renewal", tok, declare).WantError(t, 409, register.ECONFLICT)
	})
	staffMember(e, reg, "Morgan", "Rhys", "2026-12-31")

	e.Set(time.Date(2026, 12, 30, 23, 59, 0, 0, time.UTC))
	t.Run("DayBeforeWindow", func(t *testing.T) {
		e.Do("POST", "/v1/me/renewal", signIn(e, "carys.jones@example.org"), declare).WantError(t, 409, register.ECONFLICT)
	})
	e.Set(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
	t.Run("FirstDayOfWindow", func(t *testing.T) {
		e.Must(201, "POST", "/v1/me/renewal", signIn(e, "carys.jones@example.org"), declare)
	})
	e.Set(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC))
	t.Run("LastDay", func(t *testing.T) {
		// registered_until itself is the last day the registration holds.
		e.Must(201, "POST", "/v1/me/renewal", signIn(e, "rhys.morgan@example.org"), declare)
	})
}

func TestCPDAuditSample(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	admit := func(family, until string) string {
		n := e.Registrant(reg, family, "Sam")
		e.Must(200, "POST", "/v1/registrants/"+n+"/registration/admit", reg, map[string]any{"registered_until": until})
		return n
	}
	var due []string
	for i := range 100 {
		due = append(due, admit(fmt.Sprintf("Due%03d", i), "2026-04-15"))
	}
	notDue := map[string]bool{}
	for i := range 3 {
		notDue[admit(fmt.Sprintf("Later%d", i), "2026-09-01")] = true
	}
	lapsed := admit("Lapsed", "2026-04-15")
	e.Must(200, "POST", "/v1/registrants/"+lapsed+"/registration/lapse", reg, map[string]any{"reason": "left the service"})
	notDue[lapsed] = true
	notDue[e.Registrant(reg, "Applicant", "Sam")] = true

	sample := func(rate float64, seed int64, before string) map[string]any {
		t.Helper()
		return e.Must(200, "POST", "/v1/cpd-audits/sample", reg, map[string]any{"renewals_due_before": before, "rate": rate, "seed": seed})
	}
	numbers := func(m map[string]any) []string {
		var out []string
		for _, a := range m["audits"].([]any) {
			out = append(out, a.(map[string]any)["register_number"].(string))
		}
		return out
	}

	first := sample(0.1, 42, "2026-05-01")
	t.Run("SizeFollowsRate", func(t *testing.T) {
		if first["due"] != 100.0 || first["size"] != 10.0 || len(numbers(first)) != 10 {
			t.Fatalf("sample = %v", first)
		}
		// 0.07 × 100 is 7.000000000000001 in floating point: the size must still be 7.
		for rate, want := range map[float64]int{0.025: 3, 0.07: 7, 0.0001: 1, 0.261: 27, 0.5: 50} {
			m := sample(rate, 7, "2026-05-01")
			if m["size"] != float64(want) || len(numbers(m)) != want {
				t.Errorf("rate %v: size %v with %d audits, want %d", rate, m["size"], len(numbers(m)), want)
			}
		}
	})
	t.Run("Reproducible", func(t *testing.T) {
		// The documented draw: candidates in register-number order, a PCG
		// seeded with the seed. Anyone can recompute it.
		if want := register.DrawSample(due, 10, 42); !slices.Equal(numbers(first), want) {
			t.Fatalf("sample %v, want %v", numbers(first), want)
		}
		again := sample(0.1, 42, "2026-05-01")
		if !slices.Equal(numbers(again), numbers(first)) {
			t.Fatalf("same seed gave %v then %v", numbers(first), numbers(again))
		}
		for i, a := range again["audits"].([]any) {
			if jsonID(a.(map[string]any)["id"]) != jsonID(first["audits"].([]any)[i].(map[string]any)["id"]) {
				t.Fatal("sampling again opened new audits")
			}
		}
		if other := sample(0.1, 43, "2026-05-01"); slices.Equal(numbers(other), numbers(first)) {
			t.Fatal("seeds 42 and 43 drew the same sample: the seed is not used")
		}
		if want := register.DrawSample(due, 50, 7); !slices.Equal(numbers(sample(0.5, 7, "2026-05-01")), want) {
			t.Fatal("seed 7 does not reproduce")
		}
	})
	t.Run("OnlyThoseDue", func(t *testing.T) {
		for _, n := range numbers(sample(1, 3, "2026-05-01")) {
			if notDue[n] {
				t.Fatalf("%s is not due but was sampled", n)
			}
		}
		if m := sample(1, 3, "2026-05-01"); m["due"] != 100.0 || len(numbers(m)) != 100 {
			t.Fatalf("rate 1 gave %v of %v", len(numbers(m)), m["due"])
		}
	})
	t.Run("NobodyDue", func(t *testing.T) {
		m := sample(0.5, 1, "2026-03-03")
		if m["due"] != 0.0 || m["size"] != 0.0 || len(m["audits"].([]any)) != 0 {
			t.Fatalf("sample = %v", m)
		}
	})
	t.Run("AuditsOpened", func(t *testing.T) {
		items := e.Must(200, "GET", "/v1/cpd-audits?state=selected&limit=200", reg, nil)["items"].([]any)
		if len(items) != 100 {
			t.Fatalf("%d audits open, want 100", len(items))
		}
		a := items[0].(map[string]any)
		if a["cycle_start"] != "2025-04-16" || a["cycle_end"] != "2026-04-15" || a["state"] != "selected" {
			t.Fatalf("audit = %v", a)
		}
	})
	t.Run("BadFields", func(t *testing.T) {
		good := func(k string, v any) map[string]any {
			m := map[string]any{"renewals_due_before": "2026-05-01", "rate": 0.025, "seed": 1}
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
			return m
		}
		for _, c := range []struct {
			name, field string
			body        map[string]any
		}{
			{"RateZero", "rate", good("rate", 0)},
			{"RateNegative", "rate", good("rate", -0.1)},
			{"RateAboveOne", "rate", good("rate", 1.5)},
			{"RateMissing", "rate", good("rate", nil)},
			{"SeedNegative", "seed", good("seed", -1)},
			{"SeedFraction", "seed", good("seed", 1.5)},
			{"SeedMissing", "seed", good("seed", nil)},
			{"DateMissing", "renewals_due_before", good("renewals_due_before", nil)},
			{"DateMalformed", "renewals_due_before", good("renewals_due_before", "May 2026")},
			{"UnknownField", "size", good("size", 3)},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.Do("POST", "/v1/cpd-audits/sample", reg, c.body)
				r.WantError(t, 400, register.EINVALID)
				if r.Field(t, c.field) == "" {
					t.Fatalf("%s not named: %s", c.field, r.Body)
				}
			})
		}
	})
	t.Run("OnlyRegistrars", func(t *testing.T) {
		for _, role := range []register.Role{register.RoleRegistrant, register.RoleEmployer, register.RolePanelMember} {
			e.Do("POST", "/v1/cpd-audits/sample", e.Token(role), map[string]any{"renewals_due_before": "2026-05-01", "rate": 0.1, "seed": 1}).
				WantError(t, 403, register.EFORBIDDEN)
		}
	})
}

func TestCPDAuditPassedThenRenewed(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n, tok := staffMember(e, reg, "Nowak", "Piotr", "2026-04-15")
	_, other := staffMember(e, reg, "Osei", "Efua", "2026-09-01")
	otherEntry := logCPD(e, other, cpdEntry("2026-03-02", "participatory", 1))
	logRequiredCPD(e, tok, "2026-03-02")
	entries := e.Must(200, "GET", "/v1/me/cpd", tok, nil)["items"].([]any)
	first := jsonID(entries[0].(map[string]any)["id"])

	s := e.Must(200, "POST", "/v1/cpd-audits/sample", reg, map[string]any{"renewals_due_before": "2026-05-01", "rate": 0.025, "seed": 9})
	audit := s["audits"].([]any)[0].(map[string]any)
	id := jsonID(audit["id"])
	t.Run("Selected", func(t *testing.T) {
		if audit["register_number"] != n {
			t.Fatalf("sampled %v, want the only registrant due, %s", audit["register_number"], n)
		}
		m := e.Must(200, "GET", "/v1/me/cpd-audit", tok, nil)
		if m["state"] != "selected" || jsonID(m["id"]) != id || m["cycle_end"] != "2026-04-15" {
			t.Fatalf("the registrant sees %v", m)
		}
		e.Do("GET", "/v1/me/cpd-audit", other, nil).WantError(t, 404, register.ENOTFOUND)
	})
	t.Run("AuditedYearLocked", func(t *testing.T) {
		e.Do("PATCH", "/v1/me/cpd/"+first, tok, map[string]any{"hours": 12}).WantError(t, 409, register.ECONFLICT)
		e.Do("DELETE", "/v1/me/cpd/"+first, tok, nil).WantError(t, 409, register.ECONFLICT)
	})
	renewal := e.Must(201, "POST", "/v1/me/renewal", tok, declare)
	t.Run("RenewalWaitsForTheAudit", func(t *testing.T) {
		review := renewal["review_reasons"].([]any)
		if renewal["state"] != "pending" || renewal["compliant"] != true || len(review) != 1 || review[0] != "cpd_audit" {
			t.Fatalf("renewal = %v", renewal)
		}
		e.Do("POST", "/v1/renewals/"+jsonID(renewal["id"])+"/approve", reg, nil).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("CannotPassWithoutEvidence", func(t *testing.T) {
		e.Do("POST", "/v1/cpd-audits/"+id+"/pass", reg, map[string]any{}).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("BadEvidence", func(t *testing.T) {
		for _, c := range []struct {
			name, field string
			body        any
		}{
			{"Empty", "evidence", map[string]any{"evidence": []any{}}},
			{"Missing", "evidence", map[string]any{}},
			{"OthersEntry", "evidence[0].activity_id", map[string]any{"evidence": []any{map[string]any{"activity_id": jsonNumber(otherEntry), "evidence_ref": "cert"}}}},
			{"UnknownEntry", "evidence[0].activity_id", map[string]any{"evidence": []any{map[string]any{"activity_id": 9999, "evidence_ref": "cert"}}}},
			{"NoReference", "evidence[0].evidence_ref", map[string]any{"evidence": []any{map[string]any{"activity_id": jsonNumber(first)}}}},
			{"Twice", "evidence[1].activity_id", map[string]any{"evidence": []any{
				map[string]any{"activity_id": jsonNumber(first), "evidence_ref": "a"}, map[string]any{"activity_id": jsonNumber(first), "evidence_ref": "b"}}}},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.Do("POST", "/v1/me/cpd-audit/submit", tok, c.body)
				r.WantError(t, 400, register.EINVALID)
				if r.Field(t, c.field) == "" {
					t.Fatalf("%s not named: %s", c.field, r.Body)
				}
			})
		}
		if m := e.Must(200, "GET", "/v1/me/cpd-audit", tok, nil); m["state"] != "selected" {
			t.Fatalf("bad evidence changed the audit: %v", m)
		}
	})
	t.Run("Submit", func(t *testing.T) {
		m := e.Must(200, "POST", "/v1/me/cpd-audit/submit", tok, map[string]any{"evidence": []any{
			map[string]any{"activity_id": jsonNumber(first), "evidence_ref": "Certificate RA-2026-114"}}})
		if m["state"] != "submitted" || len(m["evidence"].([]any)) != 1 {
			t.Fatalf("submitted = %v", m)
		}
		e.Do("POST", "/v1/me/cpd-audit/submit", tok, map[string]any{"evidence": []any{
			map[string]any{"activity_id": jsonNumber(first), "evidence_ref": "again"}}}).WantError(t, 409, register.ECONFLICT)
		e.Do("POST", "/v1/me/cpd-audit/submit", other, map[string]any{"evidence": []any{
			map[string]any{"activity_id": jsonNumber(otherEntry), "evidence_ref": "x"}}}).WantError(t, 404, register.ENOTFOUND)
	})
	t.Run("OnlyRegistrarsDecide", func(t *testing.T) {
		e.Do("POST", "/v1/cpd-audits/"+id+"/pass", tok, map[string]any{}).WantError(t, 403, register.EFORBIDDEN)
		e.Do("POST", "/v1/cpd-audits/"+id+"/maybe", reg, map[string]any{}).WantError(t, 404, register.ENOTFOUND)
		e.Do("POST", "/v1/cpd-audits/9999/pass", reg, map[string]any{}).WantError(t, 404, register.ENOTFOUND)
	})
	t.Run("Pass", func(t *testing.T) {
		m := e.Must(200, "POST", "/v1/cpd-audits/"+id+"/pass", reg, map[string]any{"reason": "Evidence matches the log."})
		if m["state"] != "passed" || m["decided_at"] == nil {
			t.Fatalf("passed = %v", m)
		}
		e.Do("POST", "/v1/cpd-audits/"+id+"/fail", reg, map[string]any{"reason": "changed my mind"}).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("ThenApproved", func(t *testing.T) {
		m := e.Must(200, "POST", "/v1/renewals/"+jsonID(renewal["id"])+"/approve", reg, nil)
		if m["state"] != "approved" || m["registered_until"] != "2027-04-15" {
			t.Fatalf("approved = %v", m)
		}
		if _, until := publicStanding(e, n); until != "2027-04-15" {
			t.Fatalf("public registered_until = %s", until)
		}
	})
	t.Run("EvidenceStaysLocked", func(t *testing.T) {
		if m := e.Must(200, "GET", "/v1/me/cpd/"+first, tok, nil); m["locked"] != true {
			t.Fatalf("audited entry = %v", m)
		}
	})
}

// jsonNumber turns an id read back as JSON text into a number for a body.
func jsonNumber(id string) int64 {
	var n int64
	fmt.Sscan(id, &n)
	return n
}

func TestCPDAuditFailedRefusesRenewal(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n, tok := staffMember(e, reg, "Patel", "Anjali", "2026-04-15")
	logRequiredCPD(e, tok, "2026-03-02")
	s := e.Must(200, "POST", "/v1/cpd-audits/sample", reg, map[string]any{"renewals_due_before": "2026-05-01", "rate": 0.025, "seed": 5})
	id := jsonID(s["audits"].([]any)[0].(map[string]any)["id"])
	renewal := jsonID(e.Must(201, "POST", "/v1/me/renewal", tok, declare)["id"])

	t.Run("ReasonRequired", func(t *testing.T) {
		r := e.Do("POST", "/v1/cpd-audits/"+id+"/fail", reg, map[string]any{"reason": "  "})
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "reason") == "" {
			t.Fatalf("reason not named: %s", r.Body)
		}
	})
	since := e.LastAuditID()
	t.Run("Fail", func(t *testing.T) {
		m := e.Must(200, "POST", "/v1/cpd-audits/"+id+"/fail", reg, map[string]any{"reason": "No evidence supplied."})
		if m["state"] != "failed" || m["reason"] != "No evidence supplied." {
			t.Fatalf("failed = %v", m)
		}
		if got, want := auditActions(e, since), []string{"cpd_audit.fail", "renewal.refuse"}; !slices.Equal(got, want) {
			t.Fatalf("audit actions = %v, want %v", got, want)
		}
	})
	t.Run("RenewalRefused", func(t *testing.T) {
		m := e.Must(200, "GET", "/v1/me/renewal", tok, nil)
		if jsonID(m["id"]) != renewal || m["state"] != "refused" || !strings.Contains(m["reason"].(string), "CPD audit failed") {
			t.Fatalf("renewal = %v", m)
		}
		e.Do("POST", "/v1/renewals/"+renewal+"/approve", reg, nil).WantError(t, 409, register.ECONFLICT)
		e.Do("POST", "/v1/me/renewal", tok, declare).WantError(t, 409, register.ECONFLICT)
		if _, until := publicStanding(e, n); until != "2026-04-15" {
			t.Fatalf("a failed audit renewed the registration to %s", until)
		}
	})
	e.Set(time.Date(2026, 4, 16, 0, 0, 0, 0, time.UTC))
	t.Run("Lapses", func(t *testing.T) {
		if status, _ := publicStanding(e, n); status != "lapsed" {
			t.Fatalf("status = %s", status)
		}
	})
}
