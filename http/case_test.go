package http_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// ftp is a register with the people fitness to practise needs: a registrar,
// a panel of three (chair, lay, registrant member) and a panel member who
// sits on no panel. Tokens are issued afresh on every call, because tests
// move the clock by months and an access token lasts 15 minutes.
type ftp struct {
	*env
	registrar, chair, lay, member, outsider *register.User
}

func newFTP(t *testing.T) *ftp {
	e := newEnv(t)
	f := &ftp{env: e}
	_, f.registrar = e.User("registrar@example.org", register.RoleRegistrar)
	_, f.chair = e.User("chair@example.org", register.RolePanelMember)
	_, f.lay = e.User("lay@example.org", register.RolePanelMember)
	_, f.member = e.User("member@example.org", register.RolePanelMember)
	_, f.outsider = e.User("outsider@example.org", register.RolePanelMember)
	return f
}

// tok is a fresh access token for u at the current test clock.
func (f *ftp) tok(u *register.User) string {
	f.t.Helper()
	tok, err := f.Server.Tokens.Issue(u)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

func (f *ftp) reg() string { return f.tok(f.registrar) }

// practitioner admits a verified Probation Officer (authorised PSO and PO).
func (f *ftp) practitioner(family string) string {
	f.t.Helper()
	return f.Practitioner(f.reg(), family, "Sam", 5, "2028-12-31")
}

// referral opens a referral about number and returns the case id.
func (f *ftp) referral(number, allegation string) string {
	f.t.Helper()
	m := f.Must(201, "POST", "/v1/cases", f.reg(), map[string]any{"register_number": number, "source": "employer",
		"category": "misconduct", "allegation": allegation})
	return jsonID(m["id"])
}

func (f *ftp) stage(id, to string) map[string]any {
	f.t.Helper()
	return f.Must(200, "POST", "/v1/cases/"+id+"/stage", f.reg(), map[string]any{"to": to, "reason": "moved by test"})
}

func (f *ftp) seatPanel(id string) {
	f.t.Helper()
	f.Must(200, "PUT", "/v1/cases/"+id+"/panel", f.reg(), map[string]any{"members": []map[string]any{
		{"user_id": f.chair.ID, "seat": "chair"}, {"user_id": f.lay.ID, "seat": "lay"}, {"user_id": f.member.ID, "seat": "registrant"}}})
}

// toHearing opens a referral, seats the panel and brings it to a hearing.
func (f *ftp) toHearing(number, allegation string) string {
	f.t.Helper()
	id := f.referral(number, allegation)
	f.stage(id, "investigation")
	f.seatPanel(id)
	f.stage(id, "referred_to_panel")
	f.stage(id, "hearing")
	return id
}

// propose has the chair propose a decision and returns its id.
func (f *ftp) propose(id string, body map[string]any) string {
	f.t.Helper()
	if _, ok := body["public_summary"]; !ok {
		body["public_summary"] = "The panel made a " + body["kind"].(string) + " decision."
	}
	if _, ok := body["reasons"]; !ok {
		body["reasons"] = "Private reasons of the panel."
	}
	return jsonID(f.Must(201, "POST", "/v1/cases/"+id+"/decisions", f.tok(f.chair), body)["id"])
}

// decide proposes a decision and has the chair and the lay member agree:
// a majority of three. It returns the decision as made.
func (f *ftp) decide(id string, body map[string]any) map[string]any {
	f.t.Helper()
	d := f.propose(id, body)
	f.vote(d, f.chair, "agree")
	m := f.vote(d, f.lay, "agree")
	if m["state"] != "made" {
		f.t.Fatalf("decision not made after a majority agreed: %v", m)
	}
	return m
}

func (f *ftp) vote(decision string, u *register.User, vote string) map[string]any {
	f.t.Helper()
	return f.Must(201, "POST", "/v1/decisions/"+decision+"/votes", f.tok(u), map[string]any{"vote": vote})
}

// public is the public answer now (at zero) or as at an instant.
func (f *ftp) public(number string, at time.Time) map[string]any {
	f.t.Helper()
	path := "/v1/public/registrants/" + number
	if !at.IsZero() {
		path += "?at=" + url.QueryEscape(at.Format(time.RFC3339))
	}
	return f.Must(200, "GET", path, "", nil)
}

func (f *ftp) verifyAudit() {
	f.t.Helper()
	if n, err := sqlite.NewAuditService(f.DB).VerifyAudit(context.Background()); err != nil || n == 0 {
		f.t.Fatalf("audit chain: %d entries, %v", n, err)
	}
}

// standing summarises a public answer for comparison: status, roles,
// sanction kinds, condition codes and the interim order's kind.
func standing(m map[string]any) string {
	var roles, sanctions, conditions []string
	for _, r := range m["authorised_roles"].([]any) {
		roles = append(roles, r.(string))
	}
	for _, s := range m["sanctions"].([]any) {
		sanctions = append(sanctions, s.(map[string]any)["kind"].(string))
	}
	for _, c := range m["conditions"].([]any) {
		conditions = append(conditions, c.(map[string]any)["code"].(string))
	}
	interim := "-"
	if io, ok := m["interim_order"].(map[string]any); ok {
		interim = io["kind"].(string)
	}
	return fmt.Sprintf("%s roles=%s sanctions=%s conditions=%s interim=%s", m["status"],
		strings.Join(roles, ","), strings.Join(sanctions, ","), strings.Join(conditions, ","), interim)
}

// wantStanding checks the public answer both as at t (asked later, or
// earlier) and, when t is the clock, as the current answer.
func (f *ftp) wantStanding(number string, at time.Time, want string) {
	f.t.Helper()
	if got := standing(f.public(number, at)); got != want {
		f.t.Fatalf("as at %s: %s\nwant %s", at.Format(time.RFC3339), got, want)
	}
}

const (
	registered = "registered roles=PSO,PO sanctions= conditions= interim=-"
	removed    = "removed roles= sanctions=removal conditions= interim=-"
)

func TestCaseWholePath(t *testing.T) {
	f := newFTP(t)
	n := f.practitioner("Okoro")
	t0 := f.Now()

	id := f.referral(n, "Falsified supervision records.")
	f.stage(id, "investigation")
	f.seatPanel(id)

	// Interim suspension while the case is investigated.
	f.Advance(24 * time.Hour)
	interimAt := f.Now()
	f.decide(id, map[string]any{"kind": "interim_suspension", "months": 12})
	f.wantStanding(n, time.Time{}, "suspended roles= sanctions= conditions= interim=interim_suspension")

	f.stage(id, "referred_to_panel")
	f.stage(id, "hearing")
	f.Advance(60 * 24 * time.Hour)
	decidedAt := f.Now()
	d := f.decide(id, map[string]any{"kind": "removal"})
	effect := decidedAt.AddDate(0, 0, 28)
	if d["takes_effect_at"] != effect.Format(time.RFC3339) {
		t.Fatalf("takes_effect_at = %v, want %s", d["takes_effect_at"], effect.Format(time.RFC3339))
	}
	c := f.Must(200, "GET", "/v1/cases/"+id, f.reg(), nil)
	if c["stage"] != "decided" {
		t.Fatalf("stage = %v", c["stage"])
	}

	// During the appeal period the interim suspension holds; the removal
	// takes effect when it ends, and the interim order ends with it.
	f.wantStanding(n, effect.Add(-time.Second), "suspended roles= sanctions= conditions= interim=interim_suspension")
	f.wantStanding(n, effect, removed)
	f.Set(effect)
	f.wantStanding(n, time.Time{}, removed)
	if c := f.Must(200, "GET", "/v1/cases/"+id, f.reg(), nil); c["stage"] != "final" {
		t.Fatalf("after the appeal period the case reads %v, want final", c["stage"])
	}
	// History as at earlier instants is unchanged.
	f.wantStanding(n, t0, registered)
	f.wantStanding(n, interimAt.Add(-time.Second), registered)
	f.wantStanding(n, interimAt, "suspended roles= sanctions= conditions= interim=interim_suspension")

	// Restoration may not be applied for within 5 years of the removal.
	restore := map[string]any{"register_number": n, "kind": "restoration", "source": "self", "allegation": "I have retrained."}
	f.Do("POST", "/v1/cases", f.reg(), restore).WantError(t, 409, register.ECONFLICT)
	f.Set(effect.AddDate(5, 0, 0).Add(-time.Second))
	f.Do("POST", "/v1/cases", f.reg(), restore).WantError(t, 409, register.ECONFLICT)
	f.Set(effect.AddDate(5, 0, 0))
	rid := jsonID(f.Must(201, "POST", "/v1/cases", f.reg(), restore)["id"])
	f.Do("POST", "/v1/cases", f.reg(), restore).WantError(t, 409, register.ECONFLICT) // one application at a time
	f.stage(rid, "investigation")
	f.seatPanel(rid)
	f.stage(rid, "referred_to_panel")
	f.stage(rid, "hearing")
	t.Run("RestorationOnlyOnRestorationCases", func(t *testing.T) {
		f.Do("POST", "/v1/cases/"+rid+"/decisions", f.tok(f.chair), map[string]any{"kind": "suspension", "months": 3,
			"public_summary": "s", "reasons": "r"}).WantError(t, 409, register.ECONFLICT)
	})
	f.Advance(time.Hour)
	restoredAt := f.Now()
	until := register.DateOf(restoredAt).AddDate(1, 0, 0).String()
	f.decide(rid, map[string]any{"kind": "restoration", "registered_until": until})
	m := f.public(n, time.Time{})
	if standing(m) != registered || m["registered_until"] != until {
		t.Fatalf("after restoration: %s until %v", standing(m), m["registered_until"])
	}
	if c := f.Must(200, "GET", "/v1/cases/"+rid, f.reg(), nil); c["stage"] != "final" {
		t.Fatalf("restoration case stage = %v", c["stage"])
	}
	f.wantStanding(n, restoredAt.Add(-time.Second), removed)
	f.wantStanding(n, decidedAt, "suspended roles= sanctions= conditions= interim=interim_suspension")

	t.Run("HistoryKeepsEveryPeriod", func(t *testing.T) {
		h := f.Must(200, "GET", "/v1/registrants/"+n+"/history", f.reg(), nil)["items"].([]any)
		var got []string
		for _, p := range h {
			got = append(got, p.(map[string]any)["status"].(string))
		}
		want := "registered suspended removed registered"
		if strings.Join(got, " ") != want {
			t.Fatalf("history = %v, want %s", got, want)
		}
	})
	t.Run("RenewAfterRestoration", func(t *testing.T) {
		f.Advance(24 * time.Hour)
		next := register.DateOf(f.Now()).AddDate(2, 0, 0).String()
		f.Must(200, "POST", "/v1/registrants/"+n+"/registration/renew", f.reg(), map[string]any{"registered_until": next})
		if m := f.public(n, time.Time{}); m["registered_until"] != next || m["status"] != "registered" {
			t.Fatalf("after renewal: %v until %v", m["status"], m["registered_until"])
		}
	})
	f.verifyAudit()
}

func TestCaseStageMoves(t *testing.T) {
	f := newFTP(t)
	n := f.practitioner("Stage")
	all := []string{"received", "investigation", "closed_no_case", "referred_to_panel", "hearing", "decided", "appealed", "final"}
	legal := map[string]string{
		"received":          "investigation",
		"investigation":     "closed_no_case referred_to_panel",
		"referred_to_panel": "hearing",
		"decided":           "appealed",
	}
	// at brings a fresh case to a stage.
	at := func(stage string) string {
		id := f.referral(n, "Allegation.")
		path := map[string][]string{
			"received":          {},
			"investigation":     {"investigation"},
			"closed_no_case":    {"investigation", "closed_no_case"},
			"referred_to_panel": {"investigation", "referred_to_panel"},
			"hearing":           {"investigation", "referred_to_panel", "hearing"},
			"decided":           {"investigation", "referred_to_panel", "hearing"},
			"appealed":          {"investigation", "referred_to_panel", "hearing"},
			"final":             {"investigation", "referred_to_panel", "hearing"},
		}[stage]
		for _, s := range path {
			if s == "referred_to_panel" {
				f.seatPanel(id)
			}
			f.stage(id, s)
		}
		switch stage {
		case "decided", "appealed", "final":
			f.decide(id, map[string]any{"kind": "advice"})
		}
		switch stage {
		case "appealed":
			f.Must(200, "POST", "/v1/cases/"+id+"/appeal", f.reg(), map[string]any{"reason": "appeal"})
		case "final":
			f.Must(200, "POST", "/v1/cases/"+id+"/appeal", f.reg(), map[string]any{})
			f.Must(200, "POST", "/v1/cases/"+id+"/appeal/outcome", f.reg(), map[string]any{"result": "upheld"})
		}
		if got := f.Must(200, "GET", "/v1/cases/"+id, f.reg(), nil)["stage"]; got != stage {
			t.Fatalf("set-up reached %v, want %s", got, stage)
		}
		return id
	}
	for _, from := range all {
		for _, to := range all {
			ok := strings.Contains(" "+legal[from]+" ", " "+to+" ")
			name := "Illegal"
			if ok {
				name = "Legal"
			}
			t.Run(name+"/"+from+"_to_"+to, func(t *testing.T) {
				id := at(from)
				before := f.LastAuditID()
				r := f.Do("POST", "/v1/cases/"+id+"/stage", f.reg(), map[string]any{"to": to})
				if ok {
					if r.Status != 200 || r.JSON(t)["stage"] != to {
						t.Fatalf("legal move refused: %d %s", r.Status, r.Body)
					}
					return
				}
				d := r.WantError(t, 409, register.ECONFLICT)
				if !strings.Contains(d["message"].(string), to) && to != "decided" {
					t.Fatalf("message does not name the move: %v", d["message"])
				}
				if f.LastAuditID() != before {
					t.Fatal("a refused move wrote to the audit log")
				}
			})
		}
	}
	t.Run("HearingNeedsPanel", func(t *testing.T) {
		id := f.referral(n, "Allegation.")
		f.stage(id, "investigation")
		f.stage(id, "referred_to_panel")
		d := f.Do("POST", "/v1/cases/"+id+"/stage", f.reg(), map[string]any{"to": "hearing"}).WantError(t, 409, register.ECONFLICT)
		if !strings.Contains(d["message"].(string), "panel") {
			t.Fatalf("message = %v", d["message"])
		}
	})
	t.Run("NotWhileAProposalIsOpen", func(t *testing.T) {
		id := f.referral(n, "Allegation.")
		f.stage(id, "investigation")
		f.seatPanel(id)
		f.propose(id, map[string]any{"kind": "interim_conditions", "months": 6,
			"conditions": []map[string]any{{"code": "no_sole_working", "text": "Must not work alone."}}})
		f.Do("POST", "/v1/cases/"+id+"/stage", f.reg(), map[string]any{"to": "referred_to_panel"}).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("AppealPeriodEnds", func(t *testing.T) {
		id := at("decided")
		f.Advance(28*24*time.Hour - time.Second)
		if got := f.Must(200, "GET", "/v1/cases/"+id, f.reg(), nil)["stage"]; got != "decided" {
			t.Fatalf("stage = %v", got)
		}
		f.Advance(time.Second)
		if got := f.Must(200, "GET", "/v1/cases/"+id, f.reg(), nil)["stage"]; got != "final" {
			t.Fatalf("stage = %v", got)
		}
		f.Do("POST", "/v1/cases/"+id+"/appeal", f.reg(), map[string]any{}).WantError(t, 409, register.ECONFLICT)
		items := f.Must(200, "GET", "/v1/cases?stage=final&register_number="+n, f.reg(), nil)["items"].([]any)
		found := false
		for _, it := range items {
			found = found || jsonID(it.(map[string]any)["id"]) == id
		}
		if !found {
			t.Fatal("a case past its appeal period is not listed as final")
		}
	})
	t.Run("BadStage", func(t *testing.T) {
		id := f.referral(n, "Allegation.")
		r := f.Do("POST", "/v1/cases/"+id+"/stage", f.reg(), map[string]any{"to": "limbo"})
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "to") == "" {
			t.Fatalf("no field named: %s", r.Body)
		}
	})
	f.verifyAudit()
}

func TestCasePanelRules(t *testing.T) {
	f := newFTP(t)
	n := f.practitioner("Panel")
	_, second := f.User("second@example.org", register.RolePanelMember)
	_, staff := f.User("staff@example.org", register.RoleRegistrar)
	_, disabled := f.User("disabled@example.org", register.RolePanelMember)
	admin := f.Token(register.RoleAdmin)
	f.Must(200, "PATCH", "/v1/users/"+jsonID(disabled.ID), admin, map[string]any{"disabled": true})
	// The registrant's own account, which may never sit on their panel.
	self := f.Registrant(f.reg(), "Self", "Sally")
	q := f.Must(201, "POST", "/v1/registrants/"+self+"/qualifications", f.reg(), map[string]any{"level": 3, "title": "L3",
		"awarding_body": "B", "awarded_on": "2024-01-01", "certificate_ref": "C", "state": "claimed"})
	f.Must(200, "POST", "/v1/registrants/"+self+"/qualifications/"+jsonID(q["id"])+"/verify", f.reg(), nil)
	f.Must(200, "POST", "/v1/registrants/"+self+"/registration/admit", f.reg(), map[string]any{"registered_until": "2028-01-01"})
	activateAccount(f.env, f.reg(), self)
	var selfUser int64
	if err := f.DB.Reader().QueryRow(`SELECT u.id FROM users u JOIN registrants r ON r.id = u.registrant_id
		WHERE r.register_number = ?`, self).Scan(&selfUser); err != nil {
		t.Fatal(err)
	}

	id := f.referral(n, "Allegation.")
	selfCase := f.referral(self, "Allegation.")
	seat := func(u *register.User, s string) map[string]any { return map[string]any{"user_id": u.ID, "seat": s} }
	cases := []struct {
		name, rule string
		id         string
		members    []map[string]any
	}{
		{"TooFew", "at_least_three", id, []map[string]any{seat(f.chair, "chair"), seat(f.lay, "lay")}},
		{"Empty", "at_least_three", id, []map[string]any{}},
		{"NoChair", "one_chair", id, []map[string]any{seat(f.chair, "lay"), seat(f.lay, "lay"), seat(f.member, "registrant")}},
		{"TwoChairs", "one_chair", id, []map[string]any{seat(f.chair, "chair"), seat(second, "chair"), seat(f.lay, "lay"), seat(f.member, "registrant")}},
		{"NoLayMember", "lay_member", id, []map[string]any{seat(f.chair, "chair"), seat(f.lay, "registrant"), seat(f.member, "registrant")}},
		{"NoRegistrantMember", "registrant_member", id, []map[string]any{seat(f.chair, "chair"), seat(f.lay, "lay"), seat(f.member, "lay")}},
		{"NotAPanelMember", "panel_member_role", id, []map[string]any{seat(f.chair, "chair"), seat(f.lay, "lay"), seat(staff, "registrant")}},
		{"UnknownUser", "panel_member_role", id, []map[string]any{seat(f.chair, "chair"), seat(f.lay, "lay"), {"user_id": 99999, "seat": "registrant"}}},
		{"DisabledMember", "panel_member_role", id, []map[string]any{seat(f.chair, "chair"), seat(f.lay, "lay"), seat(disabled, "registrant")}},
		{"SameMemberTwice", "one_seat_each", id, []map[string]any{seat(f.chair, "chair"), seat(f.lay, "lay"), seat(f.lay, "registrant")}},
		{"TheRegistrantThemself", "not_the_registrant", selfCase, []map[string]any{seat(f.chair, "chair"), seat(f.lay, "lay"),
			{"user_id": selfUser, "seat": "registrant"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.LastAuditID()
			d := f.Do("PUT", "/v1/cases/"+tc.id+"/panel", f.reg(), map[string]any{"members": tc.members}).WantError(t, 422, register.EUNPROCESSABLE)
			if !strings.Contains(d["message"].(string), "("+tc.rule+")") {
				t.Fatalf("message %q does not name rule %s", d["message"], tc.rule)
			}
			if f.LastAuditID() != before {
				t.Fatal("a refused panel wrote to the audit log")
			}
		})
	}
	t.Run("BadSeat", func(t *testing.T) {
		r := f.Do("PUT", "/v1/cases/"+id+"/panel", f.reg(), map[string]any{"members": []map[string]any{{"user_id": f.chair.ID, "seat": "judge"}}})
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "members[0].seat") == "" {
			t.Fatalf("seat not named: %s", r.Body)
		}
	})
	t.Run("ValidPanel", func(t *testing.T) {
		f.seatPanel(id)
		c := f.Must(200, "GET", "/v1/cases/"+id, f.reg(), nil)
		if p := c["panel"].([]any); len(p) != 3 || p[0].(map[string]any)["seat"] != "chair" {
			t.Fatalf("panel = %v", p)
		}
	})
	t.Run("PanelFixedOnceDecided", func(t *testing.T) {
		f.stage(id, "investigation")
		f.stage(id, "referred_to_panel")
		f.stage(id, "hearing")
		f.decide(id, map[string]any{"kind": "no_further_action"})
		f.Do("PUT", "/v1/cases/"+id+"/panel", f.reg(), map[string]any{"members": []map[string]any{
			seat(f.chair, "chair"), seat(second, "lay"), seat(f.member, "registrant")}}).WantError(t, 409, register.ECONFLICT)
	})
	f.verifyAudit()
}

func TestCaseRequests(t *testing.T) {
	f := newFTP(t)
	n := f.practitioner("Requests")
	applicant := f.Registrant(f.reg(), "Applicant", "Ann")
	body := func(k, v string) map[string]any {
		m := map[string]any{"register_number": n, "source": "public", "category": "health", "allegation": "Text."}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name, field string
		body        map[string]any
	}{
		{"NoSource", "source", body("source", "")},
		{"BadSource", "source", body("source", "neighbour")},
		{"BadCategory", "category", body("category", "rudeness")},
		{"NoCategory", "category", body("category", "")},
		{"NoAllegation", "allegation", body("allegation", "")},
		{"LongAllegation", "allegation", body("allegation", strings.Repeat("x", 20001))},
		{"BadKind", "kind", body("kind", "complaint")},
		{"RestorationWithCategory", "category", body("kind", "restoration")},
		{"BadNumber", "register_number", body("register_number", "PR1234")},
		{"UnknownField", "severity", func() map[string]any { m := body("source", "self"); m["severity"] = "high"; return m }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.Do("POST", "/v1/cases", f.reg(), tc.body)
			r.WantError(t, 400, register.EINVALID)
			if r.Field(t, tc.field) == "" {
				t.Fatalf("field %s not named: %s", tc.field, r.Body)
			}
		})
	}
	t.Run("UnknownNumber", func(t *testing.T) {
		other := otherNumber(n)
		f.Do("POST", "/v1/cases", f.reg(), body("register_number", other)).WantError(t, 404, register.ENOTFOUND)
	})
	t.Run("NeverAdmitted", func(t *testing.T) {
		f.Do("POST", "/v1/cases", f.reg(), body("register_number", applicant)).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("RestorationWhenNotRemoved", func(t *testing.T) {
		f.Do("POST", "/v1/cases", f.reg(), map[string]any{"register_number": n, "kind": "restoration", "source": "self",
			"allegation": "Grounds."}).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("UnknownCase", func(t *testing.T) {
		f.Do("GET", "/v1/cases/999", f.reg(), nil).WantError(t, 404, register.ENOTFOUND)
		f.Do("GET", "/v1/cases/abc", f.reg(), nil).WantError(t, 404, register.ENOTFOUND)
		f.Do("POST", "/v1/cases/999/stage", f.reg(), map[string]any{"to": "investigation"}).WantError(t, 404, register.ENOTFOUND)
		f.Do("POST", "/v1/decisions/999/votes", f.tok(f.chair), map[string]any{"vote": "agree"}).WantError(t, 404, register.ENOTFOUND)
	})
	t.Run("ListFilters", func(t *testing.T) {
		id := f.referral(n, "Allegation.")
		f.stage(id, "investigation")
		f.referral(n, "Another.")
		items := f.Must(200, "GET", "/v1/cases?stage=investigation&register_number="+n, f.reg(), nil)["items"].([]any)
		if len(items) != 1 || jsonID(items[0].(map[string]any)["id"]) != id {
			t.Fatalf("items = %v", items)
		}
		page := f.Must(200, "GET", "/v1/cases?limit=1", f.reg(), nil)
		if len(page["items"].([]any)) != 1 || page["next"] == nil {
			t.Fatalf("page = %v", page)
		}
		f.Do("GET", "/v1/cases?stage=limbo", f.reg(), nil).WantError(t, 400, register.EINVALID)
		f.Do("GET", "/v1/cases?register_number=XX", f.reg(), nil).WantError(t, 400, register.EINVALID)
	})
}

func TestCaseRoles(t *testing.T) {
	f := newFTP(t)
	n := f.practitioner("Roles")
	id := f.referral(n, "Allegation.")
	f.stage(id, "investigation")
	f.seatPanel(id)
	d := f.propose(id, map[string]any{"kind": "interim_conditions", "months": 3,
		"conditions": []map[string]any{{"code": "supervised_by_po", "text": "Supervised by a Probation Officer."}}})
	registrarOnly := []route{
		{"POST", "/v1/cases", map[string]any{"register_number": n, "source": "self", "category": "health", "allegation": "x"}, false},
		{"POST", "/v1/cases/" + id + "/stage", map[string]any{"to": "referred_to_panel"}, false},
		{"PUT", "/v1/cases/" + id + "/panel", map[string]any{"members": []map[string]any{}}, false},
		{"POST", "/v1/cases/" + id + "/appeal", map[string]any{}, false},
		{"POST", "/v1/cases/" + id + "/appeal/outcome", map[string]any{"result": "upheld"}, false},
	}
	panelOnly := []route{
		{"POST", "/v1/cases/" + id + "/decisions", map[string]any{"kind": "advice", "public_summary": "s", "reasons": "r"}, false},
		{"POST", "/v1/decisions/" + d + "/votes", map[string]any{"vote": "agree"}, false},
	}
	for _, role := range register.Roles {
		tok := f.Token(role)
		for _, rt := range registrarOnly {
			if role == register.RoleRegistrar || role == register.RoleAdmin {
				continue
			}
			t.Run(string(role)+" "+rt.method+" "+rt.path, func(t *testing.T) {
				f.Do(rt.method, rt.path, tok, rt.body).WantError(t, 403, register.EFORBIDDEN)
			})
		}
		for _, rt := range panelOnly {
			if role == register.RolePanelMember {
				continue
			}
			t.Run(string(role)+" "+rt.method+" "+rt.path, func(t *testing.T) {
				f.Do(rt.method, rt.path, tok, rt.body).WantError(t, 403, register.EFORBIDDEN)
			})
		}
		if role != register.RoleRegistrar && role != register.RoleAdmin && role != register.RolePanelMember {
			t.Run(string(role)+" reads cases", func(t *testing.T) {
				f.Do("GET", "/v1/cases/"+id, tok, nil).WantError(t, 403, register.EFORBIDDEN)
				f.Do("GET", "/v1/cases", tok, nil).WantError(t, 403, register.EFORBIDDEN)
			})
		}
	}
	t.Run("PanelMemberReadsOnlyTheirCases", func(t *testing.T) {
		other := f.referral(n, "Other.")
		if c := f.Must(200, "GET", "/v1/cases/"+id, f.tok(f.lay), nil); c["allegation"] != "Allegation." {
			t.Fatalf("case = %v", c)
		}
		f.Do("GET", "/v1/cases/"+other, f.tok(f.lay), nil).WantError(t, 403, register.EFORBIDDEN)
		f.Do("GET", "/v1/cases/"+id, f.tok(f.outsider), nil).WantError(t, 403, register.EFORBIDDEN)
		items := f.Must(200, "GET", "/v1/cases", f.tok(f.lay), nil)["items"].([]any)
		if len(items) != 1 || jsonID(items[0].(map[string]any)["id"]) != id {
			t.Fatalf("a panel member's list = %v", items)
		}
		if items := f.Must(200, "GET", "/v1/cases", f.tok(f.outsider), nil)["items"].([]any); len(items) != 0 {
			t.Fatalf("an unseated panel member's list = %v", items)
		}
	})
}

// TestCasePublicNeverShowsPrivateFields runs a case to every outcome and
// looks for its private text in every public answer and the log.
func TestCasePublicNeverShowsPrivateFields(t *testing.T) {
	f := newFTP(t)
	type outcome struct {
		kind string
		body map[string]any
	}
	conds := []map[string]any{{"code": "no_high_risk_cases", "text": "No high-risk cases."}}
	outcomes := []outcome{
		{"closed_no_case", nil},
		{"interim_suspension", map[string]any{"months": 6}},
		{"interim_conditions", map[string]any{"months": 6, "conditions": conds}},
		{"no_further_action", map[string]any{}},
		{"advice", map[string]any{}},
		{"warning", map[string]any{"months": 12}},
		{"conditions", map[string]any{"months": 6, "conditions": conds, "immediate": true}},
		{"suspension", map[string]any{"months": 3}},
		{"removal", map[string]any{"immediate": true}},
		{"restoration", nil},
	}
	var numbers []string
	var instants []time.Time
	markers := []string{"employer", "dismissal_for_malpractice", `"allegation"`, `"reasons"`, `"source"`, `"votes"`, `"category"`, `"panel"`}
	for _, o := range outcomes {
		n := f.Practitioner(f.reg(), "Private"+strings.ReplaceAll(o.kind, "_", ""), "Pat", 5, "2028-12-31")
		numbers = append(numbers, n)
		secret := "SECRET-" + o.kind
		markers = append(markers, secret+"-ALLEGATION", secret+"-REASONS", secret+"-APPEAL")
		id := jsonID(f.Must(201, "POST", "/v1/cases", f.reg(), map[string]any{"register_number": n, "source": "employer",
			"category": "dismissal_for_malpractice", "allegation": secret + "-ALLEGATION"})["id"])
		f.stage(id, "investigation")
		switch {
		case o.kind == "closed_no_case":
			f.stage(id, "closed_no_case")
			continue
		case strings.HasPrefix(o.kind, "interim"):
			f.seatPanel(id)
			o.body["kind"], o.body["reasons"] = o.kind, secret+"-REASONS"
			f.decide(id, o.body)
			continue
		}
		f.seatPanel(id)
		f.stage(id, "referred_to_panel")
		f.stage(id, "hearing")
		body := o.body
		if o.kind == "restoration" {
			body = map[string]any{"immediate": true}
		}
		body["kind"], body["reasons"] = o.kind, secret+"-REASONS"
		if o.kind == "restoration" {
			body["kind"] = "removal"
		}
		f.decide(id, body)
		f.Must(200, "POST", "/v1/cases/"+id+"/appeal", f.reg(), map[string]any{"reason": secret + "-APPEAL"})
		f.Must(200, "POST", "/v1/cases/"+id+"/appeal/outcome", f.reg(), map[string]any{"result": "upheld"})
		instants = append(instants, f.Now())
		if o.kind == "restoration" {
			f.Advance(5*365*24*time.Hour + 48*time.Hour)
			rid := jsonID(f.Must(201, "POST", "/v1/cases", f.reg(), map[string]any{"register_number": n, "kind": "restoration",
				"source": "self", "allegation": secret + "-ALLEGATION"})["id"])
			f.stage(rid, "investigation")
			f.seatPanel(rid)
			f.stage(rid, "referred_to_panel")
			f.stage(rid, "hearing")
			f.decide(rid, map[string]any{"kind": "restoration", "reasons": secret + "-REASONS",
				"registered_until": register.DateOf(f.Now()).AddDate(1, 0, 0).String()})
		}
		f.Advance(time.Hour)
	}
	instants = append(instants, f.Now(), f.Now().AddDate(0, 1, 0))

	var bodies []string
	for _, n := range numbers {
		bodies = append(bodies, string(f.Do("GET", "/v1/public/registrants/"+n, "", nil).Body))
		for _, at := range instants {
			bodies = append(bodies, string(f.Do("GET", "/v1/public/registrants/"+n+"?at="+url.QueryEscape(at.Format(time.RFC3339)), "", nil).Body))
		}
	}
	search := f.Do("GET", "/v1/public/search?name=Pat", "", nil)
	if len(search.JSON(t)["items"].([]any)) != len(numbers) {
		t.Fatalf("search found %d, want %d", len(search.JSON(t)["items"].([]any)), len(numbers))
	}
	bodies = append(bodies, string(search.Body))
	published := strings.Join(bodies, "\n")
	for _, want := range []string{`"sanctions":[{"kind":"warning"`, `"code":"no_high_risk_cases"`, `"kind":"interim_suspension"`} {
		if !strings.Contains(published, want) {
			t.Fatalf("public answers lack %s: the test would prove nothing", want)
		}
	}
	logs := f.Logs()
	for _, m := range markers {
		if strings.Contains(published, m) {
			t.Errorf("a public answer contains %s", m)
		}
		if strings.Contains(m, "SECRET") && strings.Contains(logs, m) {
			t.Errorf("the log contains %s", m)
		}
	}
}

func TestMyCases(t *testing.T) {
	f := newFTP(t)
	n, mine := staffMember(f.env, f.reg(), "Mine", "Mo", "2028-12-31")
	other, theirs := staffMember(f.env, f.reg(), "Theirs", "Tia", "2028-12-31")
	id := f.toHearing(n, "My allegation.")
	rejected := f.propose(id, map[string]any{"kind": "removal", "reasons": "Rejected reasons."})
	f.vote(rejected, f.chair, "disagree")
	f.vote(rejected, f.lay, "disagree")
	f.decide(id, map[string]any{"kind": "warning", "months": 12, "reasons": "Full reasons."})
	f.referral(other, "Their allegation.")

	r := f.Do("GET", "/v1/me/cases", mine, nil)
	m := r.JSON(t)
	items := m["items"].([]any)
	if r.Status != 200 || len(items) != 1 {
		t.Fatalf("my cases: %d %s", r.Status, r.Body)
	}
	c := items[0].(map[string]any)
	ds := c["decisions"].([]any)
	if c["allegation"] != "My allegation." || c["stage"] != "decided" || len(ds) != 1 || ds[0].(map[string]any)["kind"] != "warning" {
		t.Fatalf("my case = %v", c)
	}
	for _, private := range []string{`"votes"`, `"panel"`, `"source"`, "employer", "Rejected reasons", "chair@example.org"} {
		if strings.Contains(string(r.Body), private) {
			t.Errorf("the registrant's view contains %s", private)
		}
	}
	if items := f.Must(200, "GET", "/v1/me/cases", theirs, nil)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["allegation"] != "Their allegation." {
		t.Fatalf("their cases = %v", items)
	}
	f.Do("GET", "/v1/me/cases", f.reg(), nil).WantError(t, 403, register.EFORBIDDEN)
}

func TestCasesDueReview(t *testing.T) {
	f := newFTP(t)
	n := f.practitioner("Review")
	id := f.referral(n, "Allegation.")
	f.stage(id, "investigation")
	f.seatPanel(id)
	start := f.Now()
	f.decide(id, map[string]any{"kind": "interim_suspension", "months": 18})
	cases := sqlite.NewCaseService(f.DB)
	due := func() []*register.DueReview {
		t.Helper()
		ds, err := cases.DueReviews(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	if ds := due(); len(ds) != 0 {
		t.Fatalf("due at once: %v", ds)
	}
	reviewBy := start.AddDate(0, 6, 0)
	f.Set(reviewBy.Add(-time.Second))
	if ds := due(); len(ds) != 0 {
		t.Fatalf("due before review_by: %v", ds)
	}
	f.Set(reviewBy)
	ds := due()
	if len(ds) != 1 || ds[0].Number != n || !ds[0].ReviewBy.Equal(reviewBy) || ds[0].Kind != register.OrderInterimSuspension {
		t.Fatalf("due = %+v", ds)
	}
	t.Run("ReviewReplacesTheOrder", func(t *testing.T) {
		f.decide(id, map[string]any{"kind": "interim_conditions", "months": 12,
			"conditions": []map[string]any{{"code": "report_to_regulator_monthly", "text": "Report monthly."}}})
		if ds := due(); len(ds) != 0 {
			t.Fatalf("due after review: %v", ds)
		}
		f.wantStanding(n, time.Time{}, "registered roles=PSO,PO sanctions= conditions=report_to_regulator_monthly interim=interim_conditions")
		// Interim orders never run past 18 months from the first.
		m := f.public(n, time.Time{})
		until := m["interim_order"].(map[string]any)["until"]
		if until != start.AddDate(0, 18, 0).Format(time.RFC3339) {
			t.Fatalf("interim until = %v, want %s", until, start.AddDate(0, 18, 0).Format(time.RFC3339))
		}
	})
	t.Run("NotPastEighteenMonths", func(t *testing.T) {
		r := f.Do("POST", "/v1/cases/"+id+"/decisions", f.tok(f.chair), map[string]any{"kind": "interim_suspension", "months": 18,
			"public_summary": "s", "reasons": "r"})
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "months") == "" {
			t.Fatalf("months not named: %s", r.Body)
		}
	})
}

// caseSpecCases are TestOpenAPI's rows for the fitness-to-practise
// endpoints (http/openapi_test.go runs them before its last row): every
// status docs/openapi.yaml promises for them, through the real server.
func caseSpecCases() []specCase {
	return []specCase{
		{name: "open a case", before: func(e *env, fx map[string]string) {
			fx["ftp_registrar"], _ = e.User("ftp.registrar@example.org", register.RoleRegistrar) // earlier rows move the clock
			fx["ftp_outsider"], _ = e.User("ftp.outsider@example.org", register.RolePanelMember)
			fx["ftp_applicant"] = e.Registrant(fx["ftp_registrar"], "Unadmitted", "Una")
			fx["ftp_number"] = e.Practitioner(fx["ftp_registrar"], "Referred", "Rita", 5, register.DateOf(e.Now()).AddDate(1, 0, 0).String())
			fx["ftp_me"] = activateAccount(e, fx["ftp_registrar"], fx["ftp_number"])
			for _, k := range []string{"ftp_chair", "ftp_lay", "ftp_member"} {
				var u *register.User
				fx[k], u = e.User(k+"@example.org", register.RolePanelMember)
				fx[k+"_id"] = jsonID(u.ID)
			}
		}, method: "POST", path: "/v1/cases", as: "ftp_registrar", body: map[string]any{"register_number": "{ftp_number}", "source": "employer", "category": "misconduct", "allegation": "Private allegation."}, status: 201, save: map[string]string{"case": "id"}},
		{name: "open a case bad source", method: "POST", path: "/v1/cases", as: "ftp_registrar", body: map[string]any{"register_number": "{ftp_number}", "source": "neighbour", "category": "misconduct", "allegation": "x"}, status: 400, request: specRejects},
		{name: "open a case unknown registrant", method: "POST", path: "/v1/cases", as: "ftp_registrar", body: map[string]any{"register_number": "{unknown}", "source": "public", "category": "health", "allegation": "x"}, status: 404},
		{name: "open a case about an applicant", method: "POST", path: "/v1/cases", as: "ftp_registrar", body: map[string]any{"register_number": "{ftp_applicant}", "source": "public", "category": "health", "allegation": "x"}, status: 409},
		{name: "list cases", method: "GET", path: "/v1/cases?register_number={ftp_number}", as: "ftp_registrar", status: 200, check: ftpItems(1)},
		{name: "list cases bad stage", method: "GET", path: "/v1/cases?stage=limbo", as: "ftp_registrar", status: 400, request: specRejects},
		{name: "get case", method: "GET", path: "/v1/cases/{case}", as: "ftp_registrar", status: 200, check: ftpField("stage", "received")},
		{name: "get case unknown", method: "GET", path: "/v1/cases/999999", as: "ftp_registrar", status: 404},
		{name: "get case not on its panel", method: "GET", path: "/v1/cases/{case}", as: "ftp_chair", status: 403},
		{name: "move case", method: "POST", path: "/v1/cases/{case}/stage", as: "ftp_registrar", body: map[string]any{"to": "investigation"}, status: 200, check: ftpField("stage", "investigation")},
		{name: "move case illegally", method: "POST", path: "/v1/cases/{case}/stage", as: "ftp_registrar", body: map[string]any{"to": "hearing"}, status: 409},
		{name: "move case to unknown stage", method: "POST", path: "/v1/cases/{case}/stage", as: "ftp_registrar", body: map[string]any{"to": "limbo"}, status: 400, request: specRejects},
		{name: "move unknown case", method: "POST", path: "/v1/cases/999999/stage", as: "ftp_registrar", body: map[string]any{"to": "investigation"}, status: 404},
		{name: "seat a panel of two", method: "PUT", path: "/v1/cases/{case}/panel", as: "ftp_registrar", body: `{"members":[{"user_id":{ftp_chair_id},"seat":"chair"},{"user_id":{ftp_lay_id},"seat":"lay"}]}`, status: 422},
		{name: "seat a panel bad seat", method: "PUT", path: "/v1/cases/{case}/panel", as: "ftp_registrar", body: `{"members":[{"user_id":{ftp_chair_id},"seat":"judge"}]}`, status: 400, request: specRejects},
		{name: "seat a panel on unknown case", method: "PUT", path: "/v1/cases/999999/panel", as: "ftp_registrar", body: `{"members":[{"user_id":{ftp_chair_id},"seat":"chair"},{"user_id":{ftp_lay_id},"seat":"lay"},{"user_id":{ftp_member_id},"seat":"registrant"}]}`, status: 404},
		{name: "seat the panel", method: "PUT", path: "/v1/cases/{case}/panel", as: "ftp_registrar", body: `{"members":[{"user_id":{ftp_chair_id},"seat":"chair"},{"user_id":{ftp_lay_id},"seat":"lay"},{"user_id":{ftp_member_id},"seat":"registrant"}]}`, status: 200},
		{name: "refer to the panel", method: "POST", path: "/v1/cases/{case}/stage", as: "ftp_registrar", body: map[string]any{"to": "referred_to_panel"}, status: 200},
		{name: "open the hearing", method: "POST", path: "/v1/cases/{case}/stage", as: "ftp_registrar", body: map[string]any{"to": "hearing", "reason": "listed"}, status: 200},
		{name: "propose a short warning", method: "POST", path: "/v1/cases/{case}/decisions", as: "ftp_chair", body: map[string]any{"kind": "warning", "months": 6, "public_summary": "Warned.", "reasons": "Private reasons."}, status: 400},
		{name: "propose a decision", method: "POST", path: "/v1/cases/{case}/decisions", as: "ftp_chair", body: map[string]any{"kind": "warning", "months": 12, "public_summary": "Warned.", "reasons": "Private reasons."}, status: 201, save: map[string]string{"decision": "id"}, check: ftpField("state", "proposed")},
		{name: "propose while one is open", method: "POST", path: "/v1/cases/{case}/decisions", as: "ftp_lay", body: map[string]any{"kind": "advice", "public_summary": "Advised.", "reasons": "Private reasons."}, status: 409},
		{name: "propose on unknown case", method: "POST", path: "/v1/cases/999999/decisions", as: "ftp_chair", body: map[string]any{"kind": "advice", "public_summary": "Advised.", "reasons": "Private reasons."}, status: 404},
		{name: "reseat the panel while a proposal is open", method: "PUT", path: "/v1/cases/{case}/panel", as: "ftp_registrar", body: `{"members":[{"user_id":{ftp_chair_id},"seat":"chair"},{"user_id":{ftp_lay_id},"seat":"lay"},{"user_id":{ftp_member_id},"seat":"registrant"}]}`, status: 409},
		{name: "vote", method: "POST", path: "/v1/decisions/{decision}/votes", as: "ftp_chair", body: map[string]any{"vote": "agree"}, status: 201, check: ftpField("state", "proposed")},
		{name: "vote twice", method: "POST", path: "/v1/decisions/{decision}/votes", as: "ftp_chair", body: map[string]any{"vote": "agree"}, status: 409},
		{name: "vote maybe", method: "POST", path: "/v1/decisions/{decision}/votes", as: "ftp_lay", body: map[string]any{"vote": "maybe"}, status: 400, request: specRejects},
		{name: "vote on unknown decision", method: "POST", path: "/v1/decisions/999999/votes", as: "ftp_lay", body: map[string]any{"vote": "agree"}, status: 404},
		{name: "vote off the panel", method: "POST", path: "/v1/decisions/{decision}/votes", as: "ftp_outsider", body: map[string]any{"vote": "agree"}, status: 403},
		{name: "vote a majority", method: "POST", path: "/v1/decisions/{decision}/votes", as: "ftp_lay", body: map[string]any{"vote": "agree"}, status: 201, check: ftpField("state", "made")},
		{name: "appeal outcome before an appeal", method: "POST", path: "/v1/cases/{case}/appeal/outcome", as: "ftp_registrar", body: map[string]any{"result": "upheld"}, status: 409},
		{name: "appeal reason too long", method: "POST", path: "/v1/cases/{case}/appeal", as: "ftp_registrar", body: map[string]any{"reason": strings.Repeat("x", 1001)}, status: 400, request: specRejects},
		{name: "appeal", method: "POST", path: "/v1/cases/{case}/appeal", as: "ftp_registrar", body: map[string]any{"reason": "Private grounds."}, status: 200, check: ftpField("stage", "appealed")},
		{name: "appeal twice", method: "POST", path: "/v1/cases/{case}/appeal", as: "ftp_registrar", body: map[string]any{}, status: 409},
		{name: "appeal unknown case", method: "POST", path: "/v1/cases/999999/appeal", as: "ftp_registrar", body: map[string]any{}, status: 404},
		{name: "appeal varied without a decision", method: "POST", path: "/v1/cases/{case}/appeal/outcome", as: "ftp_registrar", body: map[string]any{"result": "varied"}, status: 400},
		{name: "appeal outcome unknown case", method: "POST", path: "/v1/cases/999999/appeal/outcome", as: "ftp_registrar", body: map[string]any{"result": "upheld"}, status: 404},
		{name: "appeal upheld", method: "POST", path: "/v1/cases/{case}/appeal/outcome", as: "ftp_registrar", body: map[string]any{"result": "upheld"}, status: 200, check: ftpField("stage", "final")},
		{name: "my cases", method: "GET", path: "/v1/me/cases", as: "ftp_me", status: 200, check: ftpItems(1)},
		{name: "my cases bad limit", method: "GET", path: "/v1/me/cases?limit=0", as: "ftp_me", status: 400, request: specRejects},
		{name: "public record with a warning", method: "GET", path: "/v1/public/registrants/{ftp_number}", status: 200, check: func(t *testing.T, m map[string]any) {
			if s := m["sanctions"].([]any); len(s) != 1 || s[0].(map[string]any)["kind"] != "warning" {
				t.Errorf("sanctions = %v", s)
			}
		}},
	}
}

func ftpField(name, want string) func(t *testing.T, m map[string]any) {
	return func(t *testing.T, m map[string]any) {
		t.Helper()
		if m[name] != want {
			t.Errorf("%s = %v, want %s", name, m[name], want)
		}
	}
}

func ftpItems(want int) func(t *testing.T, m map[string]any) {
	return func(t *testing.T, m map[string]any) {
		t.Helper()
		if n := len(m["items"].([]any)); n != want {
			t.Errorf("%d items, want %d", n, want)
		}
	}
}
