package http_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

// protectedFields are fields no client may set through a body where they are
// not part of the request; unexpected_key stands for any unknown key.
var protectedFields = map[string]any{"status": "registered", "register_number": "PR0000000", "role": "admin",
	"registered_until": "2099-12-31", "organisation_id": 1, "unexpected_key": true}

// TestMassAssignment sends protected fields and an unknown key to every write
// route gin registers, as every role in turn: no request with them succeeds,
// each one a role may make is refused with 400 naming a field, and nothing
// at all is written (the audit log does not move).
func TestMassAssignment(t *testing.T) {
	f := newFTP(t)
	n := f.practitioner("Mass")
	own := activateAccount(f.env, f.reg(), n)
	caseID := f.toHearing(f.practitioner("Assign"), "Allegation.")
	tokens := map[string]string{"registrar": f.reg(), "admin": f.Token(register.RoleAdmin), "panel": f.tok(f.chair), "registrant": own}
	orgID, key := f.Org(tokens["admin"], "Mass Employer", "employer")
	tokens["api key"] = key
	tokens["employer"] = f.OrgUser("employer@example.org", register.RoleEmployer, mustInt(t, orgID))
	mark := f.LastAuditID()

	valid := map[string]map[string]any{ // a valid body for the main writes, so only the extra fields are wrong
		"POST /v1/registrants":          {"family_name": "New", "given_names": "Pat", "date_of_birth": "1985-06-15", "email": "new@example.org"},
		"PATCH /v1/registrants/:number": {"family_name": "Changed"},
		"POST /v1/me/cpd":               cpdEntry("2026-03-02", "participatory", 1),
	}
	// Every write refuses unknown keys, those that take no body included.
	checked, refused400 := 0, 0
	for _, r := range f.Server.Handler().(*gin.Engine).Routes() {
		route := r.Method + " " + r.Path
		// JSON writes only: the HTML pages' form posts are not JSON bodies.
		if r.Method == "GET" || r.Method == "HEAD" || !strings.HasPrefix(r.Path, "/v1/") {
			continue
		}
		path := strings.NewReplacer(":number", n, ":transition", "admit", ":key", "999999").Replace(r.Path)
		if strings.HasPrefix(r.Path, "/v1/organisations/:id") {
			path = strings.ReplaceAll(path, ":id", orgID)
		}
		path = strings.ReplaceAll(path, ":id", caseID)
		body := maps.Clone(valid[route])
		if body == nil {
			body = map[string]any{}
		}
		maps.Copy(body, protectedFields)
		allowedSomewhere := false
		for role, tok := range tokens {
			resp := f.Do(r.Method, path, tok, body)
			if resp.Status < 300 {
				t.Errorf("%s as %s: status %d with protected fields: %s", route, role, resp.Status, resp.Body)
				continue
			}
			if resp.Status == 401 || resp.Status == 403 {
				continue
			}
			allowedSomewhere = true
			if resp.Status == 400 && strings.Contains(string(resp.Body), "is not a known field") {
				refused400++
			} else {
				t.Errorf("%s as %s: status %d, want 400 naming an unknown field: %s", route, role, resp.Status, resp.Body)
			}
		}
		if allowedSomewhere {
			checked++
		}
	}
	if got := f.LastAuditID(); got != mark {
		t.Fatalf("%d audit entries written by requests carrying protected fields: %v", got-mark, f.AuditSince(mark))
	}
	if checked == 0 {
		t.Fatal("no write route was reachable")
	}
	t.Logf("mass assignment: %d write routes reached, %d requests refused with 400 naming a field, 0 writes", checked, refused400)
}
