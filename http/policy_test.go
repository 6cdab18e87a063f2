package http_test

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/auth"
	registerhttp "github.com/probation-register/register/http"
	"github.com/probation-register/register/register"
)

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// caller is one principal of the authorisation matrix.
type caller struct {
	name  string
	token string
	// as is what the policy knows the caller as; "" when the caller holds
	// no valid credential (anonymous, expired token, disabled user).
	as registerhttp.Principal
	// own and other name the owners (see matrix.objects) of the caller's own
	// objects and of another's, for the ownership rule that limits it; ""
	// when there is none.
	own, other string
}

// matrix holds the objects the authorisation matrix calls routes about:
// by owner ("regA", "regB": registrants; "panel": the case whose panel the
// panel member sits on; "E1", "A1", "E2", "A2": organisations; "" for the
// objects no ownership rule limits), then by kind.
type matrix struct {
	*ftp
	admin   string
	objects map[string]map[string]string
	tokens  map[string]string // each owner's token, to create fresh objects
}

func (m *matrix) set(owner, kind, value string) {
	if m.objects[owner] == nil {
		m.objects[owner] = map[string]string{}
	}
	m.objects[owner][kind] = value
}

// fresh creates a new object of kind for owner, for routes that delete it:
// each call must find its own object still there.
func (m *matrix) fresh(owner, kind string) string {
	m.t.Helper()
	o := m.objects[owner]
	switch kind {
	case "cpd":
		return jsonID(m.Must(201, "POST", "/v1/me/cpd", m.tokens[owner], map[string]any{"date": "2026-03-02",
			"title": "Matrix course", "category": "participatory", "hours": 1})["id"])
	case "share":
		return jsonID(m.Must(201, "POST", "/v1/me/share-codes", m.tokens[owner], map[string]any{"days": 30})["id"])
	case "key":
		return jsonID(m.Must(201, "POST", "/v1/organisations/"+o["org"]+"/api-keys", m.admin, map[string]any{"name": "fresh"})["id"])
	case "webhook":
		return jsonID(m.Must(201, "POST", "/v1/webhooks", m.tokens[owner], map[string]any{"url": "http://127.0.0.1:9/" + owner})["id"])
	}
	m.t.Fatalf("no fresh %s", kind)
	return ""
}

// path fills route's parameters with owner's object, a new one if fresh
// (for a caller that may delete it); ok is false when the fixtures hold no
// such object (the route is then called about a missing one only).
func (m *matrix) path(method, route, owner string, fresh bool) (path string, ok bool) {
	m.t.Helper()
	o := m.objects[owner]
	common := m.objects[""]
	vals := map[string]string{"number": common["number"], "transition": "admit"}
	get := func(kind string) string {
		if fresh {
			return m.fresh(owner, kind)
		}
		return o[kind]
	}
	switch {
	case strings.Contains(route, "/qualifications/:id"):
		vals["id"] = common["qualification"]
	case strings.Contains(route, "/renewals/:id"), strings.Contains(route, "/cpd-audits/:id"):
		return "", false
	case strings.Contains(route, "/cases/:id"):
		vals["id"] = o["case"]
	case strings.Contains(route, "/decisions/:id"):
		vals["id"] = o["decision"]
	case strings.Contains(route, "/me/cpd/:id"):
		vals["id"] = get("cpd")
	case strings.Contains(route, "/me/share-codes/:id"):
		vals["id"] = get("share")
	case strings.Contains(route, "/users/:id"):
		vals["id"] = common["user"]
	case strings.Contains(route, "/api-keys/:key"):
		vals["id"], vals["key"] = o["org"], get("key")
	case strings.Contains(route, "/organisations/:id"):
		vals["id"] = o["org"]
	case strings.Contains(route, "/engagements/:id"):
		vals["id"] = o["engagement"]
	case strings.Contains(route, "/webhooks/:id"):
		vals["id"] = get("webhook")
	case strings.Contains(route, "/shared/:code"):
		vals["code"] = common["code"]
	case !strings.Contains(route, ":number"):
		m.t.Fatalf("%s %s: the matrix has no object for its parameters", method, route)
	}
	return fill(m.t, route, vals), true
}

// missing fills route's parameters with well-formed values naming nothing.
func (m *matrix) missing(route string) string {
	code, _ := auth.NewShareCode()
	return fill(m.t, route, map[string]string{"number": otherNumber(m.objects[""]["number"]), "transition": "admit",
		"id": "999999", "key": "999999", "code": code})
}

func fill(t testing.TB, route string, vals map[string]string) string {
	segs := strings.Split(route, "/")
	for i, s := range segs {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			v, ok := vals[name]
			if !ok || v == "" {
				t.Fatalf("%s: no value for :%s", route, name)
			}
			segs[i] = v
		}
	}
	return strings.Join(segs, "/")
}

// matrixBodies are the bodies that reach the ownership check of a route
// whose handler reads the body before the object; other writes send {}.
var matrixBodies = map[string]map[string]any{
	"PATCH /v1/me/cpd/:id":                {"title": "Updated by the matrix"},
	"POST /v1/cases/:id/decisions":        {"kind": "advice", "public_summary": "Advice.", "reasons": "Private reasons."},
	"POST /v1/decisions/:id/votes":        {"vote": "disagree"},
	"POST /v1/engagements/:id/end":        {"until": "2026-03-20"},
	"POST /v1/organisations/:id/api-keys": {"name": "matrix"},
}

// unowned are the routes whose parameter names no owned object: an
// organisation watches any registrant on its own list.
var unowned = map[string]bool{"PUT /v1/watchlist/:number": true, "DELETE /v1/watchlist/:number": true}

func errorCode(r *Response) string {
	var m struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &m)
	return m.Error.Code
}

func refused(r *Response) bool { return r.Status == 401 || r.Status == 403 }

// newMatrix builds the principals and their objects: two registrants with
// accounts, CPD entries and share codes; a case at its hearing with a
// panel and a proposed decision, and a second case; an employer and an agency that engage registrant A and
// another employer and agency that engage registrant B, each with a user,
// an API key and a webhook; and the callers whose tokens no longer hold.
func newMatrix(t *testing.T) (*matrix, []caller) {
	f := newFTP(t)
	m := &matrix{ftp: f, objects: map[string]map[string]string{}, tokens: map[string]string{}}
	reg := f.reg()
	m.admin, _ = f.User("admin@example.org", register.RoleAdmin)

	nA, tokA := staffMember(f.env, reg, "Ashby", "Alex", "2027-03-01")
	nB, tokB := staffMember(f.env, reg, "Brook", "Bea", "2027-03-01")
	m.tokens["regA"], m.tokens["regB"] = tokA, tokB
	for _, owner := range []string{"regA", "regB"} {
		m.set(owner, "cpd", m.fresh(owner, "cpd"))
		m.set(owner, "share", m.fresh(owner, "share"))
	}
	share := f.Must(201, "POST", "/v1/me/share-codes", tokA, map[string]any{"days": 30})
	m.set("", "number", nA)
	m.set("", "code", share["code"].(string))
	q := f.Must(201, "POST", "/v1/registrants/"+nA+"/qualifications", reg, map[string]any{"level": 5, "title": "Level 5 Diploma in Probation Practice",
		"awarding_body": "Awarding Body", "awarded_on": "2024-07-01", "certificate_ref": "CERT-M", "state": "claimed"})
	m.set("", "qualification", jsonID(q["id"]))
	m.set("", "user", strconv.FormatInt(f.member.ID, 10))

	// The panel member under test chairs case P; the regulator's routes
	// are called about case R, so that P stays at its hearing.
	caseP := f.toHearing(f.practitioner("Pryce"), "Matrix allegation.")
	m.set("panel", "case", caseP)
	m.set("panel", "decision", f.propose(caseP, map[string]any{"kind": "advice"}))
	m.set("", "case", f.toHearing(f.practitioner("Rowe"), "Other allegation."))

	callers := []caller{
		{name: "anonymous"},
		{name: "registrant A", token: tokA, as: registerhttp.Registrant, own: "regA", other: "regB"},
		{name: "registrant B", token: tokB, as: registerhttp.Registrant, own: "regB", other: "regA"},
		{name: "registrar", token: reg, as: registerhttp.Registrar},
		{name: "admin", token: m.admin, as: registerhttp.Admin},
		{name: "panel member on the panel", token: f.tok(f.chair), as: registerhttp.PanelMember, own: "panel"},
		{name: "panel member on no panel", token: f.tok(f.outsider), as: registerhttp.PanelMember, other: "panel"},
	}

	orgs := []struct{ owner, kind, engages, other string }{
		{"E1", "employer", nA, "E2"}, {"A1", "agency", nA, "A2"}, {"E2", "employer", nB, "E1"}, {"A2", "agency", nB, "A1"},
	}
	for _, o := range orgs {
		id, key := f.Org(m.admin, "Organisation "+o.owner, o.kind)
		m.set(o.owner, "org", id)
		m.tokens[o.owner] = key
		eng := map[string]any{"register_number": o.engages, "role": "PSO", "type": "employed", "from": "2026-03-02"}
		if o.kind == "agency" {
			eng["type"], eng["until"] = "agency_placement", "2026-06-30"
		}
		m.set(o.owner, "engagement", jsonID(f.Must(201, "POST", "/v1/engagements", key, eng)["id"]))
		m.set(o.owner, "webhook", m.fresh(o.owner, "webhook"))
		m.set(o.owner, "key", m.fresh(o.owner, "key"))
		role := register.Role(o.kind)
		user := f.OrgUser(strings.ToLower(o.owner)+"@example.org", role, mustInt(t, id))
		callers = append(callers,
			caller{name: o.kind + " " + o.owner, token: user, as: registerhttp.Principal(role), own: o.owner, other: o.other},
			caller{name: "API key of " + o.owner, token: key, as: registerhttp.APIKey, own: o.owner, other: o.other})
	}

	// An admin's access token whose 15 minutes ran out an hour ago (a
	// fresh one of theirs works).
	current, expiredUser := f.User("expired@example.org", register.RoleAdmin)
	f.Must(200, "GET", "/v1/users", current, nil)
	old := auth.NewTokens(f.Keys, "national-probation-register", 15*time.Minute, func() time.Time { return f.Now().Add(-75 * time.Minute) })
	expired, err := old.Issue(expiredUser)
	if err != nil {
		t.Fatal(err)
	}
	// A registrar disabled, and an admin made a panel member, after their
	// tokens were issued and used: each request loads the user afresh.
	disabled, du := f.User("disabled@example.org", register.RoleRegistrar)
	f.Must(200, "GET", "/v1/registrants", disabled, nil)
	f.Must(200, "PATCH", "/v1/users/"+strconv.FormatInt(du.ID, 10), m.admin, map[string]any{"disabled": true})
	demoted, cu := f.User("demoted@example.org", register.RoleAdmin)
	f.Must(200, "GET", "/v1/users", demoted, nil)
	f.Must(200, "PATCH", "/v1/users/"+strconv.FormatInt(cu.ID, 10), m.admin, map[string]any{"role": "panel_member"})
	callers = append(callers,
		caller{name: "expired token", token: expired},
		caller{name: "user disabled after the token", token: disabled},
		caller{name: "admin made panel member after the token", token: demoted, as: registerhttp.PanelMember, other: "panel"})
	return m, callers
}

// TestAuthorisationMatrix calls every API route as every principal, about
// its own object, another's and a missing one, and compares each answer
// with the policy (registerhttp.Policy): a principal the policy does not
// allow is refused (401 without a valid access token, else 403) whether or
// not the object exists; an allowed one is never refused, and reaches its
// own objects; another's object answers exactly like a missing one.
func TestAuthorisationMatrix(t *testing.T) {
	m, callers := newMatrix(t)
	policy := registerhttp.Policy()
	served := map[string]bool{}
	var routes []gin.RouteInfo
	for _, r := range m.Server.Handler().(*gin.Engine).Routes() {
		route := r.Method + " " + r.Path
		served[route] = true
		rule, ok := policy[route]
		switch {
		case !ok:
			t.Errorf("%s is served but not in the policy (http/policy.go)", route)
		case !rule.Page: // the pages sign in with a cookie: web_test.go checks them
			routes = append(routes, r)
		}
	}
	for route := range policy {
		if !served[route] {
			t.Errorf("the policy lists %s, which is not served", route)
		}
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })

	checked, allows, denies := 0, 0, 0
	alike, refusedOthers := 0, 0 // another's objects: answered like missing ones, refused
	for _, r := range routes {
		route := r.Method + " " + r.Path
		rule := policy[route]
		var body any
		if r.Method != "GET" && r.Method != "DELETE" && !slices.Contains(bodylessRoutes, route) {
			body = map[string]any{}
			if b, ok := matrixBodies[route]; ok {
				body = b
			}
		}
		call := func(path, tok string) *Response {
			checked++
			return m.Do(r.Method, path, tok, body)
		}
		for _, who := range callers {
			allowed := rule.Allows(who.as)
			if !strings.Contains(r.Path, ":") {
				resp := call(r.Path, who.token)
				switch {
				case allowed && refused(resp):
					denies++
					t.Errorf("%s as %s: refused (%d), but the policy allows it: %s", route, who.name, resp.Status, resp.Body)
				case !allowed && !wantRefusal(t, route, who, rule, resp):
					allows++
				case allowed && rule.Owner.Limits(who.as) && listed[route] != "":
					a, d := m.checkList(t, route, who, resp)
					allows, denies = allows+a, denies+d
				}
				continue
			}
			missing := call(m.missing(r.Path), who.token)
			if !allowed || !rule.Owner.Limits(who.as) || unowned[route] {
				// No ownership narrows the caller: any existing object will do.
				subject := map[registerhttp.Ownership]string{registerhttp.OwnRecord: "regA", registerhttp.OnPanel: "panel", registerhttp.OwnOrganisation: "E1"}[rule.Owner]
				path, ok := m.path(r.Method, r.Path, subject, allowed && r.Method == "DELETE")
				var resp *Response
				if ok {
					if allowed && route == "DELETE /v1/watchlist/:number" {
						m.Do("PUT", path, who.token, nil) // the caller's own list holds it
					}
					resp = call(path, who.token)
				}
				switch {
				case !allowed:
					for _, got := range []*Response{resp, missing} {
						if got != nil && !wantRefusal(t, route, who, rule, got) {
							allows++
						}
					}
					if resp != nil && (resp.Status != missing.Status || errorCode(resp) != errorCode(missing)) {
						allows++
						t.Errorf("%s as %s: an existing object answers %d %s, a missing one %d %s", route, who.name, resp.Status, errorCode(resp), missing.Status, errorCode(missing))
					}
				case refused(missing):
					denies++
					t.Errorf("%s as %s about a missing object: refused (%d), but the policy allows it: %s", route, who.name, missing.Status, missing.Body)
				case resp != nil && (refused(resp) || resp.Status == 404):
					denies++
					t.Errorf("%s as %s: status %d, but the policy allows it: %s", route, who.name, resp.Status, resp.Body)
				}
				continue
			}
			// The ownership rule narrows the caller to its own objects.
			if refused(missing) {
				denies++
				t.Errorf("%s as %s about a missing object: refused (%d), but the policy allows it: %s", route, who.name, missing.Status, missing.Body)
			}
			if who.own != "" {
				path, _ := m.path(r.Method, r.Path, who.own, r.Method == "DELETE")
				if resp := call(path, who.token); refused(resp) || resp.Status == 404 {
					denies++
					t.Errorf("%s as %s about its own object: status %d: %s", route, who.name, resp.Status, resp.Body)
				}
			}
			if who.other != "" {
				path, _ := m.path(r.Method, r.Path, who.other, false)
				resp := call(path, who.token)
				switch {
				case rule.Owner.RefusesOthers():
					refusedOthers++
					if resp.Status != 403 || errorCode(resp) != register.EFORBIDDEN {
						allows++
						t.Errorf("%s as %s about another's object: %d %s, but the policy refuses it (403 forbidden): %s", route, who.name,
							resp.Status, errorCode(resp), resp.Body)
					}
				case resp.Status < 400 || resp.Status != missing.Status || errorCode(resp) != errorCode(missing):
					allows++
					t.Errorf("%s as %s about another's object: %d %s, but a missing one answers %d %s: %s", route, who.name,
						resp.Status, errorCode(resp), missing.Status, errorCode(missing), resp.Body)
				default:
					alike++
				}
			}
		}
	}
	t.Logf("authorisation matrix: %d routes × %d principals: %d cases checked, %d unexpected allows, %d unexpected denies; "+
		"another's object answered like a missing one %d times, refused as the policy says %d times",
		len(routes), len(callers), checked, allows, denies, alike, refusedOthers)
}

// listed are the lists narrowed by ownership, with the kind of their items.
var listed = map[string]string{"GET /v1/me/cpd": "cpd", "GET /v1/me/share-codes": "share", "GET /v1/cases": "case",
	"GET /v1/engagements": "engagement", "GET /v1/webhooks": "webhook"}

// checkList checks that a list holds the caller's own object and not
// another's, returning the unexpected allows and denies.
func (m *matrix) checkList(t *testing.T, route string, who caller, resp *Response) (allows, denies int) {
	t.Helper()
	ids := map[string]bool{}
	items, _ := resp.JSON(t)["items"].([]any)
	for _, it := range items {
		ids[jsonID(it.(map[string]any)["id"])] = true
	}
	kind := listed[route]
	if own := m.objects[who.own][kind]; who.own != "" && !ids[own] {
		denies++
		t.Errorf("%s as %s: its own %s %s is not listed: %s", route, who.name, kind, own, resp.Body)
	}
	if other := m.objects[who.other][kind]; who.other != "" && ids[other] {
		allows++
		t.Errorf("%s as %s: another's %s %s is listed: %s", route, who.name, kind, other, resp.Body)
	}
	return allows, denies
}

// wantRefusal checks a refused caller's answer: 401 without a valid access
// token (or with an API key where keys are not accepted), else 403.
func wantRefusal(t *testing.T, route string, who caller, rule registerhttp.Rule, resp *Response) bool {
	t.Helper()
	status, code := 403, register.EFORBIDDEN
	if who.as == "" || (who.as == registerhttp.APIKey && !rule.Allows(registerhttp.APIKey)) {
		status, code = 401, register.EUNAUTHORIZED
	}
	if resp.Status != status || errorCode(resp) != code {
		t.Errorf("%s as %s: %d %s, but the policy refuses it (want %d %s): %s", route, who.name, resp.Status, errorCode(resp), status, code, resp.Body)
		return false
	}
	return true
}

// TestPolicyRefusesUnlistedRoutes registers routes the policy does not
// list, an API one and a page, and calls them with and without a token:
// both are refused and their handlers never run (deny by default).
func TestPolicyRefusesUnlistedRoutes(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.User("admin@example.org", register.RoleAdmin)
	engine := e.Server.Handler().(*gin.Engine)
	ran := 0
	handler := func(c *gin.Context) { ran++; c.JSON(200, gin.H{"ran": true}) }
	engine.GET("/v1/unlisted", handler)
	engine.POST("/unlisted-page", handler)
	// Served in this goroutine: the routes were added after the engine was built.
	serve := func(method, path, tok string) *Response {
		req := httptest.NewRequest(method, path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		engine.ServeHTTP(rec, req)
		return &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	}
	for _, target := range []string{"GET /v1/unlisted", "POST /unlisted-page"} {
		method, path, _ := strings.Cut(target, " ")
		for who, tok := range map[string]string{"anonymous": "", "admin": admin} {
			if resp := serve(method, path, tok); resp.Status != 403 || errorCode(resp) != register.EFORBIDDEN {
				t.Errorf("%s as %s: %d %s, want 403 forbidden", target, who, resp.Status, resp.Body)
			}
		}
	}
	if ran != 0 {
		t.Fatalf("an unlisted route's handler ran %d times", ran)
	}
	if log := e.Log.String(); !strings.Contains(log, "route missing from the authorisation policy") || !strings.Contains(log, "/v1/unlisted") {
		t.Fatalf("the refusal is not logged: %s", log)
	}
	// A listed route on the same engine still answers.
	if resp := serve("GET", "/v1/users", admin); resp.Status != 200 {
		t.Fatalf("GET /v1/users as admin: %d %s", resp.Status, resp.Body)
	}
}

// TestOrganisationRoutesNeedAnOrganisation: the policy lets employers and
// agencies call the organisations' routes for their own organisation, so a
// user of those roles bound to none is refused.
func TestOrganisationRoutesNeedAnOrganisation(t *testing.T) {
	e := newEnv(t)
	for _, role := range []register.Role{register.RoleEmployer, register.RoleAgency} {
		d := e.Do("GET", "/v1/engagements", e.Token(role), nil).WantError(t, 403, register.EFORBIDDEN)
		if d["message"] != "Your account is not linked to an organisation." {
			t.Errorf("%s with no organisation: message %q", role, d["message"])
		}
	}
}
