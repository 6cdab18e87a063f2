package http_test

import (
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

// bodylessRoutes are the write routes that take no body.
var bodylessRoutes = []string{
	"POST /v1/registrants/:number/qualifications/:id/verify",
	"POST /v1/registrants/:number/account",
	"POST /v1/renewals/:id/approve",
	"DELETE /v1/me/cpd/:id",
	"DELETE /v1/me/share-codes/:id",
	"DELETE /v1/organisations/:id/api-keys/:key",
	"PUT /v1/watchlist/:number",
	"DELETE /v1/watchlist/:number",
	"DELETE /v1/webhooks/:id",
}

// TestUnknownKeysOnEveryWrite sends a body holding only an unknown key to
// every JSON write route gin registers, as every kind of caller: each
// request a caller may make is refused with 400 naming the key, bodyless
// routes included, and nothing is written. Then each bodyless route is sent
// the bodies that mean "nothing" (none, empty, whitespace, {} and null)
// about a missing object: each gets past the body to the lookup (404).
func TestUnknownKeysOnEveryWrite(t *testing.T) {
	f := newFTP(t)
	n := f.practitioner("Bodyless")
	own := activateAccount(f.env, f.reg(), n)
	caseID := f.toHearing(f.practitioner("Keys"), "Allegation.")
	tokens := map[string]string{"anonymous": "", "registrar": f.reg(), "admin": f.Token(register.RoleAdmin),
		"panel": f.tok(f.chair), "registrant": own}
	orgID, key := f.Org(tokens["admin"], "Bodyless Employer", "employer")
	tokens["api key"] = key
	tokens["employer"] = f.OrgUser("bodyless-employer@example.org", register.RoleEmployer, mustInt(t, orgID))
	missing := register.NumberFromSerial(424242)
	f.Must(404, "GET", "/v1/registrants/"+missing, f.reg(), nil)
	mark := f.LastAuditID()

	// path fills a route's parameters: real objects for the unknown-key
	// sweep, missing ones (but well-formed) for the empty bodies.
	path := func(route string, number, id string) string {
		p := strings.NewReplacer(":number", number, ":transition", "admit", ":key", "999999").Replace(route)
		if strings.HasPrefix(route, "/v1/organisations/:id") {
			p = strings.ReplaceAll(p, ":id", orgID)
		}
		return strings.ReplaceAll(p, ":id", id)
	}

	routes := map[string]bool{}
	for _, r := range f.Server.Handler().(*gin.Engine).Routes() {
		route := r.Method + " " + r.Path
		routes[route] = true
		// JSON writes only: the HTML pages' form posts are not JSON bodies.
		if r.Method == "GET" || r.Method == "HEAD" || !strings.HasPrefix(r.Path, "/v1/") {
			continue
		}
		reached := false
		for who, tok := range tokens {
			resp := f.Do(r.Method, path(r.Path, n, caseID), tok, map[string]any{"unexpected_key": true})
			if resp.Status == 401 || resp.Status == 403 {
				continue
			}
			reached = true
			if resp.Status != 400 || resp.Field(t, "unexpected_key") != "is not a known field" {
				t.Errorf("%s as %s: status %d, want 400 naming unexpected_key: %s", route, who, resp.Status, resp.Body)
			}
		}
		if !reached {
			t.Errorf("%s: no caller reached it", route)
		}
	}
	if got := f.LastAuditID(); got != mark {
		t.Fatalf("requests with an unknown key wrote %v", f.AuditSince(mark))
	}

	for _, route := range bodylessRoutes {
		if !routes[route] {
			t.Errorf("%s is not a route", route)
			continue
		}
		method, p, _ := strings.Cut(route, " ")
		p = path(p, missing, "999999")
		if strings.Contains(route, "qualifications") {
			p = path(strings.TrimPrefix(route, method+" "), n, "999999")
		}
		for name, body := range map[string]any{"None": nil, "Empty": []byte{}, "Whitespace": " \n", "EmptyObject": "{}", "Null": "null"} {
			reached := false
			for who, tok := range tokens {
				resp := f.Do(method, p, tok, body)
				if resp.Status == 401 || resp.Status == 403 {
					continue
				}
				reached = true
				if resp.Status != 404 {
					t.Errorf("%s %s as %s: status %d, want 404 for a missing object: %s", route, name, who, resp.Status, resp.Body)
				}
			}
			if !reached {
				t.Errorf("%s %s: no caller reached it", route, name)
			}
		}
		for name, body := range map[string]string{"Array": "[]", "Malformed": `{"a":`, "TwoObjects": "{} {}"} {
			for who, tok := range tokens {
				resp := f.Do(method, p, tok, body)
				if resp.Status == 401 || resp.Status == 403 {
					continue
				}
				if resp.Status != 400 || resp.ErrorCode(t) != register.EINVALID {
					t.Errorf("%s %s as %s: status %d, want 400: %s", route, name, who, resp.Status, resp.Body)
				}
			}
		}
	}
	if got := f.LastAuditID(); got != mark {
		t.Fatalf("requests about missing objects wrote %v", f.AuditSince(mark))
	}
}
