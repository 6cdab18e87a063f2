package http_test

import (
	"net/http"
	"strconv"
	"testing"

	registerhttp "github.com/probation-register/register/http"
	"github.com/probation-register/register/register"
)

// doFrom sends a request claiming, through X-Forwarded-For, to come from xff.
func (e *env) doFrom(method, path, xff string, body any) *Response {
	e.t.Helper()
	h := http.Header{}
	if xff != "" {
		h.Set("X-Forwarded-For", xff)
	}
	return e.DoWith(method, path, h, body)
}

func wantTooMany(t *testing.T, r *Response) {
	t.Helper()
	r.WantError(t, http.StatusTooManyRequests, register.ERATELIMIT)
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After %q, want whole seconds of at least 1", r.Header.Get("Retry-After"))
	}
}

func TestPublicRateLimit(t *testing.T) {
	t.Run("PerAddressAcrossPublicEndpoints", func(t *testing.T) {
		e := newEnv(t)
		e.Rebuild(func(s *registerhttp.Server) { s.Limits.Public = "3-H" })
		e.Must(200, "GET", "/v1/public/search?name=smith", "", nil)
		e.Must(400, "GET", "/v1/public/registrants/PR0000001", "", nil)
		e.Must(200, "GET", "/v1/public/search?name=jones", "", nil)
		wantTooMany(t, e.Do("GET", "/v1/public/search?name=smith", "", nil))
		wantTooMany(t, e.Do("POST", "/v1/auth/login", "", map[string]any{"email": "a@example.org", "password": "x"}))
	})
	t.Run("ForgedForwardedForIsIgnored", func(t *testing.T) {
		e := newEnv(t)
		e.Rebuild(func(s *registerhttp.Server) { s.Limits.Public = "3-H" })
		for i := range 3 {
			if r := e.doFrom("GET", "/v1/public/search?name=smith", "203.0.113."+strconv.Itoa(i+1), nil); r.Status != 200 {
				t.Fatalf("request %d: status %d: %s", i, r.Status, r.Body)
			}
		}
		wantTooMany(t, e.doFrom("GET", "/v1/public/search?name=smith", "198.51.100.77", nil))
	})
	t.Run("TrustedProxyControl", func(t *testing.T) {
		// The same requests through a trusted proxy get a budget per forwarded
		// address: the test above would notice if forged headers were trusted.
		e := newEnv(t)
		e.Rebuild(func(s *registerhttp.Server) { s.Limits.Public = "3-H"; s.TrustedProxies = []string{"127.0.0.1"} })
		for i := range 6 {
			if r := e.doFrom("GET", "/v1/public/search?name=smith", "203.0.113."+strconv.Itoa(i+1), nil); r.Status != 200 {
				t.Fatalf("request %d: status %d: %s", i, r.Status, r.Body)
			}
		}
	})
	t.Run("UnlimitedByDefault", func(t *testing.T) {
		e := newEnv(t)
		for range 50 {
			e.Must(200, "GET", "/v1/public/search?name=smith", "", nil)
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	bad := func(email string) map[string]any { return map[string]any{"email": email, "password": "wrong password"} }
	good := func(email string) map[string]any { return map[string]any{"email": email, "password": Password} }

	t.Run("PerAccount", func(t *testing.T) {
		e := newEnv(t)
		e.Rebuild(func(s *registerhttp.Server) { s.Limits.LoginFailures = "3-H" })
		e.User("victim@example.org", register.RoleRegistrar)
		start := e.LastAuditID()
		for range 3 {
			e.Do("POST", "/v1/auth/login", "", bad("victim@example.org")).WantError(t, 401, register.EUNAUTHORIZED)
		}
		// Even the right password is refused now, and case does not dodge it.
		wantTooMany(t, e.Do("POST", "/v1/auth/login", "", good("Victim@Example.org")))
		var fails int
		for _, a := range e.AuditSince(start) {
			if a.Action == "login.fail" {
				fails++
			}
		}
		if fails != 4 {
			t.Fatalf("%d login.fail entries, want 4 (every attempt audited): %+v", fails, e.AuditSince(start))
		}
	})
	t.Run("PerAddressAcrossAccounts", func(t *testing.T) {
		e := newEnv(t)
		e.Rebuild(func(s *registerhttp.Server) { s.Limits.LoginFailures = "3-H" })
		e.User("other@example.org", register.RoleRegistrar)
		for _, who := range []string{"a@example.org", "b@example.org", "c@example.org"} {
			e.doFrom("POST", "/v1/auth/login", "203.0.113."+who[:1], bad(who)).WantError(t, 401, register.EUNAUTHORIZED)
		}
		wantTooMany(t, e.doFrom("POST", "/v1/auth/login", "198.51.100.1", good("other@example.org")))
	})
	t.Run("SuccessClearsTheAccount", func(t *testing.T) {
		// Each attempt through a trusted proxy from its own address, so only
		// the account's count can refuse the last login.
		e := newEnv(t)
		e.Rebuild(func(s *registerhttp.Server) { s.Limits.LoginFailures = "3-H"; s.TrustedProxies = []string{"127.0.0.1"} })
		e.User("typo@example.org", register.RoleRegistrar)
		for i, ok := range []bool{false, false, true, false, false, true} {
			r := e.doFrom("POST", "/v1/auth/login", "203.0.113."+strconv.Itoa(i+1), map[bool]map[string]any{true: good("typo@example.org"), false: bad("typo@example.org")}[ok])
			if want := map[bool]int{true: 200, false: 401}[ok]; r.Status != want {
				t.Fatalf("attempt %d: status %d, want %d: %s", i, r.Status, want, r.Body)
			}
		}
	})
	t.Run("AuditAddressIgnoresForgedForwardedFor", func(t *testing.T) {
		e := newEnv(t)
		start := e.LastAuditID()
		e.doFrom("POST", "/v1/auth/login", "203.0.113.66", bad("nobody@example.org")).WantError(t, 401, register.EUNAUTHORIZED)
		var addr string
		if err := e.DB.Reader().QueryRow(`SELECT addr FROM audit_log WHERE id > ? AND action = 'login.fail'`, start).Scan(&addr); err != nil {
			t.Fatal(err)
		}
		if addr != "127.0.0.1" {
			t.Fatalf("audit address %q, want the connection's 127.0.0.1", addr)
		}
	})
}
