package http_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
)

func TestEngagements(t *testing.T) {
	e := newEnv(t) // 2026-03-02
	admin := e.Token(register.RoleAdmin)
	reg := e.Token(register.RoleRegistrar)
	_, aKey := e.Org(admin, "North Probation Service", "employer")
	_, bKey := e.Org(admin, "Temps Ltd", "agency")
	po := e.Practitioner(reg, "Okafor", "Ada", 5, "2027-03-31")
	pso := e.Practitioner(reg, "Nowak", "Piotr", 3, "2027-03-31")
	applicant := e.Registrant(reg, "Silva", "Rui")

	var aEng string
	t.Run("an authorised person is engaged", func(t *testing.T) {
		m := e.Must(201, "POST", "/v1/engagements", aKey, map[string]any{"register_number": po, "role": "PO", "type": "employed", "from": "2026-03-02"})
		if m["register_number"] != po || m["role"] != "PO" || m["until"] != nil {
			t.Fatalf("engagement %v", m)
		}
		aEng = jsonID(m["id"])
		e.Must(201, "POST", "/v1/engagements", bKey, map[string]any{"register_number": pso, "role": "PSO", "type": "agency_placement", "from": "2026-03-10", "until": "2026-04-10"})
	})

	t.Run("an unauthorised person is refused and told why", func(t *testing.T) {
		for name, body := range map[string]map[string]any{
			"PSO as PO":          {"register_number": pso, "role": "PO", "type": "employed", "from": "2026-03-02"},
			"never admitted":     {"register_number": applicant, "role": "PSO", "type": "employed", "from": "2026-03-02"},
			"lapsed on the date": {"register_number": po, "role": "PO", "type": "secondment", "from": "2027-05-01"},
			"before admission":   {"register_number": po, "role": "PSO", "type": "employed", "from": "2026-01-01"},
		} {
			t.Run(name, func(t *testing.T) {
				d := e.Do("POST", "/v1/engagements", aKey, body).WantError(t, 422, register.EUNPROCESSABLE)
				if msg := d["message"].(string); !strings.Contains(msg, "may not") {
					t.Fatalf("message %q does not say why", msg)
				}
			})
		}
	})

	t.Run("bad fields are named", func(t *testing.T) {
		r := e.Do("POST", "/v1/engagements", aKey, map[string]any{"register_number": "PR1", "role": "boss", "type": "x", "from": "2026-03-02", "until": "2026-01-01"})
		r.WantError(t, 400, register.EINVALID)
		for _, f := range []string{"register_number", "role", "type", "until"} {
			if r.Field(t, f) == "" {
				t.Errorf("no reason for %s: %s", f, r.Body)
			}
		}
		r = e.Do("POST", "/v1/engagements", aKey, map[string]any{"register_number": "PR0000000", "role": "PSO", "type": "employed", "from": "2026-03-02"})
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "register_number") == "" {
			t.Fatalf("unknown number not named: %s", r.Body)
		}
		e.Do("POST", "/v1/engagements", aKey, map[string]any{"register_number": po, "role": "PO", "type": "employed"}).WantError(t, 400, register.EINVALID)
	})

	t.Run("an organisation sees and ends only its own", func(t *testing.T) {
		list := e.Must(200, "GET", "/v1/engagements", aKey, nil)["items"].([]any)
		if len(list) != 1 || jsonID(list[0].(map[string]any)["id"]) != aEng {
			t.Fatalf("A's engagements %v", list)
		}
		list = e.Must(200, "GET", "/v1/engagements", bKey, nil)["items"].([]any)
		if len(list) != 1 || jsonID(list[0].(map[string]any)["id"]) == aEng {
			t.Fatalf("B's engagements %v", list)
		}
		e.Do("GET", "/v1/engagements/"+aEng, bKey, nil).WantError(t, 404, register.ENOTFOUND)
		e.Do("POST", "/v1/engagements/"+aEng+"/end", bKey, map[string]any{"until": "2026-06-30"}).WantError(t, 404, register.ENOTFOUND)
		e.Do("GET", "/v1/engagements/999", aKey, nil).WantError(t, 404, register.ENOTFOUND)
		e.Must(200, "GET", "/v1/engagements/"+aEng, aKey, nil)
	})

	t.Run("ending", func(t *testing.T) {
		e.Do("POST", "/v1/engagements/"+aEng+"/end", aKey, map[string]any{"until": "2026-01-01"}).WantError(t, 400, register.EINVALID)
		e.Advance(24 * time.Hour)
		m := e.Must(200, "POST", "/v1/engagements/"+aEng+"/end", aKey, map[string]any{"until": "2026-06-30"})
		if m["until"] != "2026-06-30" || m["ended_at"] == nil {
			t.Fatalf("ended %v", m)
		}
		e.Do("POST", "/v1/engagements/"+aEng+"/end", aKey, map[string]any{"until": "2026-07-30"}).WantError(t, 409, register.ECONFLICT)
	})

	t.Run("every write is audited", func(t *testing.T) {
		last := e.LastAuditID()
		e.Must(201, "POST", "/v1/engagements", aKey, map[string]any{"register_number": pso, "role": "PSO", "type": "employed", "from": "2026-03-03"})
		a := e.AuditSince(last)
		if len(a) != 1 || a[0].Action != "engagement.create" || !strings.HasPrefix(a[0].Actor, "api_key:") {
			t.Fatalf("audit %v", a)
		}
	})
}

func TestReferrals(t *testing.T) {
	e := newEnv(t)
	admin := e.Token(register.RoleAdmin)
	reg := e.Token(register.RoleRegistrar)
	aID, aKey := e.Org(admin, "North Probation Service", "employer")
	_, bKey := e.Org(admin, "Temps Ltd", "agency")
	n := e.Practitioner(reg, "Okafor", "Ada", 5, "2027-03-31")
	e.Must(201, "POST", "/v1/engagements", aKey, map[string]any{"register_number": n, "role": "PO", "type": "employed", "from": "2026-03-02"})
	referral := map[string]any{"register_number": n, "category": "dismissal_for_malpractice", "allegation": "Dismissed for falsifying risk assessments."}

	t.Run("only about someone the organisation engages", func(t *testing.T) {
		e.Do("POST", "/v1/referrals", bKey, referral).WantError(t, 422, register.EUNPROCESSABLE)
		var cases int
		if err := e.DB.Reader().QueryRow(`SELECT COUNT(*) FROM cases`).Scan(&cases); err != nil {
			t.Fatal(err)
		}
		if cases != 0 {
			t.Fatalf("a refused referral opened %d cases", cases)
		}
	})

	t.Run("bad fields are named", func(t *testing.T) {
		r := e.Do("POST", "/v1/referrals", aKey, map[string]any{"register_number": n, "category": "gossip", "allegation": "x"})
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "category") == "" {
			t.Fatalf("category not named: %s", r.Body)
		}
		e.Do("POST", "/v1/referrals", aKey, map[string]any{"register_number": "PR1", "category": "misconduct", "allegation": "x"}).WantError(t, 400, register.EINVALID)
	})

	var caseID string
	t.Run("opens a case the registrar sees", func(t *testing.T) {
		m := e.Must(201, "POST", "/v1/referrals", aKey, referral)
		if m["stage"] != "received" || m["register_number"] != n {
			t.Fatalf("referral %v", m)
		}
		if _, shown := m["allegation"]; shown {
			t.Fatalf("answer echoes more than the referral's identity: %v", m)
		}
		caseID = jsonID(m["id"])
		k := e.Must(200, "GET", "/v1/cases/"+caseID, reg, nil)
		if k["source"] != "employer" || k["category"] != "dismissal_for_malpractice" || k["kind"] != "referral" {
			t.Fatalf("case %v", k)
		}
		e.Do("GET", "/v1/cases/"+caseID, aKey, nil).WantError(t, 401, register.EUNAUTHORIZED)
	})

	t.Run("no panel member from an organisation that engages the registrant", func(t *testing.T) {
		a, _ := strconv.ParseInt(aID, 10, 64)
		ids := map[string]int64{}
		for _, k := range []string{"chair", "lay", "member"} {
			_, u := e.User("panel."+k+"@example.org", register.RolePanelMember)
			ids[k] = u.ID
		}
		e.OrgUser("panel.north@example.org", register.RolePanelMember, a)
		var northID int64
		if err := e.DB.Reader().QueryRow(`SELECT id FROM users WHERE email = 'panel.north@example.org'`).Scan(&northID); err != nil {
			t.Fatal(err)
		}
		panel := func(registrantSeat int64) map[string]any {
			return map[string]any{"members": []any{
				map[string]any{"user_id": ids["chair"], "seat": "chair"},
				map[string]any{"user_id": ids["lay"], "seat": "lay"},
				map[string]any{"user_id": registrantSeat, "seat": "registrant"},
			}}
		}
		d := e.Do("PUT", "/v1/cases/"+caseID+"/panel", reg, panel(northID)).WantError(t, 422, register.EUNPROCESSABLE)
		if !strings.Contains(d["message"].(string), "conflict of interest") {
			t.Fatalf("message %q does not name the conflict", d["message"])
		}
		e.Must(200, "PUT", "/v1/cases/"+caseID+"/panel", reg, panel(ids["member"]))
	})
}
