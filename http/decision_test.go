package http_test

import (
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
)

func TestDecisionVoting(t *testing.T) {
	f := newFTP(t)
	n := f.practitioner("Vote")
	id := f.toHearing(n, "Allegation.")
	chair := f.tok(f.chair)

	t.Run("OnlyThePanelProposes", func(t *testing.T) {
		f.Do("POST", "/v1/cases/"+id+"/decisions", f.tok(f.outsider), map[string]any{"kind": "advice",
			"public_summary": "s", "reasons": "r"}).WantError(t, 403, register.EFORBIDDEN)
	})
	conds := func(code string) []map[string]any { return []map[string]any{{"code": code, "text": "Text."}} }
	for _, tc := range []struct {
		name, field string
		body        map[string]any
	}{
		{"UnknownKind", "kind", map[string]any{"kind": "banishment"}},
		{"WarningTooShort", "months", map[string]any{"kind": "warning", "months": 11}},
		{"WarningTooLong", "months", map[string]any{"kind": "warning", "months": 61}},
		{"SuspensionTooLong", "months", map[string]any{"kind": "suspension", "months": 13}},
		{"ConditionsTooLong", "months", map[string]any{"kind": "conditions", "months": 37, "conditions": conds("other")}},
		{"InterimTooLong", "months", map[string]any{"kind": "interim_suspension", "months": 19}},
		{"SuspensionWithoutMonths", "months", map[string]any{"kind": "suspension"}},
		{"ConditionsWithoutConditions", "conditions", map[string]any{"kind": "conditions", "months": 6}},
		{"UnknownConditionCode", "conditions[0].code", map[string]any{"kind": "conditions", "months": 6, "conditions": conds("be_good")}},
		{"ConditionWithoutText", "conditions[0].text", map[string]any{"kind": "conditions", "months": 6,
			"conditions": []map[string]any{{"code": "other"}}}},
		{"AdviceWithMonths", "months", map[string]any{"kind": "advice", "months": 3}},
		{"SuspensionWithConditions", "conditions", map[string]any{"kind": "suspension", "months": 3, "conditions": conds("other")}},
		{"ImmediateInterim", "immediate", map[string]any{"kind": "interim_suspension", "months": 3, "immediate": true}},
		{"RegisteredUntilOnRemoval", "registered_until", map[string]any{"kind": "removal", "registered_until": "2027-01-01"}},
		{"NoReasons", "reasons", map[string]any{"kind": "advice", "reasons": ""}},
		{"NoPublicSummary", "public_summary", map[string]any{"kind": "advice", "public_summary": ""}},
	} {
		t.Run("Invalid/"+tc.name, func(t *testing.T) {
			body := map[string]any{"public_summary": "Summary.", "reasons": "Reasons."}
			for k, v := range tc.body {
				body[k] = v
			}
			before := f.LastAuditID()
			r := f.Do("POST", "/v1/cases/"+id+"/decisions", chair, body)
			r.WantError(t, 400, register.EINVALID)
			if r.Field(t, tc.field) == "" {
				t.Fatalf("field %s not named: %s", tc.field, r.Body)
			}
			if f.LastAuditID() != before {
				t.Fatal("a refused proposal wrote to the audit log")
			}
		})
	}
	t.Run("WrongStage", func(t *testing.T) {
		other := f.referral(n, "Other.")
		f.stage(other, "investigation")
		f.seatPanel(other)
		f.Do("POST", "/v1/cases/"+other+"/decisions", chair, map[string]any{"kind": "suspension", "months": 3,
			"public_summary": "s", "reasons": "r"}).WantError(t, 409, register.ECONFLICT)
		f.Do("POST", "/v1/cases/"+id+"/decisions", chair, map[string]any{"kind": "restoration", "registered_until": "2027-01-01",
			"public_summary": "s", "reasons": "r"}).WantError(t, 409, register.ECONFLICT)
	})

	proposal := f.propose(id, map[string]any{"kind": "suspension", "months": 6})
	t.Run("OneOpenProposal", func(t *testing.T) {
		f.Do("POST", "/v1/cases/"+id+"/decisions", chair, map[string]any{"kind": "advice",
			"public_summary": "s", "reasons": "r"}).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("OnlyThePanelVotes", func(t *testing.T) {
		f.Do("POST", "/v1/decisions/"+proposal+"/votes", f.tok(f.outsider), map[string]any{"vote": "agree"}).WantError(t, 403, register.EFORBIDDEN)
		f.Do("POST", "/v1/decisions/"+proposal+"/votes", f.reg(), map[string]any{"vote": "agree"}).WantError(t, 403, register.EFORBIDDEN)
		f.Do("POST", "/v1/decisions/"+proposal+"/votes", chair, map[string]any{"vote": "maybe"}).WantError(t, 400, register.EINVALID)
	})
	t.Run("OneVoteEach", func(t *testing.T) {
		if m := f.vote(proposal, f.chair, "agree"); m["state"] != "proposed" {
			t.Fatalf("one of three made it: %v", m["state"])
		}
		f.Do("POST", "/v1/decisions/"+proposal+"/votes", chair, map[string]any{"vote": "agree"}).WantError(t, 409, register.ECONFLICT)
		f.Do("POST", "/v1/decisions/"+proposal+"/votes", chair, map[string]any{"vote": "disagree"}).WantError(t, 409, register.ECONFLICT)
	})
	t.Run("MajorityMakesIt", func(t *testing.T) {
		m := f.vote(proposal, f.member, "agree")
		if m["state"] != "made" || len(m["votes"].([]any)) != 2 {
			t.Fatalf("decision = %v", m)
		}
		f.Do("POST", "/v1/decisions/"+proposal+"/votes", f.tok(f.lay), map[string]any{"vote": "agree"}).WantError(t, 409, register.ECONFLICT)
		if c := f.Must(200, "GET", "/v1/cases/"+id, f.reg(), nil); c["stage"] != "decided" {
			t.Fatalf("stage = %v", c["stage"])
		}
	})
	t.Run("LargerPanel", func(t *testing.T) {
		_, fourth := f.User("fourth@example.org", register.RolePanelMember)
		_, fifth := f.User("fifth@example.org", register.RolePanelMember)
		big := f.referral(n, "Big panel.")
		f.stage(big, "investigation")
		f.Must(200, "PUT", "/v1/cases/"+big+"/panel", f.reg(), map[string]any{"members": []map[string]any{
			{"user_id": f.chair.ID, "seat": "chair"}, {"user_id": f.lay.ID, "seat": "lay"}, {"user_id": f.member.ID, "seat": "registrant"},
			{"user_id": fourth.ID, "seat": "lay"}, {"user_id": fifth.ID, "seat": "registrant"}}})
		interim := map[string]any{"kind": "interim_conditions", "months": 6, "conditions": conds("no_sole_working")}
		d := f.propose(big, interim)
		f.vote(d, f.chair, "agree")
		f.vote(d, fourth, "disagree")
		f.vote(d, f.lay, "disagree")
		if m := f.vote(d, fifth, "agree"); m["state"] != "proposed" {
			t.Fatalf("2 of 5 settled it: %v", m["state"])
		}
		if m := f.vote(d, f.member, "disagree"); m["state"] != "rejected" {
			t.Fatalf("3 of 5 disagreeing left it %v", m["state"])
		}
		f.wantStanding(n, time.Time{}, registered) // the rejected order has no effect
		d = f.propose(big, interim)
		f.vote(d, f.chair, "agree")
		f.vote(d, f.lay, "agree")
		if m := f.vote(d, fourth, "agree"); m["state"] != "made" {
			t.Fatalf("3 of 5 agreeing left it %v", m["state"])
		}
		f.wantStanding(n, time.Time{}, "registered roles=PSO,PO sanctions= conditions=no_sole_working interim=interim_conditions")
	})
	f.verifyAudit()
}

// TestSanctionEffects checks each final outcome's effect on status, roles
// and publication before, during and after it: asked as at the instant
// beforehand, and as the current answer with the clock at each instant.
func TestSanctionEffects(t *testing.T) {
	conds := []map[string]any{{"code": "no_sole_working", "text": "Must not work alone."}}
	for _, tc := range []struct {
		kind   string
		body   map[string]any
		months int
		during string
	}{
		{"warning", map[string]any{"months": 12}, 12, "registered roles=PSO,PO sanctions=warning conditions= interim=-"},
		{"conditions", map[string]any{"months": 6, "conditions": conds}, 6, "registered roles=PSO,PO sanctions=conditions conditions=no_sole_working interim=-"},
		{"suspension", map[string]any{"months": 3}, 3, "suspended roles= sanctions=suspension conditions= interim=-"},
		{"removal", map[string]any{}, 0, removed},
		{"advice", map[string]any{}, 0, registered},
		{"no_further_action", map[string]any{}, 0, registered},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			f := newFTP(t)
			n := f.practitioner("Effect")
			id := f.toHearing(n, "Allegation.")
			decided := f.Now()
			tc.body["kind"], tc.body["public_summary"] = tc.kind, "Public summary of the "+tc.kind+"."
			f.decide(id, tc.body)
			effect := decided.AddDate(0, 0, 28)
			after := tc.during // a removal never ends by itself
			var end time.Time
			if tc.months > 0 {
				end, after = effect.AddDate(0, tc.months, 0), registered
			}

			// Asked ahead of time: the appeal period, then the sanction.
			f.wantStanding(n, time.Time{}, registered)
			f.wantStanding(n, effect.Add(-time.Second), registered)
			f.wantStanding(n, effect, tc.during)
			steps := []struct {
				at   time.Time
				want string
			}{{decided.Add(time.Hour), registered}, {effect.Add(-time.Second), registered}, {effect, tc.during}}
			if tc.months > 0 {
				steps = append(steps, struct {
					at   time.Time
					want string
				}{end.Add(-time.Second), tc.during}, struct {
					at   time.Time
					want string
				}{end, after})
			}
			steps = append(steps, struct {
				at   time.Time
				want string
			}{effect.AddDate(1, 6, 0), after})
			// The current answer, with the clock at each instant.
			for _, s := range steps {
				f.Set(s.at)
				f.wantStanding(n, time.Time{}, s.want)
			}
			// Asked afterwards about each instant.
			for _, s := range steps {
				f.wantStanding(n, s.at, s.want)
			}
			if tc.during == registered {
				return
			}
			m := f.public(n, effect)
			if len(m["sanctions"].([]any)) != 1 {
				t.Fatalf("sanctions = %v", m["sanctions"])
			}
			s := m["sanctions"].([]any)[0].(map[string]any)
			wantUntil := any(nil)
			if tc.months > 0 {
				wantUntil = end.Format(time.RFC3339)
			}
			if s["from"] != effect.Format(time.RFC3339) || s["until"] != wantUntil || s["public_summary"] != "Public summary of the "+tc.kind+"." {
				t.Fatalf("sanction = %v", s)
			}
			if tc.kind == "conditions" {
				c := m["conditions"].([]any)[0].(map[string]any)
				if c["text"] != "Must not work alone." || c["interim"] != false || c["until"] != wantUntil {
					t.Fatalf("condition = %v", c)
				}
				if !strings.Contains(m["summary"].(string), "Conditions of practice apply") {
					t.Fatalf("summary = %v", m["summary"])
				}
			}
			f.verifyAudit()
		})
	}
	t.Run("SuspensionEndsAfterRegisteredUntil", func(t *testing.T) {
		f := newFTP(t)
		n := f.Practitioner(f.reg(), "Expiring", "Eve", 5, "2026-05-31")
		id := f.toHearing(n, "Allegation.")
		f.decide(id, map[string]any{"kind": "suspension", "months": 3, "immediate": true})
		start := f.Now()
		f.wantStanding(n, register.MustDate("2026-06-01").Start(), "suspended roles= sanctions=suspension conditions= interim=-")
		f.wantStanding(n, start.AddDate(0, 3, 0), "lapsed roles= sanctions= conditions= interim=-")
		f.Set(start.AddDate(0, 3, 0))
		f.wantStanding(n, time.Time{}, "lapsed roles= sanctions= conditions= interim=-")
	})
}

func TestImmediateOrderEndsInterimOrders(t *testing.T) {
	f := newFTP(t)
	n := f.practitioner("Immediate")
	id := f.referral(n, "Allegation.")
	f.stage(id, "investigation")
	f.seatPanel(id)
	f.decide(id, map[string]any{"kind": "interim_conditions", "months": 12,
		"conditions": []map[string]any{{"code": "supervised_by_po", "text": "Supervised by a Probation Officer."}}})
	interim := "registered roles=PSO,PO sanctions= conditions=supervised_by_po interim=interim_conditions"
	f.wantStanding(n, time.Time{}, interim)
	if c := f.public(n, time.Time{})["conditions"].([]any)[0].(map[string]any); c["interim"] != true {
		t.Fatalf("interim condition = %v", c)
	}
	f.stage(id, "referred_to_panel")
	f.stage(id, "hearing")
	f.Advance(30 * 24 * time.Hour)
	decided := f.Now()
	d := f.decide(id, map[string]any{"kind": "suspension", "months": 2, "immediate": true})
	if d["takes_effect_at"] != decided.Format(time.RFC3339) {
		t.Fatalf("takes_effect_at = %v", d["takes_effect_at"])
	}
	during := "suspended roles= sanctions=suspension conditions= interim=-"
	f.wantStanding(n, time.Time{}, during)
	f.wantStanding(n, decided.Add(-time.Second), interim)
	f.wantStanding(n, decided.AddDate(0, 2, 0).Add(-time.Second), during)
	f.wantStanding(n, decided.AddDate(0, 2, 0), registered) // the interim order does not come back
	if c := f.Must(200, "GET", "/v1/cases/"+id, f.reg(), nil); c["stage"] != "decided" || c["appeal_ends_at"] != decided.AddDate(0, 0, 28).Format(time.RFC3339) {
		t.Fatalf("an immediate order still has its appeal period: %v %v", c["stage"], c["appeal_ends_at"])
	}
	f.verifyAudit()
}

func TestAppeals(t *testing.T) {
	t.Run("QuashRestoresTheEarlierStatus", func(t *testing.T) {
		f := newFTP(t)
		n := f.practitioner("Quash")
		id := f.toHearing(n, "Allegation.")
		f.Advance(time.Hour)
		decided := f.Now()
		f.decide(id, map[string]any{"kind": "removal", "immediate": true})
		f.wantStanding(n, time.Time{}, removed)
		f.Advance(24 * time.Hour)
		f.Must(200, "POST", "/v1/cases/"+id+"/appeal", f.reg(), map[string]any{"reason": "Procedural unfairness."})
		f.wantStanding(n, time.Time{}, removed) // an immediate order holds pending the appeal
		f.Advance(9 * 24 * time.Hour)
		quashed := f.Now()
		c := f.Must(200, "POST", "/v1/cases/"+id+"/appeal/outcome", f.reg(), map[string]any{"result": "quashed"})
		if c["stage"] != "final" || c["decisions"].([]any)[0].(map[string]any)["appeal_result"] != "quashed" {
			t.Fatalf("case = %v", c)
		}
		f.wantStanding(n, time.Time{}, registered)
		f.wantStanding(n, quashed, registered)
		f.wantStanding(n, quashed.Add(-time.Second), removed)
		f.wantStanding(n, decided.Add(-time.Second), registered)
		h := f.Must(200, "GET", "/v1/registrants/"+n+"/history", f.reg(), nil)["items"].([]any)
		var got []string
		for _, p := range h {
			p := p.(map[string]any)
			got = append(got, p["status"].(string)+"@"+p["from"].(string))
		}
		want := []string{"registered@" + f.public(n, time.Time{})["as_at"].(string), "removed@" + decided.Format(time.RFC3339), "registered@" + quashed.Format(time.RFC3339)}
		if len(got) != 3 || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("history = %v, want removed then registered at %v", got, want[1:])
		}
		f.verifyAudit()
	})
	t.Run("AppealHoldsAPendingDecision", func(t *testing.T) {
		f := newFTP(t)
		n := f.practitioner("Pending")
		id := f.referral(n, "Allegation.")
		f.stage(id, "investigation")
		f.seatPanel(id)
		f.decide(id, map[string]any{"kind": "interim_suspension", "months": 12})
		f.stage(id, "referred_to_panel")
		f.stage(id, "hearing")
		decided := f.Now()
		f.decide(id, map[string]any{"kind": "suspension", "months": 6})
		interim := "suspended roles= sanctions= conditions= interim=interim_suspension"
		final := "suspended roles= sanctions=suspension conditions= interim=-"
		f.wantStanding(n, decided.AddDate(0, 0, 28), final)
		f.Advance(5 * 24 * time.Hour)
		f.Must(200, "POST", "/v1/cases/"+id+"/appeal", f.reg(), map[string]any{"reason": "Too severe."})
		// The suspension waits for the outcome; the interim order runs on.
		f.wantStanding(n, decided.AddDate(0, 0, 28), interim)
		f.Set(decided.AddDate(0, 0, 40))
		f.wantStanding(n, time.Time{}, interim)
		upheld := f.Now()
		f.Must(200, "POST", "/v1/cases/"+id+"/appeal/outcome", f.reg(), map[string]any{"result": "upheld"})
		f.wantStanding(n, time.Time{}, final)
		f.wantStanding(n, upheld.AddDate(0, 6, 0).Add(-time.Second), final)
		f.wantStanding(n, upheld.AddDate(0, 6, 0), registered)
		f.wantStanding(n, upheld.Add(-time.Second), interim)
		f.verifyAudit()
	})
	t.Run("VariedReplacesTheDecision", func(t *testing.T) {
		f := newFTP(t)
		n := f.practitioner("Varied")
		id := f.toHearing(n, "Allegation.")
		decided := f.Now()
		f.decide(id, map[string]any{"kind": "removal"})
		f.Must(200, "POST", "/v1/cases/"+id+"/appeal", f.reg(), map[string]any{})
		f.Set(decided.AddDate(0, 0, 30))
		f.wantStanding(n, decided.AddDate(0, 0, 29), registered) // the removal never took effect
		varied := f.Now()
		c := f.Must(200, "POST", "/v1/cases/"+id+"/appeal/outcome", f.reg(), map[string]any{"result": "varied", "decision": map[string]any{
			"kind": "conditions", "months": 6, "public_summary": "Conditions on appeal.", "reasons": "Reasons on appeal.",
			"conditions": []map[string]any{{"code": "no_high_risk_cases", "text": "No high-risk cases."}}}})
		ds := c["decisions"].([]any)
		if len(ds) != 2 || ds[0].(map[string]any)["appeal_result"] != "varied" || jsonID(ds[1].(map[string]any)["varies"]) != jsonID(ds[0].(map[string]any)["id"]) {
			t.Fatalf("decisions = %v", ds)
		}
		during := "registered roles=PSO,PO sanctions=conditions conditions=no_high_risk_cases interim=-"
		f.wantStanding(n, time.Time{}, during)
		f.wantStanding(n, varied.AddDate(0, 6, 0), registered)
		f.wantStanding(n, varied.Add(-time.Second), registered)
		f.verifyAudit()
	})
	t.Run("Refusals", func(t *testing.T) {
		f := newFTP(t)
		n := f.practitioner("Refused")
		id := f.toHearing(n, "Allegation.")
		f.Do("POST", "/v1/cases/"+id+"/appeal", f.reg(), map[string]any{}).WantError(t, 409, register.ECONFLICT)
		f.decide(id, map[string]any{"kind": "warning", "months": 24})
		f.Do("POST", "/v1/cases/"+id+"/appeal/outcome", f.reg(), map[string]any{"result": "upheld"}).WantError(t, 409, register.ECONFLICT)
		f.Must(200, "POST", "/v1/cases/"+id+"/appeal", f.reg(), map[string]any{})
		f.Do("POST", "/v1/cases/"+id+"/appeal", f.reg(), map[string]any{}).WantError(t, 409, register.ECONFLICT)
		for _, tc := range []struct {
			name, field string
			body        map[string]any
		}{
			{"VariedWithoutDecision", "decision", map[string]any{"result": "varied"}},
			{"UpheldWithDecision", "decision", map[string]any{"result": "upheld", "decision": map[string]any{"kind": "advice", "public_summary": "s", "reasons": "r"}}},
			{"VariedToInterim", "decision.kind", map[string]any{"result": "varied", "decision": map[string]any{"kind": "interim_suspension", "months": 3, "public_summary": "s", "reasons": "r"}}},
			{"VariedBadMonths", "decision.months", map[string]any{"result": "varied", "decision": map[string]any{"kind": "suspension", "months": 20, "public_summary": "s", "reasons": "r"}}},
			{"VariedNoReasons", "decision.reasons", map[string]any{"result": "varied", "decision": map[string]any{"kind": "advice", "public_summary": "s"}}},
			{"BadResult", "result", map[string]any{"result": "overturned"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := f.Do("POST", "/v1/cases/"+id+"/appeal/outcome", f.reg(), tc.body)
				r.WantError(t, 400, register.EINVALID)
				if r.Field(t, tc.field) == "" {
					t.Fatalf("field %s not named: %s", tc.field, r.Body)
				}
			})
		}
		f.Must(200, "POST", "/v1/cases/"+id+"/appeal/outcome", f.reg(), map[string]any{"result": "upheld"})
		f.Do("POST", "/v1/cases/"+id+"/appeal/outcome", f.reg(), map[string]any{"result": "quashed"}).WantError(t, 409, register.ECONFLICT)
		f.wantStanding(n, time.Time{}, "registered roles=PSO,PO sanctions=warning conditions= interim=-")
	})
}

// TestRestorationRecheckedAtDecidingVote shows that a restoration is
// allowed at the vote that makes it, not only when it was proposed: a
// proposal whose registered_until is no longer after the deciding day is
// refused at that vote with 409, writing nothing, and the registrant stays
// removed; the panel closes it by disagreeing and restores on a new
// proposal.
func TestRestorationRecheckedAtDecidingVote(t *testing.T) {
	f := newFTP(t)
	n := f.practitioner("Restore")
	f.decide(f.toHearing(n, "Allegation."), map[string]any{"kind": "removal", "immediate": true})
	f.wantStanding(n, time.Time{}, removed)

	f.Set(f.Now().AddDate(5, 0, 0).Add(time.Hour))
	rid := jsonID(f.Must(201, "POST", "/v1/cases", f.reg(), map[string]any{"register_number": n, "kind": "restoration",
		"source": "self", "allegation": "I have retrained."})["id"])
	f.stage(rid, "investigation")
	f.seatPanel(rid)
	f.stage(rid, "referred_to_panel")
	f.stage(rid, "hearing")

	soon := register.DateOf(f.Now()).AddDate(0, 0, 2)
	stale := f.propose(rid, map[string]any{"kind": "restoration", "registered_until": soon.String()})
	f.vote(stale, f.chair, "agree")

	// The day before registered_until the proposal could still be made;
	// on the day itself it can no longer.
	f.Advance(48 * time.Hour)
	if got := register.DateOf(f.Now()); got != soon {
		t.Fatalf("clock on %s, want %s", got, soon)
	}
	before := f.LastAuditID()
	r := f.Do("POST", "/v1/decisions/"+stale+"/votes", f.tok(f.lay), map[string]any{"vote": "agree"})
	r.WantError(t, 409, register.ECONFLICT)
	if !strings.Contains(string(r.Body), "registered_until") {
		t.Fatalf("the refusal does not say why: %s", r.Body)
	}
	if got := f.AuditSince(before); len(got) != 0 {
		t.Fatalf("a refused deciding vote wrote %v", got)
	}
	f.wantStanding(n, time.Time{}, removed)

	// The refused vote was not counted: the panel can still close the
	// proposal, and the case is still at its hearing.
	f.vote(stale, f.lay, "disagree")
	if m := f.vote(stale, f.member, "disagree"); m["state"] != "rejected" {
		t.Fatalf("after two of three disagreed the proposal is %v", m["state"])
	}
	if c := f.Must(200, "GET", "/v1/cases/"+rid, f.reg(), nil); c["stage"] != "hearing" {
		t.Fatalf("restoration case stage = %v", c["stage"])
	}

	until := register.DateOf(f.Now()).AddDate(1, 0, 0).String()
	f.decide(rid, map[string]any{"kind": "restoration", "registered_until": until})
	if m := f.public(n, time.Time{}); standing(m) != registered || m["registered_until"] != until {
		t.Fatalf("after restoration: %s until %v", standing(m), m["registered_until"])
	}
	f.verifyAudit()
}
