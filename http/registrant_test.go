package http_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/probation-register/register/register"
)

func TestRegistrantRecord(t *testing.T) {
	e := newEnv(t)
	tok := e.Token(register.RoleRegistrar)

	created := e.Must(201, "POST", "/v1/registrants", tok, map[string]any{
		"family_name": "Okonkwo", "given_names": "Chidi Emeka", "date_of_birth": "1988-04-09",
		"email": "chidi.okonkwo@example.org", "previous_names": []string{"Chidi Eze"},
	})
	n, _ := created["register_number"].(string)
	if _, err := register.ParseNumber(n); err != nil {
		t.Fatalf("register_number %q: %v", n, err)
	}

	t.Run("GetFullRecord", func(t *testing.T) {
		m := e.Must(200, "GET", "/v1/registrants/"+n, tok, nil)
		want := map[string]any{"register_number": n, "family_name": "Okonkwo", "given_names": "Chidi Emeka",
			"date_of_birth": "1988-04-09", "email": "chidi.okonkwo@example.org"}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s = %v, want %v", k, m[k], v)
			}
		}
		if prev := texts(m["previous_names"]); !slices.Equal(prev, []string{"Chidi Eze"}) {
			t.Errorf("previous_names = %v", prev)
		}
		reg, _ := m["registration"].(map[string]any)
		if reg["status"] != "not_registered" {
			t.Errorf("an applicant's registration status = %v, want not_registered", reg["status"])
		}
	})

	t.Run("LowerCasePrefixFindsCanonicalNumber", func(t *testing.T) {
		m := e.Must(200, "GET", "/v1/registrants/pr"+n[2:], tok, nil)
		if m["register_number"] != n {
			t.Fatalf("register_number = %v, want %s", m["register_number"], n)
		}
	})

	t.Run("NameChangeKeepsOldName", func(t *testing.T) {
		m := e.Must(200, "PATCH", "/v1/registrants/"+n, tok, map[string]any{"family_name": "Adeyemi"})
		if m["family_name"] != "Adeyemi" || m["given_names"] != "Chidi Emeka" {
			t.Fatalf("name = %v %v", m["given_names"], m["family_name"])
		}
		if prev := texts(m["previous_names"]); !slices.Equal(prev, []string{"Chidi Eze", "Chidi Emeka Okonkwo"}) {
			t.Fatalf("previous_names = %v", prev)
		}
		got := e.Must(200, "GET", "/v1/registrants/"+n, tok, nil)
		if got["family_name"] != "Adeyemi" || len(texts(got["previous_names"])) != 2 {
			t.Fatalf("stored record = %v", got)
		}
	})

	t.Run("PrivateFieldsChange", func(t *testing.T) {
		m := e.Must(200, "PATCH", "/v1/registrants/"+n, tok, map[string]any{"email": "c.adeyemi@example.org", "date_of_birth": "1988-04-10"})
		if m["email"] != "c.adeyemi@example.org" || m["date_of_birth"] != "1988-04-10" {
			t.Fatalf("record = %v", m)
		}
		if len(texts(m["previous_names"])) != 2 {
			t.Fatalf("a change that is not a name added a previous name: %v", m["previous_names"])
		}
	})

	t.Run("EmptyPatch", func(t *testing.T) {
		e.Do("PATCH", "/v1/registrants/"+n, tok, map[string]any{}).WantError(t, 400, register.EINVALID)
	})

	t.Run("BlankName", func(t *testing.T) {
		r := e.Do("PATCH", "/v1/registrants/"+n, tok, map[string]any{"family_name": " "})
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "family_name") == "" {
			t.Fatalf("family_name not named: %s", r.Body)
		}
	})

	t.Run("UnknownNumber", func(t *testing.T) {
		unknown := unknownNumber(t, n)
		e.Do("GET", "/v1/registrants/"+unknown, tok, nil).WantError(t, 404, register.ENOTFOUND)
		e.Do("PATCH", "/v1/registrants/"+unknown, tok, map[string]any{"family_name": "X"}).WantError(t, 404, register.ENOTFOUND)
	})

	t.Run("MalformedNumber", func(t *testing.T) {
		r := e.Do("GET", "/v1/registrants/PR123", tok, nil)
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "register_number") == "" {
			t.Fatalf("register_number not named: %s", r.Body)
		}
	})
}

func TestListRegistrants(t *testing.T) {
	e := newEnv(t)
	tok := e.Token(register.RoleRegistrar)
	applicant := e.Registrant(tok, "Nakamura", "Hana")
	registered := e.Practitioner(tok, "Nakamura", "Kenji", 3, "2027-01-31")
	lapsed := e.Practitioner(tok, "Brennan", "Siobhan", 5, "2027-01-31")
	e.Must(200, "POST", "/v1/registrants/"+lapsed+"/registration/lapse", tok, map[string]any{"reason": "did not renew"})
	short := e.Practitioner(tok, "Brennan", "Aoife", 3, "2026-03-10")
	all := []string{applicant, registered, lapsed, short}

	list := func(t *testing.T, query string) ([]string, any) {
		t.Helper()
		r := e.Do("GET", "/v1/registrants"+query, tok, nil)
		if r.Status != 200 {
			t.Fatalf("%s: status %d: %s", query, r.Status, r.Body)
		}
		m := r.JSON(t)
		items, ok := m["items"].([]any)
		if !ok {
			t.Fatalf("no items: %v", m)
		}
		var out []string
		for _, it := range items {
			r := it.(map[string]any)
			if r["email"] == nil || r["date_of_birth"] == nil {
				t.Fatalf("the registrar's list lacks private fields: %v", r)
			}
			out = append(out, r["register_number"].(string))
		}
		return out, m["next"]
	}

	t.Run("All", func(t *testing.T) {
		got, next := list(t, "")
		if !slices.Equal(got, all) || next != nil {
			t.Fatalf("got %v next %v, want %v in creation order", got, next, all)
		}
	})
	t.Run("ByName", func(t *testing.T) {
		got, _ := list(t, "?name=nakam")
		if !slices.Equal(got, []string{applicant, registered}) {
			t.Fatalf("got %v", got)
		}
		got, _ = list(t, "?name=brennan+aoi")
		if !slices.Equal(got, []string{short}) {
			t.Fatalf("every word must match: got %v", got)
		}
	})
	t.Run("ByStatus", func(t *testing.T) {
		for status, want := range map[string][]string{
			"applicant":  {applicant},
			"registered": {registered, short},
			"lapsed":     {lapsed},
			"suspended":  nil,
		} {
			if got, _ := list(t, "?status="+status); !slices.Equal(got, want) {
				t.Errorf("status=%s: got %v, want %v", status, got, want)
			}
		}
	})
	t.Run("ByStatusAfterExpiry", func(t *testing.T) {
		start, held := e.Now(), tok
		e.Set(start.AddDate(0, 0, 9)) // past 2026-03-10
		tok = e.Token(register.RoleRegistrar)
		defer func() { e.Set(start); tok = held }()
		if got, _ := list(t, "?status=registered"); !slices.Equal(got, []string{registered}) {
			t.Errorf("registered: got %v", got)
		}
		if got, _ := list(t, "?status=lapsed"); !slices.Equal(got, []string{lapsed, short}) {
			t.Errorf("lapsed: got %v", got)
		}
	})
	t.Run("Pages", func(t *testing.T) {
		var got []string
		query := "?limit=3"
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("pagination does not end")
			}
			page, next := list(t, query)
			if len(page) > 3 {
				t.Fatalf("page of %d, limit 3", len(page))
			}
			got = append(got, page...)
			if next == nil {
				break
			}
			query = "?limit=3&after=" + next.(string)
		}
		if !slices.Equal(got, all) {
			t.Fatalf("pages gave %v, want %v", got, all)
		}
		page, next := list(t, "?limit=2&status=registered")
		if !slices.Equal(page, []string{registered, short}) || next != nil {
			t.Fatalf("filtered page: %v next %v", page, next)
		}
	})
	t.Run("BadQuery", func(t *testing.T) {
		for query, field := range map[string]string{
			"?status=pending": "status",
			"?limit=0":        "limit",
			"?limit=ten":      "limit",
			"?after=-1":       "after",
			"?after=abc":      "after",
			"?name=%21%21":    "name",
		} {
			r := e.Do("GET", "/v1/registrants"+query, tok, nil)
			r.WantError(t, 400, register.EINVALID)
			if r.Field(t, field) == "" {
				t.Errorf("%s: %s not named: %s", query, field, r.Body)
			}
		}
	})
}

func TestQualifications(t *testing.T) {
	e := newEnv(t)
	tok, registrar := e.User("registrar@example.org", register.RoleRegistrar)
	n := e.Registrant(tok, "Kowalski", "Marta")
	path := "/v1/registrants/" + n + "/qualifications"

	q := e.Must(201, "POST", path, tok, map[string]any{
		"level": 5, "title": "Level 5 Diploma in Probation Practice", "awarding_body": "Open University",
		"awarded_on": "2025-07-01", "certificate_ref": "PQIP-77", "state": "claimed",
	})
	id := jsonID(q["id"])
	if q["state"] != "claimed" || q["level"] != 5.0 || q["verified_at"] != nil {
		t.Fatalf("added qualification = %v", q)
	}

	t.Run("Verify", func(t *testing.T) {
		v := e.Must(200, "POST", path+"/"+id+"/verify", tok, nil)
		if v["state"] != "verified" || v["verified_at"] == nil || v["verified_by"] != float64(registrar.ID) {
			t.Fatalf("verified qualification = %v", v)
		}
		m := e.Must(200, "GET", "/v1/registrants/"+n, tok, nil)
		qs, _ := m["qualifications"].([]any)
		if len(qs) != 1 || qs[0].(map[string]any)["state"] != "verified" {
			t.Fatalf("record qualifications = %v", m["qualifications"])
		}
	})
	t.Run("VerifyTwice", func(t *testing.T) {
		e.Do("POST", path+"/"+id+"/verify", tok, nil).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("VerifyUnknown", func(t *testing.T) {
		e.Do("POST", path+"/999/verify", tok, nil).WantError(t, 404, register.ENOTFOUND)
		e.Do("POST", path+"/abc/verify", tok, nil).WantError(t, 404, register.ENOTFOUND)
		other := e.Registrant(tok, "Kowalski", "Piotr")
		e.Do("POST", "/v1/registrants/"+other+"/qualifications/"+id+"/verify", tok, nil).WantError(t, 404, register.ENOTFOUND)
	})
	t.Run("InTrainingNeedsNoAwardDate", func(t *testing.T) {
		m := e.Must(201, "POST", path, tok, map[string]any{
			"level": 5, "title": "PQiP", "awarding_body": "Open University", "certificate_ref": "PQIP-78", "state": "in_training",
		})
		if m["state"] != "in_training" {
			t.Fatalf("state = %v", m["state"])
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		good := map[string]any{"level": 3, "title": "Level 3 Diploma", "awarding_body": "City & Guilds",
			"awarded_on": "2024-07-01", "certificate_ref": "C-1", "state": "claimed"}
		for _, c := range []struct {
			name, field string
			value       any
		}{
			{"LevelFour", "level", 4},
			{"LevelText", "level", "five"},
			{"StateVerified", "state", "verified"},
			{"StateUnknown", "state", "pending"},
			{"FutureAward", "awarded_on", "2026-12-01"},
			{"BadAwardDate", "awarded_on", "2024-02-30"},
			{"MissingTitle", "title", ""},
			{"LongRef", "certificate_ref", strings.Repeat("x", 101)},
		} {
			t.Run(c.name, func(t *testing.T) {
				body := map[string]any{}
				for k, v := range good {
					body[k] = v
				}
				body[c.field] = c.value
				r := e.Do("POST", path, tok, body)
				r.WantError(t, 400, register.EINVALID)
				if r.Field(t, c.field) == "" {
					t.Fatalf("%s not named: %s", c.field, r.Body)
				}
			})
		}
		t.Run("InTrainingLevelThree", func(t *testing.T) {
			body := map[string]any{"level": 3, "title": "L3", "awarding_body": "B", "certificate_ref": "C", "state": "in_training"}
			r := e.Do("POST", path, tok, body)
			r.WantError(t, 400, register.EINVALID)
			if r.Field(t, "state") == "" {
				t.Fatalf("state not named: %s", r.Body)
			}
		})
	})
}

// texts turns a decoded JSON array of strings into a slice.
func texts(v any) []string {
	a, _ := v.([]any)
	out := []string{}
	for _, s := range a {
		out = append(out, s.(string))
	}
	return out
}

// unknownNumber returns a well-formed register number that is none of used.
func unknownNumber(t *testing.T, used ...string) string {
	t.Helper()
	for serial := 123456; ; serial++ {
		n := register.NumberFromSerial(serial)
		if !slices.Contains(used, n) {
			return n
		}
	}
}
