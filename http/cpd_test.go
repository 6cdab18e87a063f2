package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
)

// cpdEntry is a valid new CPD entry on date with hours.
func cpdEntry(date string, category string, hours float64) map[string]any {
	return map[string]any{"date": date, "title": "Risk assessment refresher", "category": category, "hours": hours,
		"reflection": "What I learned and how I will use it.", "evidence_ref": "certificate 42"}
}

// logCPD posts an entry and returns its id.
func logCPD(e *env, token string, entry map[string]any) string {
	e.t.Helper()
	return jsonID(e.Must(201, "POST", "/v1/me/cpd", token, entry)["id"])
}

func TestCPDLogIsPrivateToItsOwner(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	a, aTok := staffMember(e, reg, "Achebe", "Ngozi", "2027-03-01")
	_, bTok := staffMember(e, reg, "Barker", "Tom", "2027-03-01")

	created := e.Must(201, "POST", "/v1/me/cpd", aTok, cpdEntry("2026-03-02", "participatory", 1.5))
	id := jsonID(created["id"])
	t.Run("Create", func(t *testing.T) {
		if created["hours"] != 1.5 || created["category"] != "participatory" || created["date"] != "2026-03-02" || created["locked"] != false {
			t.Fatalf("created = %v", created)
		}
	})
	t.Run("ListOwn", func(t *testing.T) {
		if items := e.Must(200, "GET", "/v1/me/cpd", aTok, nil)["items"].([]any); len(items) != 1 {
			t.Fatalf("owner sees %d entries, want 1", len(items))
		}
		if items := e.Must(200, "GET", "/v1/me/cpd", bTok, nil)["items"].([]any); len(items) != 0 {
			t.Fatalf("another registrant sees %d entries, want 0", len(items))
		}
	})
	t.Run("GetOwn", func(t *testing.T) {
		if m := e.Must(200, "GET", "/v1/me/cpd/"+id, aTok, nil); m["reflection"] != "What I learned and how I will use it." {
			t.Fatalf("entry = %v", m)
		}
	})
	t.Run("OtherRegistrantsEntryIsNotFound", func(t *testing.T) {
		e.Do("GET", "/v1/me/cpd/"+id, bTok, nil).WantError(t, 404, register.ENOTFOUND)
		e.Do("PATCH", "/v1/me/cpd/"+id, bTok, map[string]any{"title": "Hijacked"}).WantError(t, 404, register.ENOTFOUND)
		e.Do("DELETE", "/v1/me/cpd/"+id, bTok, nil).WantError(t, 404, register.ENOTFOUND)
		if m := e.Must(200, "GET", "/v1/me/cpd/"+id, aTok, nil); m["title"] != "Risk assessment refresher" {
			t.Fatalf("another registrant changed the entry: %v", m)
		}
	})
	t.Run("MalformedID", func(t *testing.T) {
		e.Do("GET", "/v1/me/cpd/abc", aTok, nil).WantError(t, 404, register.ENOTFOUND)
		e.Do("GET", "/v1/me/cpd/-1", aTok, nil).WantError(t, 404, register.ENOTFOUND)
	})
	t.Run("Update", func(t *testing.T) {
		m := e.Must(200, "PATCH", "/v1/me/cpd/"+id, aTok, map[string]any{"title": "Risk assessment in practice", "hours": 2.25, "category": "self_directed"})
		if m["title"] != "Risk assessment in practice" || m["hours"] != 2.25 || m["category"] != "self_directed" || m["reflection"] == "" {
			t.Fatalf("updated = %v", m)
		}
	})
	t.Run("RegistrarReadsAnyLog", func(t *testing.T) {
		items := e.Must(200, "GET", "/v1/registrants/"+a+"/cpd", reg, nil)["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["reflection"] != "What I learned and how I will use it." {
			t.Fatalf("registrar sees %v", items)
		}
		e.Do("GET", "/v1/registrants/"+otherNumber(a)+"/cpd", reg, nil).WantError(t, 404, register.ENOTFOUND)
	})
	t.Run("NobodyElseReadsTheLog", func(t *testing.T) {
		for _, role := range []register.Role{register.RoleAdmin, register.RoleEmployer, register.RoleAgency, register.RolePanelMember} {
			e.Do("GET", "/v1/registrants/"+a+"/cpd", e.Token(role), nil).WantError(t, 403, register.EFORBIDDEN)
		}
		e.Do("GET", "/v1/registrants/"+a+"/cpd", aTok, nil).WantError(t, 403, register.EFORBIDDEN)
		e.Do("GET", "/v1/registrants/"+a+"/cpd", bTok, nil).WantError(t, 403, register.EFORBIDDEN)
		e.Do("GET", "/v1/registrants/"+a+"/cpd", "", nil).WantError(t, 401, register.EUNAUTHORIZED)
	})
	t.Run("Pages", func(t *testing.T) {
		e.Set(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
		aTok := signIn(e, "ngozi.achebe@example.org")
		for _, d := range []string{"2026-04-01", "2026-05-01", "2026-05-20"} {
			logCPD(e, aTok, cpdEntry(d, "self_directed", 1))
		}
		first := e.Must(200, "GET", "/v1/me/cpd?limit=2", aTok, nil)
		next, _ := first["next"].(string)
		if len(first["items"].([]any)) != 2 || next == "" {
			t.Fatalf("first page = %v", first)
		}
		second := e.Must(200, "GET", "/v1/me/cpd?limit=2&after="+next, aTok, nil)
		if len(second["items"].([]any)) != 2 || second["next"] != nil {
			t.Fatalf("second page = %v", second)
		}
		ranged := e.Must(200, "GET", "/v1/me/cpd?from=2026-04-01&to=2026-05-01", aTok, nil)["items"].([]any)
		if len(ranged) != 2 {
			t.Fatalf("from/to gave %d entries, want 2", len(ranged))
		}
	})
	t.Run("Delete", func(t *testing.T) {
		aTok := signIn(e, "ngozi.achebe@example.org")
		e.Must(204, "DELETE", "/v1/me/cpd/"+id, aTok, nil)
		e.Do("GET", "/v1/me/cpd/"+id, aTok, nil).WantError(t, 404, register.ENOTFOUND)
		e.Do("DELETE", "/v1/me/cpd/"+id, aTok, nil).WantError(t, 404, register.ENOTFOUND)
	})
}

func TestCPDBadFields(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	_, tok := staffMember(e, reg, "Chowdhury", "Rahim", "2027-03-01") // admitted 2026-03-02
	e.Set(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	tok = signIn(e, "rahim.chowdhury@example.org")

	with := func(field string, v any) map[string]any {
		m := cpdEntry("2026-04-01", "participatory", 1)
		if v == nil {
			delete(m, field)
		} else {
			m[field] = v
		}
		return m
	}
	cases := []struct {
		name, field string
		body        any
	}{
		{"DateMissing", "date", with("date", nil)},
		{"DateMalformed", "date", with("date", "01/04/2026")},
		{"DateImpossible", "date", with("date", "2026-02-30")},
		{"DateInFuture", "date", with("date", "2026-05-02")},
		{"DateBeforeAdmission", "date", with("date", "2026-03-01")},
		{"TitleMissing", "title", with("title", nil)},
		{"TitleTooShort", "title", with("title", "ab")},
		{"TitleBlank", "title", with("title", "     ")},
		{"TitleTooLong", "title", with("title", strings.Repeat("t", 201))},
		{"CategoryMissing", "category", with("category", nil)},
		{"CategoryUnknown", "category", with("category", "reading")},
		{"HoursMissing", "hours", with("hours", nil)},
		{"HoursZero", "hours", with("hours", 0)},
		{"HoursNegative", "hours", with("hours", -1)},
		{"HoursTooMany", "hours", with("hours", 24.25)},
		{"HoursNotQuarter", "hours", with("hours", 0.1)},
		{"HoursNotQuarterLarge", "hours", with("hours", 1.3)},
		{"HoursString", "hours", with("hours", "1")},
		{"ReflectionTooLong", "reflection", with("reflection", strings.Repeat("r", 10001))},
		{"EvidenceRefTooLong", "evidence_ref", with("evidence_ref", strings.Repeat("e", 201))},
		{"UnknownField", "register_number", with("register_number", "PR0000000")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do("POST", "/v1/me/cpd", tok, c.body)
			r.WantError(t, 400, register.EINVALID)
			if r.Field(t, c.field) == "" {
				t.Fatalf("%s not named: %s", c.field, r.Body)
			}
		})
	}
	t.Run("BoundsAccepted", func(t *testing.T) {
		e.Must(201, "POST", "/v1/me/cpd", tok, with("hours", 0.25))
		e.Must(201, "POST", "/v1/me/cpd", tok, with("hours", 24))
		e.Must(201, "POST", "/v1/me/cpd", tok, with("reflection", strings.Repeat("é", 10000)))
		e.Must(201, "POST", "/v1/me/cpd", tok, with("date", "2026-03-02"))
		e.Must(201, "POST", "/v1/me/cpd", tok, with("date", "2026-05-01"))
	})
	t.Run("NothingWrittenOnError", func(t *testing.T) {
		if items := e.Must(200, "GET", "/v1/me/cpd", tok, nil)["items"].([]any); len(items) != 5 {
			t.Fatalf("%d entries stored, want only the 5 good ones", len(items))
		}
	})

	id := logCPD(e, tok, cpdEntry("2026-04-01", "self_directed", 1))
	for _, c := range []struct {
		name, field string
		body        any
	}{
		{"PatchHoursNotQuarter", "hours", map[string]any{"hours": 0.3}},
		{"PatchHoursZero", "hours", map[string]any{"hours": 0}},
		{"PatchTitleTooShort", "title", map[string]any{"title": "x"}},
		{"PatchDateFuture", "date", map[string]any{"date": "2027-01-01"}},
		{"PatchCategory", "category", map[string]any{"category": "other"}},
		{"PatchUnknownField", "id", map[string]any{"id": 7}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do("PATCH", "/v1/me/cpd/"+id, tok, c.body)
			r.WantError(t, 400, register.EINVALID)
			if r.Field(t, c.field) == "" {
				t.Fatalf("%s not named: %s", c.field, r.Body)
			}
		})
	}
	t.Run("PatchNothing", func(t *testing.T) {
		e.Do("PATCH", "/v1/me/cpd/"+id, tok, map[string]any{}).WantError(t, 400, register.EINVALID)
	})
	for _, c := range []struct{ name, query, field string }{
		{"ListFrom", "from=yesterday", "from"},
		{"ListTo", "to=2026-13-01", "to"},
		{"ListToBeforeFrom", "from=2026-04-02&to=2026-04-01", "to"},
		{"ListLimit", "limit=0", "limit"},
		{"ListAfter", "after=x", "after"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do("GET", "/v1/me/cpd?"+c.query, tok, nil)
			r.WantError(t, 400, register.EINVALID)
			if r.Field(t, c.field) == "" {
				t.Fatalf("%s not named: %s", c.field, r.Body)
			}
		})
	}
	t.Run("SummaryCycleEnd", func(t *testing.T) {
		r := e.Do("GET", "/v1/me/cpd/summary?cycle_end=2026-02-30", tok, nil)
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "cycle_end") == "" {
			t.Fatalf("cycle_end not named: %s", r.Body)
		}
	})
	t.Run("NotJSON", func(t *testing.T) {
		e.Do("POST", "/v1/me/cpd", tok, "{not json").WantError(t, 400, register.EINVALID)
		e.Do("POST", "/v1/me/cpd", tok, nil).WantError(t, 400, register.EINVALID)
	})
	t.Run("NotYetAdmitted", func(t *testing.T) {
		reg := signIn(e, "registrar@example.org")
		n := e.Registrant(reg, "Dube", "Thandi")
		applicant := activateAccount(e, reg, n)
		r := e.Do("POST", "/v1/me/cpd", applicant, cpdEntry("2026-04-01", "participatory", 1))
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "date") == "" {
			t.Fatalf("date not named: %s", r.Body)
		}
		e.Do("GET", "/v1/me/cpd/summary", applicant, nil).WantError(t, 409, register.ECONFLICT)
	})
}

// summary reads the registrant's CPD summary (for the year ending at
// cycleEnd, or the current one when it is "").
func summary(e *env, token, cycleEnd string) map[string]any {
	e.t.Helper()
	p := "/v1/me/cpd/summary"
	if cycleEnd != "" {
		p += "?cycle_end=" + url.QueryEscape(cycleEnd)
	}
	return e.Must(200, "GET", p, token, nil)
}

func wantSummary(t *testing.T, got map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (summary %v)", k, got[k], v, got)
		}
	}
}

func TestCPDSummaryIsExactAtCycleBoundaries(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	// Admitted 2026-03-02 until 2027-03-01: the year is 2026-03-02 to 2027-03-01.
	staffMember(e, reg, "Evans", "Bethan", "2027-03-01")
	e.Set(time.Date(2027, 3, 1, 8, 0, 0, 0, time.UTC)) // the last day of the year
	tok := signIn(e, "bethan.evans@example.org")

	logCPD(e, tok, cpdEntry("2026-03-02", "participatory", 0.25)) // on cycle_start
	logCPD(e, tok, cpdEntry("2027-03-01", "self_directed", 0.5))  // on cycle_end
	logCPD(e, tok, cpdEntry("2026-07-15", "participatory", 9.75))
	for range 75 {
		logCPD(e, tok, cpdEntry("2026-10-01", "self_directed", 0.25))
	}
	t.Run("OneQuarterShort", func(t *testing.T) {
		wantSummary(t, summary(e, tok, ""), map[string]any{
			"cycle_start": "2026-03-02", "cycle_end": "2027-03-01",
			"hours": 29.25, "participatory_hours": 10.0, "required_hours": 30.0, "required_participatory_hours": 10.0,
			"compliant": false, "remaining_hours": 0.75, "remaining_participatory_hours": 0.0,
			"due_by": "2027-03-01", "days_left": 1.0,
		})
	})
	last := logCPD(e, tok, cpdEntry("2027-03-01", "self_directed", 0.75))
	t.Run("ExactlyMet", func(t *testing.T) {
		r := e.Do("GET", "/v1/me/cpd/summary", tok, nil)
		// 78 quarter-hour steps add up to exactly 30: no 29.999999999999996.
		if !bytes.Contains(r.Body, []byte(`"hours":30,`)) {
			t.Fatalf("hours not exactly 30: %s", r.Body)
		}
		wantSummary(t, r.JSON(t), map[string]any{"compliant": true, "remaining_hours": 0.0, "participatory_hours": 10.0})
	})
	t.Run("EarlierYear", func(t *testing.T) {
		wantSummary(t, summary(e, tok, "2026-03-01"), map[string]any{
			"cycle_start": "2025-03-02", "cycle_end": "2026-03-01", "hours": 0.0, "compliant": false, "days_left": 0.0,
		})
	})

	// Renewing moves registered_until to 2028-03-01: the new year starts the
	// day after the old one ended.
	e.Must(201, "POST", "/v1/me/renewal", tok, map[string]any{"cpd_declaration": true, "good_character_declaration": true})
	e.Set(time.Date(2027, 3, 2, 8, 0, 0, 0, time.UTC))
	tok = signIn(e, "bethan.evans@example.org")
	logCPD(e, tok, cpdEntry("2027-03-02", "participatory", 1.25))
	t.Run("NextYearStartsTheDayAfter", func(t *testing.T) {
		wantSummary(t, summary(e, tok, ""), map[string]any{
			"cycle_start": "2027-03-02", "cycle_end": "2028-03-01", "hours": 1.25, "participatory_hours": 1.25,
			"remaining_hours": 28.75, "remaining_participatory_hours": 8.75, "due_by": "2028-03-01", "days_left": 366.0,
		})
		wantSummary(t, summary(e, tok, "2027-03-01"), map[string]any{"hours": 30.0, "compliant": true})
	})
	t.Run("RenewedYearIsLocked", func(t *testing.T) {
		if m := e.Must(200, "GET", "/v1/me/cpd/"+last, tok, nil); m["locked"] != true {
			t.Fatalf("entry of a renewed year not locked: %v", m)
		}
		e.Do("PATCH", "/v1/me/cpd/"+last, tok, map[string]any{"hours": 24}).WantError(t, 409, register.ECONFLICT)
		e.Do("DELETE", "/v1/me/cpd/"+last, tok, nil).WantError(t, 409, register.ECONFLICT)
		wantSummary(t, summary(e, tok, "2027-03-01"), map[string]any{"hours": 30.0})
	})
	t.Run("LeapYearEnd", func(t *testing.T) {
		// A year ending on 29 February starts on 1 March.
		wantSummary(t, summary(e, tok, "2028-02-29"), map[string]any{"cycle_start": "2027-03-01", "cycle_end": "2028-02-29"})
	})
}

func TestCPDNeverAppearsPublicly(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n, tok := staffMember(e, reg, "Fofana", "Awa", "2026-04-20")
	const secret = "PRIVATE-REFLECTION-7d1f"
	entry := cpdEntry("2026-03-02", "participatory", 2)
	entry["reflection"] = secret
	entry["title"] = "TITLE-OF-CPD-93ac"
	entry["evidence_ref"] = "EVIDENCE-5b2e"
	id := logCPD(e, tok, entry)
	e.Must(200, "PATCH", "/v1/me/cpd/"+id, tok, map[string]any{"reflection": secret + " revised"})
	e.Must(201, "POST", "/v1/me/renewal", tok, map[string]any{"cpd_declaration": true, "good_character_declaration": true})
	e.Must(200, "GET", "/v1/me/cpd/summary", tok, nil)
	e.Must(200, "GET", "/v1/registrants/"+n+"/cpd", reg, nil)

	markers := []string{secret, "TITLE-OF-CPD-93ac", "EVIDENCE-5b2e"}
	check := func(t *testing.T, what string, body []byte) {
		t.Helper()
		for _, p := range markers {
			if bytes.Contains(body, []byte(p)) {
				t.Fatalf("%s shows %q: %s", what, p, body)
			}
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		for _, k := range jsonKeys(v) {
			for _, bad := range []string{"cpd", "reflection", "hours", "renewal", "audit", "evidence"} {
				if strings.Contains(k, bad) {
					t.Fatalf("%s has a field %q: %s", what, k, body)
				}
			}
		}
	}
	for name, path := range map[string]string{
		"Record":   "/v1/public/registrants/" + n,
		"RecordAt": "/v1/public/registrants/" + n + "?at=2026-03-02T12:00:00Z",
		"Search":   "/v1/public/search?name=Fofana",
	} {
		t.Run(name, func(t *testing.T) {
			r := e.Do("GET", path, "", nil)
			if r.Status != 200 || !bytes.Contains(r.Body, []byte(n)) {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			check(t, name, r.Body)
		})
	}
	t.Run("Logs", func(t *testing.T) {
		for _, p := range markers {
			if strings.Contains(e.Log.String(), p) {
				t.Fatalf("the log shows %q", p)
			}
		}
	})
}

// jsonKeys lists every object key in a decoded JSON value, at any depth.
func jsonKeys(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			out = append(out, k)
			out = append(out, jsonKeys(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, jsonKeys(x)...)
		}
	}
	return out
}

// cpdSpecCases are the docs/openapi.yaml rows for registrant accounts, CPD,
// renewals and CPD audits (see specCases). They run after the core rows, at
// 2027-03-02 12:00 with a fresh registrar token, and build their own
// registrants, so the core rows' counts are not disturbed.
func cpdSpecCases() []specCase {
	is := func(name, want string) func(t *testing.T, m map[string]any) {
		return func(t *testing.T, m map[string]any) {
			t.Helper()
			if got := fmt.Sprint(m[name]); got != want {
				t.Errorf("%s = %s, want %s", name, got, want)
			}
		}
	}
	items := func(want int) func(t *testing.T, m map[string]any) {
		return func(t *testing.T, m map[string]any) {
			t.Helper()
			if n := len(m["items"].([]any)); n != want {
				t.Errorf("%d items, want %d", n, want)
			}
		}
	}
	// Earlier rows may leave others due to renew too: at rate 1 all are sampled.
	everyoneDue := func(t *testing.T, m map[string]any) {
		t.Helper()
		if fmt.Sprint(m["size"]) != fmt.Sprint(m["due"]) || len(m["audits"].([]any)) < 2 {
			t.Errorf("rate 1 sampled %v of %v due: %v", m["size"], m["due"], m["audits"])
		}
	}
	admit := func(e *env, fx map[string]string, family, until string) string {
		n := e.Registrant(fx["registrar"], family, "Kim")
		e.Must(200, "POST", "/v1/registrants/"+n+"/registration/admit", fx["registrar"], map[string]any{"registered_until": until})
		return n
	}
	setup := func(e *env, fx map[string]string) {
		fx["cpdme"] = admit(e, fx, "Quint", "2027-04-30") // in the renewal window
		fx["cpdtaken"] = e.Registrant(fx["registrar"], "Rudd", "Kim")
		fx["cpdnew"] = e.Registrant(fx["registrar"], "Sloane", "Kim") // never admitted
	}
	entry := cpdEntry("2027-03-02", "participatory", 10)
	with := func(k string, v any) map[string]any {
		m := cpdEntry("2027-03-02", "participatory", 10)
		m[k] = v
		return m
	}
	return []specCase{
		// accounts
		{name: "issue activation code", before: setup, method: "POST", path: "/v1/registrants/{cpdme}/account", as: "registrar", status: 201, save: map[string]string{"code": "activation_code"}},
		{name: "issue activation code unknown", method: "POST", path: "/v1/registrants/{unknown}/account", as: "registrar", status: 404},
		{name: "issue activation code bad check digit", method: "POST", path: "/v1/registrants/{badcheck}/account", as: "registrar", status: 400},
		{name: "activate short password", method: "POST", path: "/v1/auth/activate", body: map[string]any{"code": "{code}", "password": "short"}, status: 400, request: specRejects},
		{name: "activate unknown field", method: "POST", path: "/v1/auth/activate", body: map[string]any{"code": "{code}", "password": Password, "role": "admin"}, status: 400, request: specRejects},
		{name: "activate", method: "POST", path: "/v1/auth/activate", body: map[string]any{"code": "{code}", "password": Password}, status: 201, check: is("role", "registrant")},
		{name: "activate again", method: "POST", path: "/v1/auth/activate", body: map[string]any{"code": "{code}", "password": Password}, status: 401},
		{name: "issue activation code again", method: "POST", path: "/v1/registrants/{cpdme}/account", as: "registrar", status: 409},
		{name: "activate when the email is taken", before: func(e *env, fx map[string]string) {
			fx["code2"] = e.Must(201, "POST", "/v1/registrants/"+fx["cpdtaken"]+"/account", fx["registrar"], nil)["activation_code"].(string)
			e.User("kim.rudd@example.org", register.RoleEmployer)
		}, method: "POST", path: "/v1/auth/activate", body: map[string]any{"code": "{code2}", "password": Password}, status: 409},
		{name: "sign in as a registrant", method: "POST", path: "/v1/auth/login", body: map[string]any{"email": "kim.quint@example.org", "password": Password}, status: 200, save: map[string]string{"me": "access_token"}},

		// cpd
		{name: "log cpd", method: "POST", path: "/v1/me/cpd", as: "me", body: entry, status: 201, save: map[string]string{"cpd": "id"}},
		{name: "log cpd to delete", method: "POST", path: "/v1/me/cpd", as: "me", body: with("category", "self_directed"), status: 201, save: map[string]string{"cpdgone": "id"}},
		{name: "log cpd not in quarter hours", method: "POST", path: "/v1/me/cpd", as: "me", body: with("hours", 0.1), status: 400, request: specRejects},
		{name: "log cpd in the future", method: "POST", path: "/v1/me/cpd", as: "me", body: with("date", "2027-03-03"), status: 400},
		{name: "list cpd", method: "GET", path: "/v1/me/cpd?from=2027-03-01&to=2027-03-02", as: "me", status: 200, check: items(2)},
		{name: "list cpd bad from", method: "GET", path: "/v1/me/cpd?from=soon", as: "me", status: 400, request: specRejects},
		{name: "get cpd", method: "GET", path: "/v1/me/cpd/{cpd}", as: "me", status: 200, check: is("hours", "10")},
		{name: "get cpd unknown", method: "GET", path: "/v1/me/cpd/999999", as: "me", status: 404},
		{name: "update cpd", method: "PATCH", path: "/v1/me/cpd/{cpd}", as: "me", body: map[string]any{"title": "Motivational interviewing"}, status: 200, check: is("title", "Motivational interviewing")},
		{name: "update cpd with nothing", method: "PATCH", path: "/v1/me/cpd/{cpd}", as: "me", body: map[string]any{}, status: 400, request: specRejects},
		{name: "delete cpd", method: "DELETE", path: "/v1/me/cpd/{cpdgone}", as: "me", status: 204},
		{name: "delete cpd again", method: "DELETE", path: "/v1/me/cpd/{cpdgone}", as: "me", status: 404},
		{name: "update deleted cpd", method: "PATCH", path: "/v1/me/cpd/{cpdgone}", as: "me", body: map[string]any{"hours": 1}, status: 404},
		{name: "cpd summary", method: "GET", path: "/v1/me/cpd/summary", as: "me", status: 200, check: is("remaining_hours", "20")},
		{name: "cpd summary of an earlier year", method: "GET", path: "/v1/me/cpd/summary?cycle_end=2026-04-30", as: "me", status: 200, check: is("hours", "0")},
		{name: "cpd summary bad cycle_end", method: "GET", path: "/v1/me/cpd/summary?cycle_end=yesterday", as: "me", status: 400, request: specRejects},
		{name: "cpd summary before admission", before: func(e *env, fx map[string]string) {
			fx["newme"] = activateAccount(e, fx["registrar"], fx["cpdnew"])
		}, method: "GET", path: "/v1/me/cpd/summary", as: "newme", status: 409},
		{name: "registrar reads cpd", method: "GET", path: "/v1/registrants/{cpdme}/cpd", as: "registrar", status: 200, check: items(1)},
		{name: "registrar reads cpd unknown", method: "GET", path: "/v1/registrants/{unknown}/cpd", as: "registrar", status: 404},
		{name: "registrar reads cpd bad check digit", method: "GET", path: "/v1/registrants/{badcheck}/cpd", as: "registrar", status: 400},

		// renewals
		{name: "my renewal before asking", method: "GET", path: "/v1/me/renewal", as: "me", status: 404},
		{name: "renew without declaring", method: "POST", path: "/v1/me/renewal", as: "me", body: map[string]any{"cpd_declaration": false, "good_character_declaration": true}, status: 400, request: specRejects},
		{name: "renew", method: "POST", path: "/v1/me/renewal", as: "me", body: declare, status: 201, save: map[string]string{"renewal": "id"}, check: is("state", "pending")},
		{name: "renew twice", method: "POST", path: "/v1/me/renewal", as: "me", body: declare, status: 409},
		{name: "my renewal", method: "GET", path: "/v1/me/renewal", as: "me", status: 200, check: is("state", "pending")},
		{name: "list renewals", method: "GET", path: "/v1/renewals?state=pending", as: "registrar", status: 200},
		{name: "list renewals bad state", method: "GET", path: "/v1/renewals?state=maybe", as: "registrar", status: 400, request: specRejects},
		{name: "update submitted cpd", method: "PATCH", path: "/v1/me/cpd/{cpd}", as: "me", body: map[string]any{"hours": 12}, status: 409},
		{name: "delete submitted cpd", method: "DELETE", path: "/v1/me/cpd/{cpd}", as: "me", status: 409},
		{name: "refuse without reason", method: "POST", path: "/v1/renewals/{renewal}/refuse", as: "registrar", body: map[string]any{}, status: 400, request: specRejects},
		{name: "approve unknown renewal", method: "POST", path: "/v1/renewals/999999/approve", as: "registrar", status: 404},
		{name: "refuse unknown renewal", method: "POST", path: "/v1/renewals/999999/refuse", as: "registrar", body: map[string]any{"reason": "short"}, status: 404},
		{name: "approve renewal", method: "POST", path: "/v1/renewals/{renewal}/approve", as: "registrar", status: 200, check: is("registered_until", "2028-04-30")},
		{name: "approve renewal again", method: "POST", path: "/v1/renewals/{renewal}/approve", as: "registrar", status: 409},
		{name: "refuse approved renewal", method: "POST", path: "/v1/renewals/{renewal}/refuse", as: "registrar", body: map[string]any{"reason": "late"}, status: 409},

		// cpd audits: Tate and Ueda are due before May
		{name: "sample cpd audits", before: func(e *env, fx map[string]string) {
			fx["audme"] = activateAccount(e, fx["registrar"], admit(e, fx, "Tate", "2027-04-20"))
			fx["audcpd"] = logCPD(e, fx["audme"], entry)
			admit(e, fx, "Ueda", "2027-04-25")
		}, method: "POST", path: "/v1/cpd-audits/sample", as: "registrar", body: map[string]any{"renewals_due_before": "2027-05-01", "rate": 1, "seed": 2027}, status: 200, check: everyoneDue},
		{name: "sample cpd audits bad rate", method: "POST", path: "/v1/cpd-audits/sample", as: "registrar", body: map[string]any{"renewals_due_before": "2027-05-01", "rate": 0, "seed": 1}, status: 400, request: specRejects},
		{name: "list cpd audits", method: "GET", path: "/v1/cpd-audits?state=selected", as: "registrar", status: 200},
		{name: "list cpd audits bad state", method: "GET", path: "/v1/cpd-audits?state=open", as: "registrar", status: 400, request: specRejects},
		{name: "my cpd audit when not selected", method: "GET", path: "/v1/me/cpd-audit", as: "me", status: 404},
		{name: "my cpd audit", method: "GET", path: "/v1/me/cpd-audit", as: "audme", status: 200, save: map[string]string{"audit": "id"}, check: is("state", "selected")},
		{name: "pass cpd audit before evidence", method: "POST", path: "/v1/cpd-audits/{audit}/pass", as: "registrar", body: map[string]any{}, status: 409},
		{name: "submit cpd audit without evidence", method: "POST", path: "/v1/me/cpd-audit/submit", as: "audme", body: map[string]any{"evidence": []any{}}, status: 400, request: specRejects},
		{name: "submit cpd audit", method: "POST", path: "/v1/me/cpd-audit/submit", as: "audme", body: `{"evidence":[{"activity_id":{audcpd},"evidence_ref":"Certificate MI-2027"}]}`, status: 200, check: is("state", "submitted")},
		{name: "submit cpd audit again", method: "POST", path: "/v1/me/cpd-audit/submit", as: "audme", body: `{"evidence":[{"activity_id":{audcpd},"evidence_ref":"again"}]}`, status: 409},
		{name: "submit cpd audit when none is open", method: "POST", path: "/v1/me/cpd-audit/submit", as: "me", body: `{"evidence":[{"activity_id":{cpd},"evidence_ref":"x"}]}`, status: 404},
		{name: "pass unknown cpd audit", method: "POST", path: "/v1/cpd-audits/999999/pass", as: "registrar", body: map[string]any{}, status: 404},
		{name: "pass cpd audit not JSON", method: "POST", path: "/v1/cpd-audits/{audit}/pass", as: "registrar", body: "{", status: 400, request: specRejects},
		{name: "pass cpd audit", method: "POST", path: "/v1/cpd-audits/{audit}/pass", as: "registrar", body: map[string]any{"reason": "Evidence matches the log."}, status: 200, check: is("state", "passed")},
		{name: "pass cpd audit again", method: "POST", path: "/v1/cpd-audits/{audit}/pass", as: "registrar", body: map[string]any{}, status: 409},
		{name: "fail passed cpd audit", method: "POST", path: "/v1/cpd-audits/{audit}/fail", as: "registrar", body: map[string]any{"reason": "x"}, status: 409},
		{name: "fail cpd audit without reason", before: func(e *env, fx map[string]string) {
			open := e.Must(200, "GET", "/v1/cpd-audits?state=selected", fx["registrar"], nil)["items"].([]any)
			fx["auditfail"] = jsonID(open[0].(map[string]any)["id"])
		}, method: "POST", path: "/v1/cpd-audits/{auditfail}/fail", as: "registrar", body: map[string]any{}, status: 400, request: specRejects},
		{name: "fail unknown cpd audit", method: "POST", path: "/v1/cpd-audits/999999/fail", as: "registrar", body: map[string]any{"reason": "No evidence."}, status: 404},
		{name: "fail cpd audit", method: "POST", path: "/v1/cpd-audits/{auditfail}/fail", as: "registrar", body: map[string]any{"reason": "No evidence."}, status: 200, check: is("state", "failed")},
		{name: "refuse renewal", before: func(e *env, fx map[string]string) {
			me := activateAccount(e, fx["registrar"], admit(e, fx, "Vance", "2027-04-28"))
			fx["renewal2"] = jsonID(e.Must(201, "POST", "/v1/me/renewal", me, declare)["id"])
		}, method: "POST", path: "/v1/renewals/{renewal2}/refuse", as: "registrar", body: map[string]any{"reason": "CPD is 30 hours short."}, status: 200, check: is("state", "refused")},
	}
}
