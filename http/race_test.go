package http_test

import (
	"sort"
	"sync"
	"testing"

	"github.com/probation-register/register/register"
)

// race sends the requests at once and returns their statuses, sorted.
func race(e *env, reqs ...func() *Response) []int {
	var wg sync.WaitGroup
	start := make(chan struct{})
	out := make([]int, len(reqs))
	for i, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = req().Status
		}()
	}
	close(start)
	wg.Wait()
	sort.Ints(out)
	return out
}

// TestRacingWritesOnOneRecord has two writers race for a change only one
// may make, many times: exactly one wins, the other gets 409, and the
// record and its audit trail show the change once.
func TestRacingWritesOnOneRecord(t *testing.T) {
	const rounds = 15
	t.Run("two approvals of one renewal", func(t *testing.T) {
		e := newEnv(t)
		reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
		other, _ := e.User("registrar2@example.org", register.RoleRegistrar)
		for i := range rounds {
			n, tok := staffMember(e, reg, "Racer", string(rune('A'+i)), "2026-04-30")
			logRequiredCPD(e, tok, "2026-03-02")
			e.Must(201, "POST", "/v1/cases", reg, map[string]any{"register_number": n, "source": "employer",
				"category": "misconduct", "allegation": "Reported."})
			m := e.Must(201, "POST", "/v1/me/renewal", tok, declare)
			if m["state"] != "pending" {
				t.Fatalf("renewal %v: want it pending for a registrar", m)
			}
			path := "/v1/renewals/" + jsonID(m["id"]) + "/approve"
			got := race(e, func() *Response { return e.Do("POST", path, reg, nil) }, func() *Response { return e.Do("POST", path, other, nil) })
			if got[0] != 200 || got[1] != 409 {
				t.Fatalf("round %d: statuses %v, want one 200 and one 409", i, got)
			}
			if c := e.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'renewal.approve' AND entity_id = ?`, jsonID(m["id"])); c != 1 {
				t.Fatalf("round %d: %d approvals audited", i, c)
			}
			if _, until := publicStanding(e, n); until != "2027-04-30" {
				t.Fatalf("round %d: registered until %s", i, until)
			}
		}
	})
	t.Run("two panel proposals on one case", func(t *testing.T) {
		f := newFTP(t)
		for i := range rounds {
			n := f.practitioner("Racer" + string(rune('A'+i)))
			id := f.toHearing(n, "Allegation.")
			propose := func(u *register.User, kind string) func() *Response {
				return func() *Response {
					return f.Do("POST", "/v1/cases/"+id+"/decisions", f.tok(u), map[string]any{"kind": kind,
						"public_summary": "Summary.", "reasons": "Reasons."})
				}
			}
			got := race(f.env, propose(f.chair, "advice"), propose(f.lay, "no_further_action"))
			if got[0] != 201 || got[1] != 409 {
				t.Fatalf("round %d: statuses %v, want one 201 and one 409", i, got)
			}
			if c := f.env.count(`SELECT COUNT(*) FROM decisions WHERE case_id = ?`, id); c != 1 {
				t.Fatalf("round %d: %d decisions stored", i, c)
			}
		}
	})
	t.Run("the deciding votes of two members", func(t *testing.T) {
		f := newFTP(t)
		for i := range rounds {
			n := f.practitioner("Voter" + string(rune('A'+i)))
			id := f.toHearing(n, "Allegation.")
			d := f.propose(id, map[string]any{"kind": "suspension", "months": 3, "immediate": true})
			f.vote(d, f.chair, "agree")
			vote := func(u *register.User) func() *Response {
				return func() *Response {
					return f.Do("POST", "/v1/decisions/"+d+"/votes", f.tok(u), map[string]any{"vote": "agree"})
				}
			}
			got := race(f.env, vote(f.lay), vote(f.member))
			// Both votes count (each member votes once); the decision is
			// made once, by whichever vote made the majority.
			if got[0] != 201 && got[0] != 409 {
				t.Fatalf("round %d: statuses %v", i, got)
			}
			if c := f.env.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'decision.make' AND entity_id = ?`, d); c != 1 {
				t.Fatalf("round %d: the decision was made %d times", i, c)
			}
			if c := f.env.count(`SELECT COUNT(*) FROM registration_periods p JOIN registrants r ON r.id = p.registrant_id
				WHERE r.register_number = ? AND p.status = 'suspended' AND p.superseded_at IS NULL`, n); c != 1 {
				t.Fatalf("round %d: %d suspension periods", i, c)
			}
		}
	})
}
