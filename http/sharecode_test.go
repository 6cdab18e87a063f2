package http_test

import (
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
)

func TestShareCodes(t *testing.T) {
	e := newEnv(t) // 2026-03-02
	admin := e.Token(register.RoleAdmin)
	reg := e.Token(register.RoleRegistrar)
	_, aKey := e.Org(admin, "North Probation Service", "employer")
	n := e.Practitioner(reg, "Okafor", "Ada", 5, "2027-03-31")
	other := e.Practitioner(reg, "Nowak", "Piotr", 3, "2027-03-31")
	e.Must(201, "POST", "/v1/engagements", aKey, map[string]any{"register_number": n, "role": "PO", "type": "employed", "from": "2026-03-02"})
	mine := activateAccount(e, reg, n)
	theirs := activateAccount(e, reg, other)

	sc := e.Must(201, "POST", "/v1/me/share-codes", mine, map[string]any{"days": 7})
	code := sc["code"].(string)

	t.Run("a code is 9 unambiguous characters", func(t *testing.T) {
		if len(code) != 9 || strings.ContainsAny(code, "01OIL") {
			t.Fatalf("code %q", code)
		}
		for _, days := range []int{0, 91} {
			r := e.Do("POST", "/v1/me/share-codes", mine, map[string]any{"days": days})
			r.WantError(t, 400, register.EINVALID)
			if r.Field(t, "days") == "" {
				t.Fatalf("days not named: %s", r.Body)
			}
		}
	})

	t.Run("the holder sees the fuller view", func(t *testing.T) {
		v := e.Must(200, "GET", "/v1/shared/"+strings.ToLower(code)+"?family_name=okafor", "", nil)
		if v["record"].(map[string]any)["status"] != "registered" {
			t.Fatalf("record %v", v["record"])
		}
		q := v["qualifications"].([]any)[0].(map[string]any)
		if q["awarding_body"] != "Awarding Body" {
			t.Fatalf("qualification %v", q)
		}
		if cpd := v["cpd"].([]any); len(cpd) != 2 || cpd[0].(map[string]any)["cycle_end"] != "2027-03-31" {
			t.Fatalf("cpd %v", cpd)
		}
		if es := v["engagements"].([]any); len(es) != 1 || es[0].(map[string]any)["organisation"] != "North Probation Service" {
			t.Fatalf("engagements %v", es)
		}
		body := string(e.Do("GET", "/v1/shared/"+code+"?family_name=Okafor", "", nil).Body)
		if strings.Contains(body, "1985-06-15") || strings.Contains(body, "@example.org") {
			t.Fatalf("shared view leaks private fields: %s", body)
		}
	})

	t.Run("a wrong name answers like a wrong code", func(t *testing.T) {
		e.Do("GET", "/v1/shared/"+code+"?family_name=Smith", "", nil).WantError(t, 404, register.ENOTFOUND)
		e.Do("GET", "/v1/shared/ABCDEFGHJ?family_name=Okafor", "", nil).WantError(t, 404, register.ENOTFOUND)
		e.Do("GET", "/v1/shared/"+code, "", nil).WantError(t, 400, register.EINVALID)
	})

	t.Run("each use is logged for the registrant", func(t *testing.T) {
		items := e.Must(200, "GET", "/v1/me/checks", mine, nil)["items"].([]any)
		if len(items) != 2 || items[0].(map[string]any)["method"] != "share_code" {
			t.Fatalf("checks %v", items)
		}
	})

	t.Run("only the registrant lists and revokes", func(t *testing.T) {
		list := e.Must(200, "GET", "/v1/me/share-codes", mine, nil)["items"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["hint"] != code[6:] {
			t.Fatalf("list %v", list)
		}
		if _, shown := list[0].(map[string]any)["code"]; shown {
			t.Fatalf("listed code shows its secret: %v", list[0])
		}
		if l := e.Must(200, "GET", "/v1/me/share-codes", theirs, nil)["items"].([]any); len(l) != 0 {
			t.Fatalf("another registrant sees %v", l)
		}
		e.Do("DELETE", "/v1/me/share-codes/"+jsonID(sc["id"]), theirs, nil).WantError(t, 404, register.ENOTFOUND)
		e.Must(200, "GET", "/v1/shared/"+code+"?family_name=Okafor", "", nil)
		r := e.Must(200, "DELETE", "/v1/me/share-codes/"+jsonID(sc["id"]), mine, nil)
		if r["revoked_at"] == nil {
			t.Fatalf("not revoked: %v", r)
		}
		e.Do("GET", "/v1/shared/"+code+"?family_name=Okafor", "", nil).WantError(t, 404, register.ENOTFOUND)
	})

	t.Run("a code expires", func(t *testing.T) {
		short := e.Must(201, "POST", "/v1/me/share-codes", mine, map[string]any{"days": 1})["code"].(string)
		e.Advance(23 * time.Hour)
		e.Must(200, "GET", "/v1/shared/"+short+"?family_name=Okafor", "", nil)
		e.Advance(time.Hour)
		e.Do("GET", "/v1/shared/"+short+"?family_name=Okafor", "", nil).WantError(t, 404, register.ENOTFOUND)
	})
}
