// Package browser drives the register's HTML pages in Debian's Chromium,
// headless, through the Chrome DevTools Protocol.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/docs"
	registerhttp "github.com/probation-register/register/http"
	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// chromium is Debian's browser, installed by .ci/run.
const chromium = "/usr/bin/chromium"

// artifacts is where screenshots go (git-ignored).
var artifacts = filepath.Join("..", "artifacts")

const password = "correct horse battery staple"

// clock is the register's movable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// register is the real register served on a real TCP port.
type site struct {
	t     *testing.T
	URL   string
	clock *clock
}

func startRegister(t *testing.T) *site {
	t.Helper()
	dir := t.TempDir()
	clk := &clock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	db := sqlite.NewDB(filepath.Join(dir, "register.db"))
	db.Now = clk.Now
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys, _, err := auth.LoadKeyring(filepath.Join(dir, "keys"), true)
	if err != nil {
		t.Fatal(err)
	}
	users := sqlite.NewUserService(db)
	renewals := sqlite.NewRenewalService(db, register.DefaultRequirement)
	orgs := sqlite.NewOrganisationService(db)
	srv := &registerhttp.Server{
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:           clk.Now,
		Registrants:   sqlite.NewRegistrantService(db),
		Registrations: sqlite.NewRegistrationService(db),
		Public:        sqlite.NewPublicService(db),
		Users:         users,
		Sessions:      users,
		Accounts:      sqlite.NewAccountService(db),
		CPD:           sqlite.NewCPDService(db, register.DefaultRequirement),
		Renewals:      renewals,
		CPDAudits:     renewals,
		Cases:         sqlite.NewCaseService(db),
		Organisations: orgs,
		Checks:        orgs,
		Receipts:      auth.NewReceipts(keys, "national-probation-register"),
		Passwords:     auth.NewPasswords(auth.TestParams),
		Tokens:        auth.NewTokens(keys, "national-probation-register", 15*time.Minute, clk.Now),
		RefreshTTL:    24 * time.Hour,
		Ready:         db.Ready,
		OpenAPI:       docs.OpenAPI,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer(ln.Addr().String())
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	// The first registrar and admin are made directly in the store, as the CLI does.
	hash, err := srv.Passwords.Hash(context.Background(), password)
	if err != nil {
		t.Fatal(err)
	}
	for email, role := range map[string]register.Role{"registrar@example.org": register.RoleRegistrar, "admin@example.org": register.RoleAdmin} {
		u := &register.User{Email: email, Role: role}
		if err := users.CreateUser(register.NewContextWithActor(context.Background(), register.CLIActor), u, hash); err != nil {
			t.Fatal(err)
		}
	}
	return &site{t: t, URL: "http://" + ln.Addr().String(), clock: clk}
}

// api calls the JSON API and returns the decoded answer, failing unless want.
func (s *site) api(want int, method, path, token string, body any) map[string]any {
	s.t.Helper()
	j, err := json.Marshal(body)
	if err != nil {
		s.t.Fatal(err)
	}
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(j))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	m := map[string]any{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			s.t.Fatal(err)
		}
	}
	return m
}

func (s *site) login(email string) string {
	return s.api(200, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": password})["access_token"].(string)
}

// seed admits a practitioner with an account and returns the register number.
func (s *site) seed() string {
	reg := s.login("registrar@example.org")
	n := s.api(201, "POST", "/v1/registrants", reg, map[string]any{"family_name": "Fairweather", "given_names": "Imogen",
		"date_of_birth": "1985-06-15", "email": "imogen@example.org"})["register_number"].(string)
	q := s.api(201, "POST", "/v1/registrants/"+n+"/qualifications", reg, map[string]any{"level": 5, "title": "Level 5 Diploma in Probation Practice",
		"awarding_body": "Awarding Body", "awarded_on": "2024-07-01", "certificate_ref": "CERT-1", "state": "claimed"})
	id, _ := json.Marshal(q["id"])
	s.api(200, "POST", "/v1/registrants/"+n+"/qualifications/"+string(id)+"/verify", reg, nil)
	s.api(200, "POST", "/v1/registrants/"+n+"/registration/admit", reg, map[string]any{"registered_until": "2027-03-01"})
	code := s.api(201, "POST", "/v1/registrants/"+n+"/account", reg, nil)["activation_code"].(string)
	s.api(201, "POST", "/v1/auth/activate", "", map[string]any{"code": code, "password": password})
	own := s.login("imogen@example.org")
	s.api(201, "POST", "/v1/me/cpd", own, map[string]any{"date": "2026-03-02", "title": "Risk assessment workshop",
		"category": "participatory", "hours": 6, "reflection": "Private reflection."})
	// An agency checks her before a placement, so that she can see who checked her.
	admin := s.login("admin@example.org")
	org, _ := json.Marshal(s.api(201, "POST", "/v1/organisations", admin, map[string]any{"name": "Temps Ltd", "kind": "agency"})["id"])
	key := s.api(201, "POST", "/v1/organisations/"+string(org)+"/api-keys", admin, map[string]any{"name": "placements"})["key"].(string)
	s.api(200, "POST", "/v1/checks", key, map[string]any{"purpose": "placement", "items": []any{map[string]any{"register_number": n}}})
	// A few months on, so that the record has a past worth looking at.
	s.clock.Set(time.Date(2026, 9, 1, 9, 30, 0, 0, time.UTC))
	return n
}

// newBrowser starts headless Chromium. Under CI a missing browser fails
// the test; elsewhere it skips, so a laptop without Chromium can run ./...
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Chromium is required under CI (install it with: apt-get install -y chromium): %v", err)
		}
		t.Skipf("%s not installed; .ci/run installs it", chromium)
	}
	// The profile folder is removed by hand, not by t.TempDir: Chromium's
	// helper processes can still be writing into it for a moment after the
	// browser has gone, which made TempDir's cleanup fail the test.
	profile, err := os.MkdirTemp("", "register-browser-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1024, 900),
		chromedp.UserDataDir(profile),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTime()
		cancelCtx()
		cancelAlloc()
		for range 50 {
			if err = os.RemoveAll(profile); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("browser profile %s left behind: %v", profile, err)
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	return ctx
}

// shot saves a full-page screenshot as a test artefact (quality 100 is PNG).
func shot(name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var buf []byte
		if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(artifacts, name+".png"), buf, 0o644)
	})
}

// wantText fails unless the element's text contains want.
func wantText(sel, want string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var got string
		if err := chromedp.Text(sel, &got, chromedp.ByQuery).Do(ctx); err != nil {
			return err
		}
		if !strings.Contains(got, want) {
			return fmt.Errorf("%s says %q, want %q", sel, got, want)
		}
		return nil
	})
}

func TestBrowser(t *testing.T) {
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	s := startRegister(t)
	n := s.seed()
	ctx := newBrowser(t)

	// Any console error (a CSP violation, a missing resource) fails the test.
	var mu sync.Mutex
	var consoleErrors []string
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = e.ExceptionDetails.Text
		case *cdplog.EventEntryAdded:
			// The CPD form answers 400 on purpose when a value is wrong.
			// So does an unknown address, with a 404 page.
			expected := strings.Contains(e.Entry.Text, "status of 400") && strings.HasSuffix(e.Entry.URL, "/me/cpd") ||
				strings.Contains(e.Entry.Text, "status of 404") && strings.HasSuffix(e.Entry.URL, "/no-such-page")
			if e.Entry.Level == cdplog.LevelError && !expected {
				msg = e.Entry.Text + " " + e.Entry.URL
			}
		}
		if msg != "" {
			mu.Lock()
			consoleErrors = append(consoleErrors, msg)
			mu.Unlock()
		}
	})
	if err := chromedp.Run(ctx, cdplog.Enable()); err != nil {
		t.Fatal(err)
	}

	run := func(name string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			var buf []byte
			_ = chromedp.Run(ctx, chromedp.FullScreenshot(&buf, 100))
			_ = os.WriteFile(filepath.Join(artifacts, "failed-"+name+".png"), buf, 0o644)
			t.Fatalf("%s: %v", name, err)
		}
	}

	run("search by name",
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(`#q`, chromedp.ByQuery),
		chromedp.SendKeys(`#q`, "fairw", chromedp.ByQuery),
		chromedp.Click(`form[role=search] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`table.results`, chromedp.ByQuery),
		wantText(`table.results tbody`, "Fairweather, Imogen"),
		wantText(`table.results tbody`, n),
		shot("1-search"),
	)
	run("open the record",
		chromedp.Click(`a[href="/r/`+n+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.panel`, chromedp.ByQuery),
		wantText(`h1`, "Imogen Fairweather"),
		wantText(`.panel`, "Registered: may practise as a Probation Officer or Probation Services Officer."),
		wantText(`.summary-list`, "1 September 2026 at 09:30 UTC"),
		shot("2-record"),
	)
	run("view as at a past date",
		chromedp.SetValue(`#at`, "2026-03-01", chromedp.ByQuery),
		chromedp.Click(`form[action="/r/`+n+`"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`.notice`, chromedp.ByQuery),
		wantText(`.notice`, "as it stood at 1 March 2026"),
		wantText(`.panel`, "Not on the register at this time: may not practise."),
		shot("3-record-as-at"),
	)
	var qrWidth int
	var receipt string
	run("open the certificate",
		chromedp.Navigate(s.URL+"/r/"+n),
		chromedp.Click(`a[href="/r/`+n+`/certificate"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.certificate`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('.qr img').complete`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`document.querySelector('.qr img').naturalWidth`, &qrWidth),
		wantText(`.certificate`, s.URL+"/r/"+n),
		wantText(`.receipt`, "Signed receipt of this check"),
		chromedp.Text(`#receipt`, &receipt, chromedp.ByQuery),
		shot("4-certificate"),
	)
	if qrWidth != 256 {
		t.Fatalf("QR code image is %d px wide, want 256 (not loaded?)", qrWidth)
	}
	v := s.api(200, "POST", "/v1/receipts/verify", "", map[string]any{"receipt": strings.TrimSpace(receipt)})
	if p, _ := v["payload"].(map[string]any); v["valid"] != true || p["sub"] != n {
		t.Fatalf("the certificate's receipt does not verify for %s: %v", n, v)
	}
	run("an unknown address gets a page",
		chromedp.Navigate(s.URL+"/no-such-page"),
		chromedp.WaitVisible(`h1`, chromedp.ByQuery),
		wantText(`h1`, "Page not found"),
		chromedp.Click(`main a[href="/"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#q`, chromedp.ByQuery),
	)

	var before, after string
	run("sign in as the registrant",
		chromedp.Navigate(s.URL+"/sign-in"),
		chromedp.WaitVisible(`#email`, chromedp.ByQuery),
		chromedp.SendKeys(`#email`, "imogen@example.org", chromedp.ByQuery),
		chromedp.SendKeys(`#password`, password, chromedp.ByQuery),
		chromedp.Submit(`#password`, chromedp.ByQuery),
		chromedp.WaitVisible(`#cpd-progress`, chromedp.ByQuery),
		wantText(`h1`, "Your registration"),
		chromedp.AttributeValue(`#cpd-progress`, "value", &before, nil, chromedp.ByQuery),
		wantText(`.progress-block`, "6 of 30 hours logged"),
		wantText(`#checks-table`, "Temps Ltd"),
		wantText(`#checks-table`, "Before a placement"),
		shot("5-me"),
	)
	run("log CPD with a bad value",
		chromedp.Click(`a[href="/me/cpd/new"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#title`, chromedp.ByQuery),
		chromedp.SendKeys(`#title`, "Reading the new sentencing guidance", chromedp.ByQuery),
		chromedp.Click(`#category-self`, chromedp.ByQuery),
		chromedp.SendKeys(`#hours`, "30", chromedp.ByQuery),
		chromedp.Submit(`#hours`, chromedp.ByQuery),
		chromedp.WaitVisible(`#hours-error`, chromedp.ByQuery),
		wantText(`#hours-error`, "Hours must be at most 24"),
		wantText(`.error-summary`, "must be at most 24"),
		shot("6-cpd-error"),
	)
	run("fix it and see the bar move",
		chromedp.WaitVisible(`#hours`, chromedp.ByQuery),
		chromedp.Clear(`#hours`, chromedp.ByQuery),
		chromedp.SendKeys(`#hours`, "4.5", chromedp.ByQuery),
		chromedp.Submit(`#hours`, chromedp.ByQuery),
		chromedp.WaitVisible(`.notice-ok`, chromedp.ByQuery),
		chromedp.AttributeValue(`#cpd-progress`, "value", &after, nil, chromedp.ByQuery),
		wantText(`.progress-block`, "10.5 of 30 hours logged"),
		wantText(`.progress-block`, "19.5 hours remaining"),
		wantText(`table.results`, "Reading the new sentencing guidance"),
		shot("7-me-after"),
	)
	if before != "24" || after != "42" {
		t.Fatalf("progress bar moved from %q to %q quarter hours, want 24 to 42", before, after)
	}
	run("narrow screen",
		chromedp.EmulateViewport(320, 640),
		chromedp.Navigate(s.URL+"/r/"+n),
		chromedp.WaitVisible(`.panel`, chromedp.ByQuery),
		shot("8-record-320px"),
	)
	for _, page := range []string{"/r/" + n, "/r/" + n + "/certificate", "/me"} {
		var scrollWidth int
		run("no sideways scrolling at 320 px on "+page,
			chromedp.Navigate(s.URL+page),
			chromedp.WaitVisible(`h1`, chromedp.ByQuery),
			chromedp.Evaluate(`document.documentElement.scrollWidth`, &scrollWidth))
		if scrollWidth > 320 {
			t.Fatalf("%s is %d px wide at a 320 px viewport", page, scrollWidth)
		}
	}
	run("certificate at 320 px", chromedp.Navigate(s.URL+"/r/"+n+"/certificate"), chromedp.WaitVisible(`#receipt`, chromedp.ByQuery), shot("9-certificate-320px"))
	mu.Lock()
	defer mu.Unlock()
	if len(consoleErrors) > 0 {
		t.Fatal(errors.New(strings.Join(consoleErrors, "; ")))
	}
}
