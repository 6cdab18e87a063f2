package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/docs"
	registerhttp "github.com/probation-register/register/http"
	"github.com/probation-register/register/register"
)

// The tests in this file keep docs/openapi.yaml true: every request in
// them goes through the real server and both the request and the answer
// are validated against the description. To describe a new endpoint, add
// it to docs/openapi.yaml and add rows to specCases (and a value to
// pathExamples for a new path parameter name); TestOpenAPI then fails until
// every status the description promises has been seen from the server.

// spec is the loaded API description with a router over its paths.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

func loadSpec(t *testing.T) *spec {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.OpenAPI)
	if err != nil {
		t.Fatalf("docs/openapi.yaml does not load: %v", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("docs/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &spec{doc: doc, router: router}
}

// operation is one documented method and path, e.g. "GET /v1/users".
type operation struct {
	Method, Path string
	Op           *openapi3.Operation
}

func (o operation) String() string { return o.Method + " " + o.Path }

func (s *spec) operations() []operation {
	var out []operation
	for path, item := range s.doc.Paths.Map() {
		for method, op := range item.Operations() {
			out = append(out, operation{Method: method, Path: path, Op: op})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// secured reports whether an operation needs a bearer token: the document's
// default unless the operation overrides it.
func (s *spec) secured(op *openapi3.Operation) bool {
	if op.Security != nil {
		return len(*op.Security) > 0
	}
	return len(s.doc.Security) > 0
}

// roles is the operation's x-roles list.
func roles(op *openapi3.Operation) []register.Role {
	v, _ := op.Extensions["x-roles"].([]any)
	out := make([]register.Role, 0, len(v))
	for _, r := range v {
		s, _ := r.(string)
		out = append(out, register.Role(s))
	}
	return out
}

// verdict is what the description must say about a request.
type verdict int

const (
	specAccepts verdict = iota // the request is valid by the description
	specRejects                // the description itself rejects it, as the server does
	specEither                 // generated probes, whose bodies are not meant to be valid
)

// specCase is one request through the real server. Path and body may hold
// {name} placeholders, filled from the fixture values (tokens, register
// numbers, ids, and values saved from earlier answers).
type specCase struct {
	name    string
	method  string
	path    string
	as      string // fixture key of the bearer token; "" sends none
	body    any    // nil, a string sent as is, or a value sent as JSON
	status  int
	request verdict
	before  func(e *env, fx map[string]string)   // runs first, e.g. to move the clock
	save    map[string]string                    // fixture key -> top-level field of the answer
	check   func(t *testing.T, m map[string]any) // extra assertions on a JSON object answer
}

// seen records which documented statuses the server has produced.
type seen map[string]map[int]bool

func (s seen) add(op string, status int) {
	if s[op] == nil {
		s[op] = map[int]bool{}
	}
	s[op][status] = true
}

// placeholder is a {name} in a path or body.
var placeholder = regexp.MustCompile(`\{[a-z0-9_]+\}`)

// run sends c, validates the request and the answer against the
// description, and records the status seen.
func (s *spec) run(t *testing.T, e *env, fx map[string]string, got seen, c specCase) {
	t.Helper()
	if c.before != nil {
		c.before(e, fx)
	}
	fill := func(v string) string {
		return placeholder.ReplaceAllStringFunc(v, func(k string) string {
			if val, ok := fx[k[1:len(k)-1]]; ok {
				return val
			}
			return k
		})
	}
	path := fill(c.path)
	var body []byte
	switch b := c.body.(type) {
	case nil:
	case string:
		body = []byte(fill(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = []byte(fill(string(j)))
	}
	token := ""
	if c.as != "" {
		var ok bool
		if token, ok = fx[c.as]; !ok {
			t.Fatalf("no token %q in the fixture", c.as)
		}
	}

	req := httptestRequest(t, c.method, e.HTTP.URL+path, token, body)
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s is not described in docs/openapi.yaml: %v", c.method, path, err)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus:             true,
		SchemaValidationOptions:           []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
		RejectWhenRequestBodyNotSpecified: true,
		MultiError:                        true,
		// The description says a bearer token is needed; whether it is a
		// good one is the server's business.
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
				return in.NewError(nil)
			}
			return nil
		},
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case c.request == specAccepts && reqErr != nil:
		t.Errorf("the description rejects a request the server should accept:\n%v", reqErr)
	case c.request == specRejects && reqErr == nil:
		t.Errorf("the description accepts a request the server refuses (%d): tighten the schema", c.status)
	}

	var send any // a nil []byte would still be sent as an empty JSON body
	if body != nil {
		send = body
	}
	r := e.Do(c.method, path, token, send)
	if r.Status != c.status {
		t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
	}
	got.add(route.Method+" "+route.Path, r.Status)
	if err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 r.Status,
		Header:                 r.Header,
		Body:                   io.NopCloser(bytes.NewReader(r.Body)),
		Options:                opts,
	}); err != nil {
		t.Errorf("the answer does not match the description:\n%v\nbody: %s", err, r.Body)
	}
	if r.Status >= 400 && r.Status < 500 {
		// One status per error code, as http/error.go maps them.
		if code := r.ErrorCode(t); registerhttp.ErrorStatus(code) != r.Status {
			t.Errorf("error code %q comes with status %d, want %d", code, r.Status, registerhttp.ErrorStatus(code))
		}
	}
	if c.save == nil && c.check == nil {
		return
	}
	m := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, r.Body)
	}
	for key, field := range c.save {
		v, ok := m[field]
		if !ok || v == nil {
			t.Fatalf("answer has no %q to save as %q: %s", field, key, r.Body)
		}
		fx[key] = fmt.Sprint(v)
	}
	if c.check != nil {
		c.check(t, m)
	}
}

func httptestRequest(t *testing.T, method, url, token string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// pathExamples fills each path parameter in generated probes. The values
// are well formed, so the server reaches its role and body checks.
func pathExamples(fx map[string]string) map[string]string {
	return map[string]string{"number": fx["pract"], "id": "1", "transition": "renew", "key": "1", "code": "ABCDEFGHJ"}
}

// probes are generated from the description itself: for every operation,
// a bad token gets 401, every role outside x-roles gets 403, and a body
// over the limit gets 413. They write nothing.
func (s *spec) probes(t *testing.T, fx map[string]string) []specCase {
	t.Helper()
	examples := pathExamples(fx)
	var out []specCase
	for _, o := range s.operations() {
		path := placeholder.ReplaceAllStringFunc(o.Path, func(k string) string {
			v, ok := examples[k[1:len(k)-1]]
			if !ok {
				t.Fatalf("%s: no example value for path parameter %s: add one to pathExamples", o, k)
			}
			return v
		})
		allowed := roles(o.Op)
		as := ""
		if s.secured(o.Op) {
			if len(allowed) == 0 {
				t.Fatalf("%s: a secured operation needs x-roles", o)
			}
			as = string(allowed[0])
			out = append(out, specCase{name: o.String() + " bad token", method: o.Method, path: path, as: "bogus",
				status: http.StatusUnauthorized, request: specEither})
			for _, r := range register.Roles {
				if !slices.Contains(allowed, r) {
					out = append(out, specCase{name: o.String() + " as " + string(r), method: o.Method, path: path, as: string(r),
						status: http.StatusForbidden, request: specEither})
				}
			}
		}
		if o.Op.RequestBody != nil {
			big := `{"padding":"` + strings.Repeat("a", registerhttp.MaxBodyBytes) + `"}`
			out = append(out, specCase{name: o.String() + " oversized body", method: o.Method, path: path, as: as,
				body: big, status: http.StatusRequestEntityTooLarge, request: specEither})
		}
	}
	return out
}

// specCases are the hand-written rows: every happy path and the main
// refusals, in order (later rows use values saved by earlier ones). The
// fixture holds a token per role (admin, registrar, ...), "bogus", and the
// register numbers pract (a registered PO), applicant (never admitted),
// unknown (well formed, not on the register) and badcheck (wrong check digit).
func specCases() []specCase {
	until := "2027-03-01"
	field := func(name, want string) func(t *testing.T, m map[string]any) {
		return func(t *testing.T, m map[string]any) {
			t.Helper()
			if m[name] != want {
				t.Errorf("%s = %v, want %s", name, m[name], want)
			}
		}
	}
	status := func(want string) func(t *testing.T, m map[string]any) { return field("status", want) }
	items := func(want int) func(t *testing.T, m map[string]any) {
		return func(t *testing.T, m map[string]any) {
			t.Helper()
			if n := len(m["items"].([]any)); n != want {
				t.Errorf("%d items, want %d", n, want)
			}
		}
	}
	newcomer := map[string]any{"family_name": "Brennan", "given_names": "Siobhan", "date_of_birth": "1990-01-31",
		"email": "siobhan.brennan@example.org", "previous_names": []string{"Siobhan Kelly"}}
	qual := map[string]any{"level": 3, "title": "Level 3 Diploma in Probation Practice", "awarding_body": "Awarding Body",
		"awarded_on": "2025-07-01", "certificate_ref": "CERT-3", "state": "claimed"}
	with := func(m map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for key, val := range m {
			out[key] = val
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	login := map[string]any{"email": "registrar@example.org", "password": Password}
	// Changes a minute apart are separate periods in the history.
	later := func(e *env, _ map[string]string) { e.Advance(time.Minute) }

	return []specCase{
		// health
		{name: "healthz", method: "GET", path: "/healthz", status: 200, check: status("ok")},
		{name: "readyz", method: "GET", path: "/readyz", status: 200, check: status("ready")},
		{name: "openapi", method: "GET", path: "/openapi.yaml", status: 200},

		// public
		{name: "public record", method: "GET", path: "/v1/public/registrants/{pract}", status: 200, check: status("registered")},
		{name: "public record before admission", method: "GET", path: "/v1/public/registrants/{pract}?at=2026-03-02T09:00:00Z", status: 200, check: status("not_registered")},
		{name: "public record bad at", method: "GET", path: "/v1/public/registrants/{pract}?at=yesterday", status: 400, request: specRejects},
		{name: "public record malformed number", method: "GET", path: "/v1/public/registrants/PR123", status: 400, request: specRejects},
		{name: "public record bad check digit", method: "GET", path: "/v1/public/registrants/{badcheck}", status: 400},
		{name: "public record unknown", method: "GET", path: "/v1/public/registrants/{unknown}", status: 404},
		{name: "public record applicant", method: "GET", path: "/v1/public/registrants/{applicant}", status: 404},
		{name: "search", method: "GET", path: "/v1/public/search?name=okaf", status: 200, check: items(1)},
		{name: "search too short", method: "GET", path: "/v1/public/search?name=O", status: 400, request: specRejects},
		{name: "search without name", method: "GET", path: "/v1/public/search", status: 400, request: specRejects},
		{name: "search without letters", method: "GET", path: "/v1/public/search?name=--", status: 400},

		// auth
		{name: "login", method: "POST", path: "/v1/auth/login", body: login, status: 200, save: map[string]string{"refresh": "refresh_token"}},
		{name: "login wrong password", method: "POST", path: "/v1/auth/login", body: with(login, "password", "wrong password"), status: 401},
		{name: "login unknown field", method: "POST", path: "/v1/auth/login", body: with(login, "otp", "123456"), status: 400, request: specRejects},
		{name: "login without body", method: "POST", path: "/v1/auth/login", body: "", status: 400, request: specRejects},
		{name: "login not JSON", method: "POST", path: "/v1/auth/login", body: "{", status: 400, request: specRejects},
		{name: "refresh", method: "POST", path: "/v1/auth/refresh", body: map[string]any{"refresh_token": "{refresh}"}, status: 200, save: map[string]string{"refresh2": "refresh_token"}},
		{name: "logout", method: "POST", path: "/v1/auth/logout", body: map[string]any{"refresh_token": "{refresh2}"}, status: 204},
		{name: "refresh after logout", method: "POST", path: "/v1/auth/refresh", body: map[string]any{"refresh_token": "{refresh2}"}, status: 401},
		{name: "refresh rotated token", method: "POST", path: "/v1/auth/refresh", body: map[string]any{"refresh_token": "{refresh}"}, status: 401},
		{name: "refresh without token", method: "POST", path: "/v1/auth/refresh", body: map[string]any{}, status: 400, request: specRejects},
		{name: "logout without token", method: "POST", path: "/v1/auth/logout", body: map[string]any{}, status: 400, request: specRejects},

		// registrants
		{name: "create registrant", method: "POST", path: "/v1/registrants", as: "registrar", body: newcomer, status: 201, save: map[string]string{"new": "register_number"}},
		{name: "create registrant without token", method: "POST", path: "/v1/registrants", body: newcomer, status: 401, request: specRejects},
		{name: "create registrant unknown field", method: "POST", path: "/v1/registrants", as: "registrar", body: with(newcomer, "ni_number", "QQ123456C"), status: 400, request: specRejects},
		{name: "create registrant bad date", method: "POST", path: "/v1/registrants", as: "registrar", body: with(newcomer, "date_of_birth", "31/01/1990"), status: 400, request: specRejects},
		{name: "create registrant too young", method: "POST", path: "/v1/registrants", as: "registrar", body: with(newcomer, "date_of_birth", "2020-01-01"), status: 400},
		{name: "create registrant without email", method: "POST", path: "/v1/registrants", as: "registrar", body: with(newcomer, "email", nil), status: 400, request: specRejects},
		{name: "list registrants", method: "GET", path: "/v1/registrants", as: "registrar", status: 200, check: items(3)},
		{name: "list registrants first page", method: "GET", path: "/v1/registrants?limit=1", as: "registrar", status: 200, save: map[string]string{"cursor": "next"}},
		{name: "list registrants next page", method: "GET", path: "/v1/registrants?limit=1&after={cursor}", as: "registrar", status: 200, check: items(1)},
		{name: "list applicants by name", method: "GET", path: "/v1/registrants?status=applicant&name=nowak", as: "admin", status: 200, check: items(1)},
		{name: "list registrants bad status", method: "GET", path: "/v1/registrants?status=struck_off", as: "registrar", status: 400, request: specRejects},
		{name: "list registrants bad limit", method: "GET", path: "/v1/registrants?limit=0", as: "registrar", status: 400, request: specRejects},
		{name: "list registrants bad cursor", method: "GET", path: "/v1/registrants?after=x", as: "registrar", status: 400, request: specRejects},
		{name: "list registrants long accented name", method: "GET", path: "/v1/registrants?name=" + url.QueryEscape(strings.Repeat("é", 100)), as: "registrar", status: 200, check: items(0)},
		{name: "list registrants name too long", method: "GET", path: "/v1/registrants?name=" + strings.Repeat("a", 101), as: "registrar", status: 400, request: specRejects},
		{name: "list registrants name without letters", method: "GET", path: "/v1/registrants?name=--", as: "registrar", status: 400},
		{name: "get registrant", method: "GET", path: "/v1/registrants/{pract}", as: "registrar", status: 200, check: func(t *testing.T, m map[string]any) {
			if m["registration"].(map[string]any)["status"] != "registered" || len(m["qualifications"].([]any)) != 1 {
				t.Errorf("registration or qualifications missing: %v", m)
			}
		}},
		{name: "get applicant", method: "GET", path: "/v1/registrants/{applicant}", as: "registrar", status: 200},
		{name: "get registrant unknown", method: "GET", path: "/v1/registrants/{unknown}", as: "registrar", status: 404},
		{name: "get registrant malformed", method: "GET", path: "/v1/registrants/PR1", as: "registrar", status: 400, request: specRejects},
		{name: "rename registrant", method: "PATCH", path: "/v1/registrants/{new}", as: "registrar", body: map[string]any{"family_name": "Walsh"}, status: 200, check: func(t *testing.T, m map[string]any) {
			if prev := m["previous_names"].([]any); len(prev) != 2 || prev[1] != "Siobhan Brennan" {
				t.Errorf("previous_names = %v", prev)
			}
		}},
		{name: "update registrant with nothing", method: "PATCH", path: "/v1/registrants/{new}", as: "registrar", body: map[string]any{}, status: 400, request: specRejects},
		{name: "update registrant bad date", method: "PATCH", path: "/v1/registrants/{new}", as: "registrar", body: map[string]any{"date_of_birth": "1990-13-01"}, status: 400, request: specRejects},
		{name: "update registrant unknown", method: "PATCH", path: "/v1/registrants/{unknown}", as: "registrar", body: map[string]any{"email": "x@example.org"}, status: 404},

		// qualifications
		{name: "add qualification", method: "POST", path: "/v1/registrants/{applicant}/qualifications", as: "registrar", body: qual, status: 201, save: map[string]string{"qual": "id"}},
		{name: "add trainee qualification", method: "POST", path: "/v1/registrants/{applicant}/qualifications", as: "registrar",
			body: with(with(with(qual, "level", 5), "state", "in_training"), "awarded_on", nil), status: 201},
		{name: "add qualification bad level", method: "POST", path: "/v1/registrants/{applicant}/qualifications", as: "registrar", body: with(qual, "level", 4), status: 400, request: specRejects},
		{name: "add qualification already verified", method: "POST", path: "/v1/registrants/{applicant}/qualifications", as: "registrar", body: with(qual, "state", "verified"), status: 400, request: specRejects},
		{name: "add qualification awarded in future", method: "POST", path: "/v1/registrants/{applicant}/qualifications", as: "registrar", body: with(qual, "awarded_on", "2030-01-01"), status: 400},
		{name: "add level 3 in training", method: "POST", path: "/v1/registrants/{applicant}/qualifications", as: "registrar", body: with(qual, "state", "in_training"), status: 400},
		{name: "add qualification unknown registrant", method: "POST", path: "/v1/registrants/{unknown}/qualifications", as: "registrar", body: qual, status: 404},
		{name: "verify qualification", method: "POST", path: "/v1/registrants/{applicant}/qualifications/{qual}/verify", as: "registrar", status: 200, check: field("state", "verified")},
		{name: "verify qualification again", method: "POST", path: "/v1/registrants/{applicant}/qualifications/{qual}/verify", as: "registrar", status: 409},
		{name: "verify unknown qualification", method: "POST", path: "/v1/registrants/{applicant}/qualifications/999999/verify", as: "registrar", status: 404},
		{name: "verify qualification bad id", method: "POST", path: "/v1/registrants/{applicant}/qualifications/abc/verify", as: "registrar", status: 404, request: specRejects},
		{name: "verify qualification bad check digit", method: "POST", path: "/v1/registrants/{badcheck}/qualifications/1/verify", as: "registrar", status: 400},

		// registration
		{name: "admit", method: "POST", path: "/v1/registrants/{applicant}/registration/admit", as: "registrar", body: map[string]any{"registered_until": until}, status: 200, check: status("registered")},
		{name: "admit again", method: "POST", path: "/v1/registrants/{applicant}/registration/admit", as: "registrar", body: map[string]any{"registered_until": until}, status: 409},
		{name: "admit without date", method: "POST", path: "/v1/registrants/{new}/registration/admit", as: "registrar", body: map[string]any{}, status: 400},
		{name: "admit beyond 3 years", method: "POST", path: "/v1/registrants/{new}/registration/admit", as: "registrar", body: map[string]any{"registered_until": "2030-01-01"}, status: 400},
		{name: "admit bad date", method: "POST", path: "/v1/registrants/{new}/registration/admit", as: "registrar", body: map[string]any{"registered_until": "soon"}, status: 400, request: specRejects},
		{name: "admit unknown", method: "POST", path: "/v1/registrants/{unknown}/registration/admit", as: "registrar", body: map[string]any{"registered_until": until}, status: 404},
		{name: "renew never admitted", method: "POST", path: "/v1/registrants/{new}/registration/renew", as: "registrar", body: map[string]any{"registered_until": until}, status: 409},
		{name: "renew", before: later, method: "POST", path: "/v1/registrants/{pract}/registration/renew", as: "registrar", body: map[string]any{"registered_until": "2028-03-01"}, status: 200},
		{name: "lapse without reason", method: "POST", path: "/v1/registrants/{pract}/registration/lapse", as: "registrar", body: map[string]any{}, status: 400},
		{name: "lapse", before: later, method: "POST", path: "/v1/registrants/{pract}/registration/lapse", as: "registrar", body: map[string]any{"reason": "left the profession"}, status: 200, check: status("lapsed")},
		{name: "renew lapsed", method: "POST", path: "/v1/registrants/{pract}/registration/renew", as: "registrar", body: map[string]any{"registered_until": "2028-03-01"}, status: 409},
		{name: "restore", before: later, method: "POST", path: "/v1/registrants/{pract}/registration/restore", as: "registrar", body: map[string]any{"registered_until": "2027-06-01", "reason": "returned"}, status: 200, check: status("registered")},
		{name: "unknown transition", method: "POST", path: "/v1/registrants/{pract}/registration/suspend", as: "registrar", body: map[string]any{"reason": "x"}, status: 404, request: specRejects},
		{name: "transition unknown field", method: "POST", path: "/v1/registrants/{pract}/registration/renew", as: "registrar", body: map[string]any{"until": "2028-03-01"}, status: 400, request: specRejects},
		{name: "history", method: "GET", path: "/v1/registrants/{pract}/history", as: "registrar", status: 200, check: items(4)},
		{name: "history of applicant", method: "GET", path: "/v1/registrants/{new}/history", as: "registrar", status: 200, check: items(0)},
		{name: "history bad check digit", method: "GET", path: "/v1/registrants/{badcheck}/history", as: "registrar", status: 400},
		{name: "history unknown", method: "GET", path: "/v1/registrants/{unknown}/history", as: "registrar", status: 404},

		// users
		{name: "create user", method: "POST", path: "/v1/users", as: "admin", body: map[string]any{"email": "hr@region.example.org", "role": "employer", "password": Password}, status: 201, save: map[string]string{"user": "id"}},
		{name: "create user twice", method: "POST", path: "/v1/users", as: "admin", body: map[string]any{"email": "hr@region.example.org", "role": "employer", "password": Password}, status: 409},
		{name: "create user short password", method: "POST", path: "/v1/users", as: "admin", body: map[string]any{"email": "a@example.org", "role": "employer", "password": "short"}, status: 400, request: specRejects},
		{name: "create user password is email", method: "POST", path: "/v1/users", as: "admin", body: map[string]any{"email": "a.long.name@example.org", "role": "employer", "password": "a.long.name@example.org"}, status: 400},
		{name: "create user bad role", method: "POST", path: "/v1/users", as: "admin", body: map[string]any{"email": "a@example.org", "role": "chief", "password": Password}, status: 400, request: specRejects},
		{name: "list users", method: "GET", path: "/v1/users", as: "admin", status: 200, check: items(7)},
		{name: "list users by role", method: "GET", path: "/v1/users?role=employer&limit=1", as: "admin", status: 200, check: func(t *testing.T, m map[string]any) {
			if len(m["items"].([]any)) != 1 || m["next"] == nil {
				t.Errorf("want one employer and a next cursor: %v", m)
			}
		}},
		{name: "list users bad role", method: "GET", path: "/v1/users?role=chief", as: "admin", status: 400, request: specRejects},
		{name: "change role", method: "PATCH", path: "/v1/users/{user}", as: "admin", body: map[string]any{"role": "agency"}, status: 200},
		{name: "disable user", method: "PATCH", path: "/v1/users/{user}", as: "admin", body: map[string]any{"disabled": true}, status: 200},
		{name: "update user with nothing", method: "PATCH", path: "/v1/users/{user}", as: "admin", body: map[string]any{}, status: 400, request: specRejects},
		{name: "demote the last admin", method: "PATCH", path: "/v1/users/1", as: "admin", body: map[string]any{"role": "registrar"}, status: 409},
		{name: "update unknown user", method: "PATCH", path: "/v1/users/999999", as: "admin", body: map[string]any{"disabled": true}, status: 404},
		{name: "update user bad id", method: "PATCH", path: "/v1/users/abc", as: "admin", body: map[string]any{"disabled": true}, status: 404, request: specRejects},

		// a year on: expiry is read from the dates
		{name: "public record after expiry", before: func(e *env, fx map[string]string) {
			e.Set(time.Date(2027, 3, 2, 12, 0, 0, 0, time.UTC))
			fx["registrar"], _ = e.User("registrar.2027@example.org", register.RoleRegistrar) // the old token expired
		}, method: "GET", path: "/v1/public/registrants/{applicant}", status: 200, check: status("lapsed")},
		{name: "history after expiry", method: "GET", path: "/v1/registrants/{applicant}/history", as: "registrar", status: 200, check: func(t *testing.T, m map[string]any) {
			ps := m["items"].([]any)
			if len(ps) != 2 || ps[1].(map[string]any)["derived"] != true {
				t.Errorf("want a registered period and a derived lapse: %v", ps)
			}
		}},
		{name: "renew after expiry", method: "POST", path: "/v1/registrants/{applicant}/registration/renew", as: "registrar", body: map[string]any{"registered_until": "2028-03-01"}, status: 409},
		{name: "restore after expiry", method: "POST", path: "/v1/registrants/{applicant}/registration/restore", as: "registrar", body: map[string]any{"registered_until": "2028-03-01"}, status: 200},
		{name: "public record as at while registered", method: "GET", path: "/v1/public/registrants/{applicant}?at=2026-06-01T00:00:00Z", status: 200, check: status("registered")},

		// last: the store goes away
		{name: "readyz when the store is closed", before: func(e *env, _ map[string]string) { e.DB.Reader().Close() }, method: "GET", path: "/readyz", status: 503, check: status("not ready")},
	}
}

// TestOpenAPI drives every documented operation through the real server,
// validates every request and answer against docs/openapi.yaml, and fails
// if the description promises a status the server was never seen to give.
func TestOpenAPI(t *testing.T) {
	s := loadSpec(t)
	e := newEnv(t)
	fx := map[string]string{"bogus": "not-a-token"}
	for _, r := range register.Roles {
		fx[string(r)], _ = e.User(string(r)+"@example.org", r)
	}
	fx["pract"] = e.Practitioner(fx["registrar"], "Okafor", "Adaeze", 5, "2027-03-01")
	fx["applicant"] = e.Registrant(fx["registrar"], "Nowak", "Zofia")
	for i := 0; ; i++ {
		if n := register.NumberFromSerial(i); n != fx["pract"] && n != fx["applicant"] {
			fx["unknown"] = n
			break
		}
	}
	last := fx["unknown"][8] - '0'
	fx["badcheck"] = fx["unknown"][:8] + strconv.Itoa(int(last+1)%10)

	got := seen{}
	cases := specCases()
	// The CPD rows (http/cpd_test.go) run before the last row, which closes the store.
	cases = slices.Insert(cases, len(cases)-1, cpdSpecCases()...)
	cases = slices.Insert(cases, len(cases)-1, caseSpecCases()...) // http/case_test.go
	orgSpecFixture(e, fx)
	cases = slices.Insert(cases, len(cases)-1, orgSpecCases()...) // http/organisation_test.go
	for _, c := range append(s.probes(t, fx), cases...) {
		t.Run(c.name, func(t *testing.T) { s.run(t, e, fx, got, c) })
	}

	for _, o := range s.operations() {
		for code := range o.Op.Responses.Map() {
			status, err := strconv.Atoi(code)
			if err != nil {
				t.Errorf("%s: response %q: give explicit statuses, not ranges or default", o, code)
				continue
			}
			if !got[o.String()][status] {
				t.Errorf("%s: docs/openapi.yaml promises %d but no case produced it: add a row to specCases", o, status)
			}
		}
	}
}

// TestOpenAPIDescribesEveryRoute checks that the gin route table and the
// description list the same operations, and that the description is kept
// in order: an operation id, a declared tag, and roles for every secured one.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	s := loadSpec(t)
	e := newEnv(t)
	engine, ok := e.Server.Handler().(*gin.Engine)
	if !ok {
		t.Fatalf("Handler is %T, not *gin.Engine", e.Server.Handler())
	}
	param := regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)
	served := map[string]bool{}
	for _, r := range engine.Routes() {
		// The HTML pages (web.go) are described in docs/web.md, not here.
		if !strings.HasPrefix(r.Path, "/v1/") && r.Path != "/healthz" && r.Path != "/readyz" && r.Path != "/openapi.yaml" {
			continue
		}
		served[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	described := map[string]bool{}
	ids := map[string]bool{}
	tags := map[string]bool{}
	for _, tag := range s.doc.Tags {
		tags[tag.Name] = true
	}
	for _, o := range s.operations() {
		described[o.String()] = true
		if o.Op.OperationID == "" || ids[o.Op.OperationID] {
			t.Errorf("%s: operationId %q is missing or not unique", o, o.Op.OperationID)
		}
		ids[o.Op.OperationID] = true
		if len(o.Op.Tags) != 1 || !tags[o.Op.Tags[0]] {
			t.Errorf("%s: give one tag from the tags list, not %v", o, o.Op.Tags)
		}
		rs := roles(o.Op)
		if s.secured(o.Op) != (len(rs) > 0) {
			t.Errorf("%s: a secured operation needs x-roles, a public one none (x-roles %v)", o, rs)
		}
		for _, r := range rs {
			if !r.Valid() {
				t.Errorf("%s: x-roles names unknown role %q", o, r)
			}
		}
	}
	for _, k := range sortedKeys(served) {
		if !described[k] {
			t.Errorf("gin serves %s but docs/openapi.yaml does not describe it", k)
		}
	}
	for _, k := range sortedKeys(described) {
		if !served[k] {
			t.Errorf("docs/openapi.yaml describes %s but gin does not serve it", k)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
