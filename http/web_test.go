package http_test

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/auth"
	registerhttp "github.com/probation-register/register/http"
	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// Private markers: seeded into the private fields of one practitioner and
// searched for in every public page.
const (
	markerDOB        = "1971-11-23"
	markerEmail      = "zqprivate.email@example.org"
	markerReflection = "ZQ-PRIVATE-REFLECTION"
	markerEvidence   = "ZQ-PRIVATE-EVIDENCE"
)

// browser is a cookie-keeping client that does not follow redirects, so
// tests see each 303 and where it leads.
type browser struct {
	e      *env
	client *http.Client
}

func (e *env) Browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{e: e, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Page is an HTML answer.
type Page struct {
	Status int
	Header http.Header
	Body   string
}

// Get fetches a page.
func (b *browser) Get(path string) *Page { return b.send("GET", path, nil) }

// Post sends a form.
func (b *browser) Post(path string, form url.Values) *Page { return b.send("POST", path, form) }

func (b *browser) send(method, path string, form url.Values) *Page {
	b.e.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.HTTP.URL+path, rd)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return &Page{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// Want fails the test unless the page has the status and every text.
func (p *Page) Want(t *testing.T, status int, texts ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d: %s", p.Status, status, p.Body)
	}
	for _, s := range texts {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("page lacks %q: %s", s, p.Body)
		}
	}
}

// Redirect fails the test unless the page is a 303 to location.
func (p *Page) Redirect(t *testing.T, location string) {
	t.Helper()
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != location {
		t.Fatalf("status %d to %q, want 303 to %q", p.Status, p.Header.Get("Location"), location)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// CSRF is the form token in the page.
func (p *Page) CSRF(t *testing.T) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no CSRF field: %s", p.Body)
	}
	return m[1]
}

// SignIn signs the browser in with Password.
func (b *browser) SignIn(t *testing.T, email string) {
	t.Helper()
	tok := b.Get("/sign-in").CSRF(t)
	b.Post("/sign-in", url.Values{"email": {email}, "password": {Password}, "csrf": {tok}}).Redirect(t, "/me")
}

// privatePractitioner admits a practitioner whose private fields carry the
// markers, with an account and one CPD entry; it returns the number and the
// API token.
func privatePractitioner(e *env, registrar string) (string, string) {
	e.t.Helper()
	n := e.Must(201, "POST", "/v1/registrants", registrar, map[string]any{
		"family_name": "Okonkwo", "given_names": "Adaeze", "date_of_birth": markerDOB, "email": markerEmail,
	})["register_number"].(string)
	q := e.Must(201, "POST", "/v1/registrants/"+n+"/qualifications", registrar, map[string]any{
		"level": 5, "title": "Level 5 Diploma in Probation Practice", "awarding_body": "Awarding Body",
		"awarded_on": "2024-07-01", "certificate_ref": "CERT-1", "state": "claimed",
	})
	e.Must(200, "POST", "/v1/registrants/"+n+"/qualifications/"+jsonID(q["id"])+"/verify", registrar, nil)
	e.Must(200, "POST", "/v1/registrants/"+n+"/registration/admit", registrar, map[string]any{"registered_until": "2027-03-01"})
	tok := activateAccount(e, registrar, n)
	e.Must(201, "POST", "/v1/me/cpd", tok, map[string]any{"date": "2026-03-02", "title": "Risk assessment workshop",
		"category": "participatory", "hours": 3, "reflection": markerReflection, "evidence_ref": markerEvidence})
	return n, tok
}

// wantWebBasics checks what every page must have.
func wantWebBasics(t *testing.T, p *Page) {
	t.Helper()
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
		t.Fatalf("Content-Security-Policy %q", csp)
	}
	if ct := p.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	for _, s := range []string{`<html lang="en-GB">`, "<title>", `<link rel="stylesheet" href="/static/site.css">`} {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("page lacks %q", s)
		}
	}
	for _, bad := range []string{"<script", "style=", "onclick", "onsubmit", "javascript:"} {
		if strings.Contains(p.Body, bad) {
			t.Fatalf("page has %q", bad)
		}
	}
	// Every visible input is labelled.
	for _, m := range regexp.MustCompile(`<(?:input|textarea)[^>]* id="([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
		if !strings.Contains(p.Body, `<label for="`+m[1]+`"`) {
			t.Fatalf("input %s has no label", m[1])
		}
	}
}

func TestWebSearch(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n := e.Practitioner(reg, "Fairweather", "Imogen", 5, "2027-03-01")
	e.Registrant(reg, "Fairbanks", "Never Admitted")
	b := e.Browser()

	t.Run("Form", func(t *testing.T) {
		p := b.Get("/")
		p.Want(t, 200, "<title>Check the probation register</title>", `<label for="q">Register number or name</label>`)
		wantWebBasics(t, p)
	})
	t.Run("NumberGoesToRecord", func(t *testing.T) {
		b.Get("/?q="+url.QueryEscape(" "+n+" ")).Redirect(t, "/r/"+n)
	})
	t.Run("NameListsMatches", func(t *testing.T) {
		p := b.Get("/?q=fair")
		p.Want(t, 200, "1 match for", "Fairweather, Imogen", n, "Registered", "PSO, PO")
		wantWebBasics(t, p)
		if strings.Contains(p.Body, "Never Admitted") {
			t.Fatal("an applicant never admitted is listed")
		}
	})
	t.Run("NoMatch", func(t *testing.T) {
		b.Get("/?q=zzzz").Want(t, 200, "0 matches", "No one on the register matches")
	})
	t.Run("TooShortShownAtField", func(t *testing.T) {
		p := b.Get("/?q=f")
		p.Want(t, 400, "<title>Error: Check the probation register</title>", `id="q-error"`, "at least 2 characters", `aria-describedby="q-hint q-error"`)
		wantWebBasics(t, p)
	})
	t.Run("TooLong", func(t *testing.T) {
		b.Get("/?q="+strings.Repeat("a", 101)).Want(t, 400, "at most 100 characters")
	})
	t.Run("AtMost20", func(t *testing.T) {
		for i := range 21 {
			e.Practitioner(reg, "Manyname", "Person"+string(rune('A'+i)), 3, "2027-03-01")
		}
		p := b.Get("/?q=manyname")
		p.Want(t, 200, "20 matches", "Only the first 20 matches")
		if got := strings.Count(p.Body, "Manyname, Person"); got != 20 {
			t.Fatalf("%d rows, want 20", got)
		}
	})
}

func TestWebRecord(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n := e.Practitioner(reg, "Fairweather", "Imogen", 5, "2027-03-01")
	pso := e.Practitioner(reg, "Lowe", "Sam", 3, "2026-04-01")
	b := e.Browser()

	t.Run("Registered", func(t *testing.T) {
		p := b.Get("/r/" + n)
		p.Want(t, 200, "<title>Imogen Fairweather ("+n+") - Check the probation register</title>",
			"Registered: may practise as a Probation Officer or Probation Services Officer.",
			"Probation Officer (PO)", "1 March 2027", "Checked at", "2 March 2026 at 10:00 UTC",
			"Level 5 Diploma in Probation Practice", `<label for="at">Date</label>`, "/r/"+n+"/certificate", "panel-ok")
		wantWebBasics(t, p)
	})
	t.Run("AsAtBeforeAdmission", func(t *testing.T) {
		p := b.Get("/r/" + n + "?at=2026-03-01")
		p.Want(t, 200, "as it stood at 1 March 2026 at 23:59 UTC", "Not on the register at this time: may not practise.",
			"may not practise as a probation practitioner at that date", `value="2026-03-01"`, "panel-stop")
	})
	t.Run("AsAtToday", func(t *testing.T) {
		b.Get("/r/"+n+"?at=2026-03-02").Want(t, 200, "Registered: may practise", "as it stood at 2 March 2026 at 10:00 UTC")
	})
	t.Run("BadDateShownAtField", func(t *testing.T) {
		p := b.Get("/r/" + n + "?at=01/03/2026")
		p.Want(t, 400, `id="at-error"`, "Enter the date in the form YYYY-MM-DD", `value="01/03/2026"`, "Imogen Fairweather")
		wantWebBasics(t, p)
	})
	t.Run("FutureDate", func(t *testing.T) {
		b.Get("/r/"+n+"?at=2026-03-03").Want(t, 400, "The date must be today or in the past")
	})
	t.Run("Malformed", func(t *testing.T) {
		p := b.Get("/r/not-a-number")
		p.Want(t, 400, "There is a problem", "is not a register number")
		wantWebBasics(t, p)
	})
	t.Run("Unknown", func(t *testing.T) {
		p := b.Get("/r/" + otherNumber(n))
		p.Want(t, 404, "Page not found", "No one with register number", "search by name")
		wantWebBasics(t, p)
	})
	t.Run("LapsedMayNotPractise", func(t *testing.T) {
		e.Set(time.Date(2026, 4, 3, 9, 0, 0, 0, time.UTC))
		defer e.Set(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
		p := b.Get("/r/" + pso)
		p.Want(t, 200, "Registration lapsed: may not practise.", "This person may not practise", "panel-stop")
		b.Get("/r/"+pso+"?at=2026-03-15").Want(t, 200, "Registered: may practise as a Probation Services Officer.")
	})
	t.Run("Certificate", func(t *testing.T) {
		p := b.Get("/r/" + n + "/certificate")
		p.Want(t, 200, "Certificate of registration: Imogen Fairweather", `src="/r/`+n+`/qr.png"`,
			"Scan to see the live record: "+e.HTTP.URL+"/r/"+n, "Registered: may practise")
		wantWebBasics(t, p)
		b.Get("/r/"+otherNumber(n)+"/certificate").Want(t, 404, "No one with register number")
	})
	t.Run("CertificateUsesPublicURL", func(t *testing.T) {
		e.Rebuild(func(s *registerhttp.Server) { s.PublicURL = "https://register.example/" })
		e.Browser().Get("/r/"+n+"/certificate").Want(t, 200, "Scan to see the live record: https://register.example/r/"+n+"<")
	})
	t.Run("QRCode", func(t *testing.T) {
		p := b.Get("/r/" + n + "/qr.png")
		if p.Status != 200 || p.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("status %d, type %q", p.Status, p.Header.Get("Content-Type"))
		}
		img, err := png.Decode(bytes.NewReader([]byte(p.Body)))
		if err != nil {
			t.Fatal(err)
		}
		if w := img.Bounds().Dx(); w != 256 {
			t.Fatalf("QR code %d px wide, want 256", w)
		}
		b.Get("/r/bad/qr.png").Want(t, 400)
	})
	t.Run("StyleSheetHasPrintStyles", func(t *testing.T) {
		p := b.Get("/static/site.css")
		p.Want(t, 200, "@media print", ":focus", "@media (max-width: 640px)")
		if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/css") {
			t.Fatalf("Content-Type %q", p.Header.Get("Content-Type"))
		}
	})
}

func TestWebNoPrivateFieldOnPublicPages(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n, _ := privatePractitioner(e, reg)
	b := e.Browser()
	private := []string{markerDOB, "23 November 1971", "1971", markerEmail, "zqprivate", markerReflection, markerEvidence}
	for _, path := range []string{"/", "/?q=okonkwo", "/?q=" + n, "/r/" + n, "/r/" + n + "?at=2026-03-01", "/r/" + n + "?at=1980-01-01",
		"/r/" + n + "?at=bad", "/r/" + n + "/certificate", "/sign-in", "/r/" + otherNumber(n)} {
		t.Run(path, func(t *testing.T) {
			p := b.Get(path)
			if p.Status >= 500 {
				t.Fatalf("status %d", p.Status)
			}
			for _, m := range private {
				if strings.Contains(p.Body, m) {
					t.Fatalf("public page %s shows private %q", path, m)
				}
			}
		})
	}
	t.Run("CertificateReceiptHoldsNoPrivateField", func(t *testing.T) {
		// The receipt is base64url: a scan of the page text cannot see into it.
		payload := verifyOffline(t, e, pageReceipt(t, b.Get("/r/"+n+"/certificate")))
		j, err := json.Marshal(payload)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range private {
			if strings.Contains(string(j), m) {
				t.Fatalf("the certificate's receipt holds private %q", m)
			}
		}
		if !strings.Contains(string(j), "Okonkwo") {
			t.Fatalf("receipt payload lacks the record: %s", j)
		}
	})
	t.Run("SearchShowsTheRecord", func(t *testing.T) {
		b.Get("/?q=okonkwo").Want(t, 200, "Okonkwo, Adaeze") // so the scan above looked at a real hit
	})
	t.Run("LogsHoldNoPrivateField", func(t *testing.T) {
		logs := e.Logs()
		for _, m := range []string{markerEmail, markerReflection, markerDOB} {
			if strings.Contains(logs, m) {
				t.Fatalf("logs show %q", m)
			}
		}
	})
}

func TestWebSignIn(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n, _ := privatePractitioner(e, reg)

	t.Run("MePagesNeedSession", func(t *testing.T) {
		b := e.Browser()
		b.Get("/me").Redirect(t, "/sign-in")
		b.Get("/me/cpd/new").Redirect(t, "/sign-in")
	})
	t.Run("FormHasCSRF", func(t *testing.T) {
		p := e.Browser().Get("/sign-in")
		p.Want(t, 200, "<title>Sign in</title>", `<label for="email">`, `<label for="password">`)
		wantWebBasics(t, p)
		p.CSRF(t)
	})
	t.Run("NoCSRFRefused", func(t *testing.T) {
		b := e.Browser()
		b.Get("/sign-in")
		b.Post("/sign-in", url.Values{"email": {markerEmail}, "password": {Password}}).Want(t, 403, "The form has expired")
		b.Post("/sign-in", url.Values{"email": {markerEmail}, "password": {Password}, "csrf": {"forged"}}).Want(t, 403)
	})
	t.Run("MissingFieldsShownAtFields", func(t *testing.T) {
		b := e.Browser()
		tok := b.Get("/sign-in").CSRF(t)
		b.Post("/sign-in", url.Values{"csrf": {tok}}).Want(t, 400, `id="email-error"`, "Email is required", `id="password-error"`)
	})
	t.Run("WrongPassword", func(t *testing.T) {
		b := e.Browser()
		tok := b.Get("/sign-in").CSRF(t)
		p := b.Post("/sign-in", url.Values{"email": {markerEmail}, "password": {"wrong"}, "csrf": {tok}})
		p.Want(t, 401, "The email or password is wrong.", `value="`+markerEmail+`"`)
		if strings.Contains(p.Body, "wrong\"") {
			t.Fatal("the password is echoed back")
		}
	})
	t.Run("SessionCookie", func(t *testing.T) {
		b := e.Browser()
		tok := b.Get("/sign-in").CSRF(t)
		p := b.Post("/sign-in", url.Values{"email": {markerEmail}, "password": {Password}, "csrf": {tok}})
		p.Redirect(t, "/me")
		var c *http.Cookie
		for _, k := range (&http.Response{Header: p.Header}).Cookies() {
			if k.Name == "register_session" {
				c = k
			}
		}
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure || len(c.Value) < 32 {
			t.Fatalf("session cookie %+v", c)
		}
		b.Get("/me").Want(t, 200, "Your registration", n, "Adaeze Okonkwo")
	})
	t.Run("OtherRolesRefused", func(t *testing.T) {
		b := e.Browser()
		b.SignIn(t, "registrar@example.org")
		if p := b.Get("/me"); p.Status != 403 {
			t.Fatalf("registrar on /me: status %d", p.Status)
		}
	})
	t.Run("SignOut", func(t *testing.T) {
		b := e.Browser()
		b.SignIn(t, markerEmail)
		p := b.Get("/me")
		b.Post("/sign-out", url.Values{}).Want(t, 403) // no CSRF token
		b.Post("/sign-out", url.Values{"csrf": {p.CSRF(t)}}).Redirect(t, "/")
		b.Get("/me").Redirect(t, "/sign-in")
	})
	t.Run("DisabledUserSignedOut", func(t *testing.T) {
		b := e.Browser()
		b.SignIn(t, markerEmail)
		u, _, err := e.Server.Users.FindUserByEmail(t.Context(), markerEmail)
		if err != nil {
			t.Fatal(err)
		}
		admin := e.Token(register.RoleAdmin)
		e.Must(200, "PATCH", "/v1/users/"+jsonID(u.ID), admin, map[string]any{"disabled": true})
		defer e.Must(200, "PATCH", "/v1/users/"+jsonID(u.ID), admin, map[string]any{"disabled": false})
		b.Get("/me").Redirect(t, "/sign-in")
	})
	t.Run("SessionExpires", func(t *testing.T) {
		b := e.Browser()
		b.SignIn(t, markerEmail)
		e.Advance(9 * time.Hour)
		defer e.Advance(-9 * time.Hour)
		b.Get("/me").Redirect(t, "/sign-in")
	})
}

func TestWebCPD(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	_, tok := privatePractitioner(e, reg)
	b := e.Browser()
	b.SignIn(t, markerEmail)
	csrf := b.Get("/me").CSRF(t)
	form := func(hours, title string) url.Values {
		return url.Values{"csrf": {csrf}, "date": {"2026-03-02"}, "title": {title}, "category": {"self_directed"}, "hours": {hours}, "reflection": {"read the new guidance"}}
	}

	t.Run("MePage", func(t *testing.T) {
		p := b.Get("/me")
		p.Want(t, 200, "Your registration", "Registered: may practise", `<progress id="cpd-progress" max="120" value="12">`,
			"3 of 30 hours logged", "27 hours remaining, of which 7 participatory", "Risk assessment workshop", "Start renewal")
		wantWebBasics(t, p)
	})
	t.Run("NoCSRFRefused", func(t *testing.T) {
		f := form("2", "Reading")
		f.Del("csrf")
		b.Post("/me/cpd", f).Want(t, 403)
		b.Get("/me").Want(t, 200, "3 of 30 hours logged")
	})
	t.Run("BadValuesShownAtFieldsWithAPIMessages", func(t *testing.T) {
		for _, c := range []struct{ hours, title, field string }{
			{"30", "Reading", "hours"}, {"0", "Reading", "hours"}, {"1.3", "Reading", "hours"}, {"2", "ab", "title"},
		} {
			api := e.Do("POST", "/v1/me/cpd", tok, map[string]any{"date": "2026-03-02", "title": c.title, "category": "self_directed", "hours": mustFloat(t, c.hours)})
			want := api.Field(t, c.field)
			if want == "" {
				t.Fatalf("API gave no %s error: %s", c.field, api.Body)
			}
			p := b.Post("/me/cpd", form(c.hours, c.title))
			p.Want(t, 400, `id="`+c.field+`-error"`, want, `value="`+c.hours+`"`, "read the new guidance")
			wantWebBasics(t, p)
		}
		b.Post("/me/cpd", form("lots", "Reading")).Want(t, 400, "Hours must be a number")
		f := form("2", "Reading")
		f.Set("date", "2026-03-03")
		b.Post("/me/cpd", f).Want(t, 400, "Date must not be in the future")
		b.Get("/me").Want(t, 200, "3 of 30 hours logged") // nothing was written
	})
	t.Run("FixedEntrySavedAndBarMoves", func(t *testing.T) {
		b.Post("/me/cpd", form("2.5", "Reading the new guidance")).Redirect(t, "/me?saved=1#cpd")
		b.Get("/me?saved=1").Want(t, 200, "Your CPD entry has been saved.", `value="22"`, "5.5 of 30 hours logged", "Reading the new guidance")
	})
	var id string
	t.Run("EditEntry", func(t *testing.T) {
		m := e.Must(200, "GET", "/v1/me/cpd", tok, nil)
		for _, it := range m["items"].([]any) {
			if it.(map[string]any)["title"] == "Reading the new guidance" {
				id = jsonID(it.(map[string]any)["id"])
			}
		}
		p := b.Get("/me/cpd/" + id + "/edit")
		p.Want(t, 200, "Change CPD entry", `value="Reading the new guidance"`, `value="2.5"`, "read the new guidance")
		wantWebBasics(t, p)
		b.Post("/me/cpd/"+id, form("40", "Reading")).Want(t, 400, "must be at most 24")
		b.Post("/me/cpd/"+id, form("4", "Reading the guidance again")).Redirect(t, "/me?saved=1#cpd")
		b.Get("/me").Want(t, 200, "7 of 30 hours logged", "Reading the guidance again")
	})
	t.Run("OthersEntriesNotFound", func(t *testing.T) {
		_, other := staffMember(e, reg, "Other", "Person", "2027-03-01")
		oid := jsonID(e.Must(201, "POST", "/v1/me/cpd", other, map[string]any{"date": "2026-03-02", "title": "Not yours", "category": "self_directed", "hours": 1})["id"])
		b.Get("/me/cpd/"+oid+"/edit").Want(t, 404)
		b.Post("/me/cpd/"+oid, form("4", "Taken over")).Want(t, 404)
		b.Get("/me/cpd/abc/edit").Want(t, 404)
	})
	t.Run("RenewalRefusalShown", func(t *testing.T) {
		api := e.Do("POST", "/v1/me/renewal", tok, map[string]any{"cpd_declaration": true, "good_character_declaration": true})
		want := api.WantError(t, 409, register.ECONFLICT)["message"].(string)
		p := b.Post("/me/renewal", url.Values{"csrf": {csrf}, "cpd_declaration": {"yes"}, "good_character_declaration": {"yes"}})
		p.Want(t, 409, "There is a problem", want, "Your registration")
	})
	t.Run("RenewalStarted", func(t *testing.T) {
		e.Set(time.Date(2027, 2, 1, 10, 0, 0, 0, time.UTC))
		b := e.Browser()
		b.SignIn(t, markerEmail)
		c := b.Get("/me").CSRF(t)
		b.Post("/me/renewal", url.Values{"csrf": {c}, "cpd_declaration": {"yes"}, "good_character_declaration": {"yes"}}).Redirect(t, "/me#renewal")
		b.Get("/me").Want(t, 200, "Your latest renewal request, made on 1 February 2027")
	})
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestWebRateLimits(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n := e.Practitioner(reg, "Fairweather", "Imogen", 5, "2027-03-01")

	t.Run("PublicPagesShareTheAPIBudget", func(t *testing.T) {
		e.Rebuild(func(s *registerhttp.Server) { s.Limits.Public = "3-H" })
		b := e.Browser()
		b.Get("/").Want(t, 200)
		b.Get("/r/"+n).Want(t, 200)
		e.Must(200, "GET", "/v1/public/registrants/"+n, "", nil)
		p := b.Get("/r/" + n + "/certificate")
		p.Want(t, 429, "<title>Too many requests</title>", "You have made too many requests. Wait", `<a href="/">Check the register</a>`)
		wantWebBasics(t, p)
		if ra, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 3600 {
			t.Fatalf("Retry-After %q", p.Header.Get("Retry-After"))
		}
		// The API, sharing the budget, still answers in JSON.
		r := e.Do("GET", "/v1/public/registrants/"+n, "", nil)
		r.WantError(t, 429, register.ERATELIMIT)
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("API 429 without Retry-After")
		}
	})
	t.Run("FailedSignInsThrottled", func(t *testing.T) {
		e.Rebuild(func(s *registerhttp.Server) { s.Limits = registerhttp.RateLimits{LoginFailures: "2-H"} })
		b := e.Browser()
		for range 2 {
			tok := b.Get("/sign-in").CSRF(t)
			b.Post("/sign-in", url.Values{"email": {"registrar@example.org"}, "password": {"wrong"}, "csrf": {tok}}).Want(t, 401)
		}
		tok := b.Get("/sign-in").CSRF(t)
		p := b.Post("/sign-in", url.Values{"email": {"registrar@example.org"}, "password": {Password}, "csrf": {tok}})
		p.Want(t, 429, "Too many failed sign-in attempts")
		wantWebBasics(t, p)
		if ra, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || ra < 1 {
			t.Fatalf("Retry-After %q", p.Header.Get("Retry-After"))
		}
	})
}

// In-process figures for the two hot pages (see bench_test.go):
//
//	go test ./http/ -run '^$' -bench Web -benchmem
func BenchmarkWebRecord(b *testing.B) {
	e, numbers := benchEnv(b)
	h := e.Server.Handler()
	serveEach(b, h, numbers, "/r/", "")
}

func BenchmarkWebSearch(b *testing.B) {
	e, _ := benchEnv(b)
	h := e.Server.Handler()
	serveEach(b, h, benchPrefixes, "/?q=", "")
}

var receiptText = regexp.MustCompile(`<pre class="receipt-text" id="receipt">([A-Za-z0-9_.-]+)</pre>`)

// pageReceipt is the signed receipt shown on a certificate page.
func pageReceipt(t *testing.T, p *Page) string {
	t.Helper()
	m := receiptText.FindStringSubmatch(p.Body)
	if m == nil || strings.Count(m[1], ".") != 2 {
		t.Fatalf("no compact JWS receipt on the page: %s", p.Body)
	}
	return m[1]
}

func TestWebCertificateReceipt(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n := e.Practitioner(reg, "Fairweather", "Imogen", 5, "2027-03-01")
	other := e.Practitioner(reg, "Lowe", "Sam", 3, "2027-03-01")
	b := e.Browser()
	p := b.Get("/r/" + n + "/certificate")
	p.Want(t, 200, "Signed receipt of this check", "/.well-known/jwks.json", "POST /v1/receipts/verify")
	wantWebBasics(t, p)
	receipt := pageReceipt(t, p)

	t.Run("VerifiesWithTheRegister", func(t *testing.T) {
		v := e.Must(200, "POST", "/v1/receipts/verify", "", map[string]any{"receipt": receipt})
		pl, _ := v["payload"].(map[string]any)
		if v["valid"] != true || pl["sub"] != n || pl["checker"] != "public" || pl["checked_at"] != "2026-03-02T10:00:00Z" {
			t.Fatalf("verify: %v", v)
		}
		if res := pl["result"].(map[string]any); res["register_number"] != n || res["status"] != "registered" || res["family_name"] != "Fairweather" {
			t.Fatalf("receipt result %v", res)
		}
	})
	t.Run("VerifiesOfflineWithThePublishedKey", func(t *testing.T) {
		if off := verifyOffline(t, e, receipt); off["sub"] != n || off["iss"] != "national-probation-register" {
			t.Fatalf("offline payload %v", off)
		}
	})
	t.Run("SignsWhatTheAPISigns", func(t *testing.T) {
		api := e.Must(200, "GET", "/v1/public/registrants/"+n+"?receipt=true", "", nil)
		fromAPI := verifyOffline(t, e, api["receipt"].(string))["result"]
		fromPage := verifyOffline(t, e, receipt)["result"]
		if !reflect.DeepEqual(fromAPI, fromPage) {
			t.Fatalf("page receipt result %v, API receipt result %v", fromPage, fromAPI)
		}
	})
	t.Run("EachRecordItsOwn", func(t *testing.T) {
		r := pageReceipt(t, b.Get("/r/"+other+"/certificate"))
		if r == receipt || verifyOffline(t, e, r)["sub"] != other {
			t.Fatalf("receipt for %s does not name it", other)
		}
	})
	t.Run("AlteredReceiptRefused", func(t *testing.T) {
		parts := strings.Split(receipt, ".")
		forged := parts[0] + "." + strings.Replace(parts[1], parts[1][10:11], "x", 1) + "." + parts[2]
		if forged == receipt {
			forged = parts[0] + "." + parts[1] + "A." + parts[2]
		}
		if v := e.Must(200, "POST", "/v1/receipts/verify", "", map[string]any{"receipt": forged}); v["valid"] != false {
			t.Fatalf("an altered receipt verified: %v", v)
		}
	})
}

func TestWebWhoCheckedMe(t *testing.T) {
	e := newEnv(t)
	admin := e.Token(register.RoleAdmin)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	orgID, key := e.Org(admin, "Temps Ltd", "agency")
	id, err := strconv.ParseInt(orgID, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	staffEmail := "coordinator.zq@temps.example"
	n, _ := privatePractitioner(e, reg)
	other := e.Practitioner(reg, "Nowak", "Piotr", 3, "2027-03-01")
	staffMember(e, reg, "Unchecked", "Person", "2027-03-01")
	b := e.Browser()
	b.SignIn(t, markerEmail)

	t.Run("NoChecksYet", func(t *testing.T) {
		b.Get("/me").Want(t, 200, "Who checked your record", "No one has checked your record yet.")
	})

	e.Must(200, "GET", "/v1/public/registrants/"+n, "", nil) // anonymous: not recorded
	e.Must(200, "POST", "/v1/checks", key, map[string]any{"purpose": "pre_employment", "items": []any{
		map[string]any{"register_number": n, "family_name": "Okonkwo", "date_of_birth": markerDOB},
		map[string]any{"register_number": other},
	}})
	e.Advance(90 * time.Minute)
	orgUser := e.OrgUser(staffEmail, register.RoleAgency, id) // an agency's own user, signed in after the first check
	e.Must(200, "POST", "/v1/checks", orgUser, map[string]any{"purpose": "placement", "at": "2026-03-01T09:00:00Z", "items": []any{
		map[string]any{"register_number": n},
	}})

	p := b.Get("/me")
	t.Run("Listed", func(t *testing.T) {
		p.Want(t, 200, "Who checked your record", "Temps Ltd", "Before employment", "Before a placement",
			"Through the register&#39;s checking service", "2 March 2026 at 10:00 UTC", "2 March 2026 at 11:30 UTC",
			"record as at 1 March 2026 at 09:00 UTC")
		wantWebBasics(t, p)
		if got := strings.Count(p.Body, "<td>Temps Ltd</td>"); got != 2 {
			t.Fatalf("%d checks listed, want 2", got)
		}
		// Newest first, as in GET /v1/me/checks.
		if strings.Index(p.Body, "Before a placement") > strings.Index(p.Body, "Before employment") {
			t.Fatal("checks are not listed newest first")
		}
	})
	t.Run("NothingOfTheCheckerLeaks", func(t *testing.T) {
		for _, s := range []string{key, staffEmail, "coordinator", other, "Nowak", "identity", "organisation:" + orgID, `/organisations/`} {
			if strings.Contains(p.Body, s) {
				t.Fatalf("/me shows %q of the checker", s)
			}
		}
		if len(key) > 12 && strings.Contains(p.Body, key[:12]) {
			t.Fatal("/me shows the start of the checker's API key")
		}
	})
	t.Run("OnlyOwnChecks", func(t *testing.T) {
		ob := e.Browser()
		ob.SignIn(t, "person.unchecked@example.org")
		op := ob.Get("/me")
		op.Want(t, 200, "No one has checked your record yet.")
		if strings.Contains(op.Body, "Temps Ltd") {
			t.Fatal("another registrant's checks are shown")
		}
	})
}

func TestWebNotFound(t *testing.T) {
	e := newEnv(t)
	b := e.Browser()
	for _, path := range []string{"/nope", "/r/PR1/extra", "/me/nope", "/r", "/static-ish", "/openapi.yaml/more"} {
		t.Run("Page"+path, func(t *testing.T) {
			p := b.Get(path)
			p.Want(t, 404, "<title>Page not found</title>", "There is no page at this address", `<a href="/">Check the register</a>`)
			wantWebBasics(t, p)
		})
	}
	for _, path := range []string{"/v1/nope", "/v1", "/v1/public/registrants", "/.well-known/nope"} {
		t.Run("API"+path, func(t *testing.T) {
			d := e.Do("GET", path, "", nil).WantError(t, 404, register.ENOTFOUND)
			if d["message"] != "No such endpoint." {
				t.Fatalf("message %v", d["message"])
			}
		})
	}
	t.Run("WrongMethodOnAPage", func(t *testing.T) {
		r := e.Do("DELETE", "/r/PR1234566", "", nil)
		if r.Status != 405 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.Body), "This cannot be done here") {
			t.Fatalf("DELETE on a page: %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		r = e.Do("DELETE", "/v1/public/registrants/PR1234566", "", nil)
		if r.Status != 405 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("DELETE on the API: %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
		}
	})
	t.Run("KnownMachinePathsStillJSON", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/.well-known/jwks.json"} {
			if r := e.Do("GET", path, "", nil); r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%s: status %d, type %q", path, r.Status, r.Header.Get("Content-Type"))
			}
		}
	})
}

// restart stops the server and the store, then serves a new Server over a
// new handle on the same database file, as a restarted process would.
func (e *env) restart() {
	e.t.Helper()
	old := e.Server
	e.HTTP.Close()
	if err := e.DB.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.DB = sqlite.NewDB(e.DB.Path)
	e.DB.Now = e.Now
	if err := e.DB.Open(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { e.DB.Close() })
	users := sqlite.NewUserService(e.DB)
	renewals := sqlite.NewRenewalService(e.DB, register.DefaultRequirement)
	orgs := sqlite.NewOrganisationService(e.DB)
	e.Server = &registerhttp.Server{
		Logger: old.Logger, Now: e.Now,
		Registrants: sqlite.NewRegistrantService(e.DB), Public: sqlite.NewPublicService(e.DB),
		Users: users, Sessions: users, CPD: sqlite.NewCPDService(e.DB, register.DefaultRequirement),
		Renewals: renewals, CPDAudits: renewals, Checks: orgs, Organisations: orgs, Receipts: old.Receipts,
		Passwords: old.Passwords, Tokens: old.Tokens, RefreshTTL: old.RefreshTTL, Ready: e.DB.Ready, OpenAPI: old.OpenAPI,
	}
	e.HTTP = httptest.NewServer(e.Server.Handler())
	e.t.Cleanup(e.HTTP.Close)
}

// sessionHash is the stored form of the browser's session cookie.
func (b *browser) sessionHash(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(b.e.HTTP.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "register_session" {
			return auth.HashToken(c.Value)
		}
	}
	t.Fatal("no session cookie")
	return ""
}

func TestWebSessionsStored(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n, _ := privatePractitioner(e, reg)
	b := e.Browser()
	b.SignIn(t, markerEmail)
	csrf := b.Get("/me").CSRF(t)
	rows := func(hash string) int {
		t.Helper()
		var c int
		if err := e.DB.Reader().QueryRow(`SELECT COUNT(*) FROM web_sessions WHERE token_hash = ?`, hash).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	t.Run("OnlyTheHashIsStored", func(t *testing.T) {
		hash := b.sessionHash(t)
		if rows(hash) != 1 {
			t.Fatal("the session is not stored by the hash of its cookie")
		}
		var leaked int
		if err := e.DB.Reader().QueryRow(`SELECT COUNT(*) FROM web_sessions WHERE token_hash LIKE 'rt_%' OR csrf = token_hash`).Scan(&leaked); err != nil {
			t.Fatal(err)
		}
		if leaked != 0 {
			t.Fatal("a cookie value is stored as it is")
		}
	})
	t.Run("CreatedByTheUserAndAudited", func(t *testing.T) {
		u, _, err := e.Server.Users.FindUserByEmail(t.Context(), markerEmail)
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, a := range e.AuditSince(0) {
			if a.Action == "web_session.create" {
				found = a.Actor == "user:"+jsonID(u.ID) && a.EntityID == b.sessionHash(t)[:12]
			}
		}
		if !found {
			t.Fatal("no web_session.create audit entry by the signed-in user")
		}
	})
	t.Run("SurvivesRestart", func(t *testing.T) {
		e.restart()
		p := b.Get("/me")
		p.Want(t, 200, "Your registration", n)
		if got := p.CSRF(t); got != csrf {
			t.Fatalf("CSRF token %q after restart, want %q", got, csrf)
		}
		b.Post("/me/cpd", url.Values{"csrf": {csrf}, "date": {"2026-03-02"}, "title": {"Case review after restart"},
			"category": {"self_directed"}, "hours": {"1"}}).Redirect(t, "/me?saved=1#cpd")
	})
	t.Run("ExpiredRefused", func(t *testing.T) {
		other := e.Browser()
		other.SignIn(t, markerEmail)
		e.Advance(webSessionHours * time.Hour)
		defer e.Advance(-webSessionHours * time.Hour)
		other.Get("/me").Redirect(t, "/sign-in")
		if rows(other.sessionHash(t)) != 1 {
			t.Fatal("reading an expired session deleted it; only a write should")
		}
	})
	t.Run("SignOutDeletesTheRow", func(t *testing.T) {
		hash := b.sessionHash(t)
		b.Post("/sign-out", url.Values{"csrf": {csrf}}).Redirect(t, "/")
		if rows(hash) != 0 {
			t.Fatal("the session row outlived sign-out")
		}
		b.Get("/me").Redirect(t, "/sign-in")
	})
}

// webSessionHours is how long a page session lasts.
const webSessionHours = 8

// The certificate signs a receipt on every view; this measures that cost
// beside the record page's.
func BenchmarkWebCertificate(b *testing.B) {
	e, numbers := benchEnv(b)
	h := e.Server.Handler()
	serveEach(b, h, numbers, "/r/", "/certificate")
}
