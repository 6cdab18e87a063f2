package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/docs"
	registerhttp "github.com/probation-register/register/http"
	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// env is a real register: SQLite in a temp dir, the real handler behind
// httptest, real signing keys, and a clock the test can move.
type env struct {
	t      testing.TB
	DB     *sqlite.DB
	Server *registerhttp.Server
	HTTP   *httptest.Server
	Keys   *auth.Keyring
	Log    *bytes.Buffer

	mu  sync.Mutex
	now time.Time
}

// Password is every test user's password.
const Password = "correct horse battery staple"

// newEnv starts a register on a new database; options set the store up
// before it opens.
func newEnv(t testing.TB, options ...func(*sqlite.DB)) *env {
	t.Helper()
	e := &env{t: t, now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Log: &bytes.Buffer{}}
	dir := t.TempDir()
	e.DB = sqlite.NewDB(filepath.Join(dir, "register.db"))
	e.DB.Now = e.Now
	for _, o := range options {
		o(e.DB)
	}
	if err := e.DB.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.DB.Close() })
	logs := &syncWriter{w: e.Log}
	if err := e.DB.StartAnswerCache(slog.New(slog.NewJSONHandler(logs, nil))); err != nil { // as the server runs
		t.Fatal(err)
	}
	e.DB.StartVerificationIndex(slog.New(slog.NewJSONHandler(logs, nil)))
	for st, _ := e.DB.AnswerCacheStats(); st.Builds == 0; st, _ = e.DB.AnswerCacheStats() {
		time.Sleep(time.Millisecond) // built (and logged) before any test reads the log
	}
	keys, _, err := auth.LoadKeyring(filepath.Join(dir, "keys"), true)
	if err != nil {
		t.Fatal(err)
	}
	e.Keys = keys
	users := sqlite.NewUserService(e.DB)
	renewals := sqlite.NewRenewalService(e.DB, register.DefaultRequirement)
	orgs := sqlite.NewOrganisationService(e.DB)
	e.Server = &registerhttp.Server{
		Logger:          slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:             e.Now,
		Registrants:     sqlite.NewRegistrantService(e.DB),
		Registrations:   sqlite.NewRegistrationService(e.DB),
		Public:          sqlite.NewPublicService(e.DB),
		Users:           users,
		Sessions:        users,
		Accounts:        sqlite.NewAccountService(e.DB),
		CPD:             sqlite.NewCPDService(e.DB, register.DefaultRequirement),
		Renewals:        renewals,
		CPDAudits:       renewals,
		Cases:           sqlite.NewCaseService(e.DB),
		Referrals:       sqlite.NewCaseService(e.DB),
		ShareCodes:      sqlite.NewShareCodeService(e.DB, register.DefaultRequirement),
		Organisations:   orgs,
		Engagements:     orgs,
		Checks:          orgs,
		Watches:         orgs,
		Events:          sqlite.NewEventService(e.DB),
		Webhooks:        sqlite.NewEventService(e.DB),
		WebhookInsecure: true,
		Receipts:        auth.NewReceipts(keys, "national-probation-register"),
		Passwords:       auth.NewPasswords(auth.TestParams),
		Tokens:          auth.NewTokens(keys, "national-probation-register", 15*time.Minute, e.Now),
		RefreshTTL:      24 * time.Hour,
		Ready:           e.DB.Ready,
		OpenAPI:         docs.OpenAPI,
	}
	e.HTTP = httptest.NewServer(e.Server.Handler())
	t.Cleanup(e.HTTP.Close)
	return e
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Now is the test clock.
func (e *env) Now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

// Set moves the clock.
func (e *env) Set(t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = t
}

// Advance moves the clock on.
func (e *env) Advance(d time.Duration) { e.Set(e.Now().Add(d)) }

// User creates a user with Password and returns a fresh access token.
func (e *env) User(email string, role register.Role) (string, *register.User) {
	e.t.Helper()
	hash, err := e.Server.Passwords.Hash(context.Background(), Password)
	if err != nil {
		e.t.Fatal(err)
	}
	u := &register.User{Email: email, Role: role}
	if err := sqlite.NewUserService(e.DB).CreateUser(register.NewContextWithActor(context.Background(), register.CLIActor), u, hash); err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.Server.Tokens.Issue(u)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok, u
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// ErrorCode is the error body's code, failing the test if there is none.
func (r *Response) ErrorCode(t *testing.T) string {
	t.Helper()
	m := r.JSON(t)
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error body: %s", r.Body)
	}
	return e["code"].(string)
}

// Field is the reason given for a failing field.
func (r *Response) Field(t *testing.T, name string) string {
	t.Helper()
	e, _ := r.JSON(t)["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	s, _ := f[name].(string)
	return s
}

// Do sends a request; body may be nil, a string (sent as is) or a value (JSON).
func (e *env) Do(method, path, token string, body any) *Response {
	e.t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return e.DoWith(method, path, h, body)
}

// DoWith sends a request with the given headers; body as for Do.
func (e *env) DoWith(method, path string, header http.Header, body any) *Response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.HTTP.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := e.HTTP.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Must sends a request and fails the test unless the status is want.
func (e *env) Must(want int, method, path, token string, body any) map[string]any {
	e.t.Helper()
	r := e.Do(method, path, token, body)
	if r.Status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.JSON(e.t)
}

// Registrant creates an applicant and returns its register number.
func (e *env) Registrant(token, family, given string) string {
	e.t.Helper()
	m := e.Must(201, "POST", "/v1/registrants", token, map[string]any{
		"family_name": family, "given_names": given, "date_of_birth": "1985-06-15",
		"email": strings.ReplaceAll(strings.ToLower(given+"."+family), " ", "-") + "@example.org",
	})
	return m["register_number"].(string)
}

// Practitioner creates, qualifies (verified level) and admits a registrant.
func (e *env) Practitioner(token, family, given string, level int, until string) string {
	e.t.Helper()
	n := e.Registrant(token, family, given)
	q := e.Must(201, "POST", "/v1/registrants/"+n+"/qualifications", token, map[string]any{
		"level": level, "title": "Level " + string(rune('0'+level)) + " Diploma in Probation Practice",
		"awarding_body": "Awarding Body", "awarded_on": "2024-07-01", "certificate_ref": "CERT-1", "state": "claimed",
	})
	e.Must(200, "POST", "/v1/registrants/"+n+"/qualifications/"+jsonID(q["id"])+"/verify", token, nil)
	e.Must(200, "POST", "/v1/registrants/"+n+"/registration/admit", token, map[string]any{"registered_until": until})
	return n
}

func jsonID(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// WantError fails t unless r is a JSON error answer with status and code,
// and returns the error detail (code, message, fields).
func (r *Response) WantError(t *testing.T, status int, code string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON: %s", ct, r.Body)
	}
	d, ok := r.JSON(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error body: %s", r.Body)
	}
	if d["code"] != code {
		t.Fatalf("error code %v, want %s: %s", d["code"], code, r.Body)
	}
	if m, _ := d["message"].(string); m == "" {
		t.Fatalf("error without a message: %s", r.Body)
	}
	return d
}

var tokenSeq struct {
	sync.Mutex
	n int
}

// Token creates a fresh user with role and returns its access token.
func (e *env) Token(role register.Role) string {
	e.t.Helper()
	tokenSeq.Lock()
	tokenSeq.n++
	n := tokenSeq.n
	tokenSeq.Unlock()
	tok, _ := e.User(string(role)+"-"+jsonID(n)+"@example.org", role)
	return tok
}

// auditRow is one audit_log entry as the tests read it.
type auditRow struct {
	ID                              int64
	Actor, Action, Entity, EntityID string
}

// LastAuditID is the id of the newest audit entry, 0 when there is none.
func (e *env) LastAuditID() int64 {
	e.t.Helper()
	var id int64
	if err := e.DB.Reader().QueryRow(`SELECT COALESCE(MAX(id), 0) FROM audit_log`).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// AuditSince returns the audit entries after id, oldest first.
func (e *env) AuditSince(id int64) []auditRow {
	e.t.Helper()
	rows, err := e.DB.Reader().Query(`SELECT id, actor, action, entity, entity_id FROM audit_log WHERE id > ? ORDER BY id`, id)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var a auditRow
		if err := rows.Scan(&a.ID, &a.Actor, &a.Action, &a.Entity, &a.EntityID); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// Logs stops the server, so that every request has written its log line,
// and returns the log.
func (e *env) Logs() string {
	e.HTTP.Close()
	return e.Log.String()
}

// DoHeader sends a JSON request with the Authorization header exactly as
// given, or none when it is "".
func (e *env) DoHeader(method, path, authorization string, body any) *Response {
	e.t.Helper()
	h := http.Header{}
	if authorization != "" {
		h.Set("Authorization", authorization)
	}
	if body == nil {
		body = "null"
	}
	return e.DoWith(method, path, h, body)
}

// Rebuild serves a fresh Server with the same services, changed by set (for
// settings read when the routes are built: limits, trusted proxies).
func (e *env) Rebuild(set func(*registerhttp.Server)) {
	e.t.Helper()
	s := &registerhttp.Server{}
	src, dst := reflect.ValueOf(e.Server).Elem(), reflect.ValueOf(s).Elem()
	for i := range src.NumField() {
		if src.Type().Field(i).IsExported() {
			dst.Field(i).Set(src.Field(i))
		}
	}
	set(s)
	e.Server = s
	e.HTTP.Close()
	e.HTTP = httptest.NewServer(s.Handler())
	e.t.Cleanup(e.HTTP.Close)
}

// Org creates an organisation of kind (employer or agency) through the API
// and returns its id and a fresh API key for it.
func (e *env) Org(admin, name, kind string) (id, key string) {
	e.t.Helper()
	o := e.Must(201, "POST", "/v1/organisations", admin, map[string]any{"name": name, "kind": kind})
	id = jsonID(o["id"])
	k := e.Must(201, "POST", "/v1/organisations/"+id+"/api-keys", admin, map[string]any{"name": "test"})
	return id, k["key"].(string)
}

// OrgUser creates a user of role bound to organisation orgID and returns its access token.
func (e *env) OrgUser(email string, role register.Role, orgID int64) string {
	e.t.Helper()
	hash, err := e.Server.Passwords.Hash(context.Background(), Password)
	if err != nil {
		e.t.Fatal(err)
	}
	u := &register.User{Email: email, Role: role, OrganisationID: orgID}
	if err := sqlite.NewUserService(e.DB).CreateUser(register.NewContextWithActor(context.Background(), register.CLIActor), u, hash); err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.Server.Tokens.Issue(u)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}
