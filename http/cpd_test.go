package http_test

import (
	"bytes"
	"encoding/json"
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
