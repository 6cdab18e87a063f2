package http_test

import (
	"testing"

	"github.com/probation-register/register/register"
)

func TestWatchList(t *testing.T) {
	e := newEnv(t)
	admin := e.Token(register.RoleAdmin)
	reg := e.Token(register.RoleRegistrar)
	_, aKey := e.Org(admin, "North Probation Service", "employer")
	_, bKey := e.Org(admin, "Temps Ltd", "agency")
	engaged := e.Practitioner(reg, "Okafor", "Ada", 5, "2027-03-31")
	added := e.Practitioner(reg, "Nowak", "Piotr", 3, "2027-03-31")
	applicant := e.Registrant(reg, "Silva", "Rui")
	e.Must(201, "POST", "/v1/engagements", aKey, map[string]any{"register_number": engaged, "role": "PO", "type": "employed", "from": "2026-03-02"})

	t.Run("everyone engaged plus everyone added", func(t *testing.T) {
		w := e.Must(200, "PUT", "/v1/watchlist/"+added, aKey, nil)
		if w["added"] != true || w["engaged"] != false {
			t.Fatalf("watch %v", w)
		}
		e.Must(200, "PUT", "/v1/watchlist/"+added, aKey, nil) // twice is once
		items := e.Must(200, "GET", "/v1/watchlist", aKey, nil)["items"].([]any)
		if len(items) != 2 {
			t.Fatalf("watch list %v", items)
		}
		for _, it := range items {
			m := it.(map[string]any)
			if (m["register_number"] == engaged) != (m["engaged"] == true) {
				t.Fatalf("watch %v", m)
			}
		}
	})

	t.Run("only people on the register", func(t *testing.T) {
		e.Do("PUT", "/v1/watchlist/"+applicant, aKey, nil).WantError(t, 404, register.ENOTFOUND)
		e.Do("PUT", "/v1/watchlist/PR1", aKey, nil).WantError(t, 400, register.EINVALID)
	})

	t.Run("an organisation sees and changes only its own", func(t *testing.T) {
		if items := e.Must(200, "GET", "/v1/watchlist", bKey, nil)["items"].([]any); len(items) != 0 {
			t.Fatalf("B sees %v", items)
		}
		e.Do("DELETE", "/v1/watchlist/"+added, bKey, nil).WantError(t, 404, register.ENOTFOUND)
		e.Must(204, "DELETE", "/v1/watchlist/"+added, aKey, nil)
		e.Do("DELETE", "/v1/watchlist/"+added, aKey, nil).WantError(t, 404, register.ENOTFOUND)
		// The engaged stay watched: removing what was never added is not found.
		e.Do("DELETE", "/v1/watchlist/"+engaged, aKey, nil).WantError(t, 404, register.ENOTFOUND)
		if items := e.Must(200, "GET", "/v1/watchlist", aKey, nil)["items"].([]any); len(items) != 1 {
			t.Fatalf("after removal %v", items)
		}
	})
}
