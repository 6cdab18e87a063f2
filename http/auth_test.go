package http_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
)

// unauthorizedBody is the one answer to every unacceptable access token.
const unauthorizedBody = `{"error":{"code":"unauthorized","message":"A valid access token is required."}}`

func TestAccessTokensRejected(t *testing.T) {
	e := newEnv(t)
	good, u := e.User("registrar@example.org", register.RoleRegistrar)
	key := e.Keys.Current()
	now := e.Now()
	claims := func(edit func(c *auth.Claims)) *auth.Claims {
		c := &auth.Claims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer:    "national-probation-register",
				Subject:   jsonID(u.ID),
				Audience:  jwt.ClaimStrings{auth.Audience},
				IssuedAt:  jwt.NewNumericDate(now),
				ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)),
			},
			Role: register.RoleRegistrar,
		}
		if edit != nil {
			edit(c)
		}
		return c
	}
	sign := func(t *testing.T, method jwt.SigningMethod, c *auth.Claims, k any) string {
		t.Helper()
		tok := jwt.NewWithClaims(method, c)
		tok.Header["kid"] = key.ID
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	_, otherKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	refresh := e.Must(200, "POST", "/v1/auth/login", "", map[string]any{"email": "registrar@example.org", "password": Password})["refresh_token"].(string)

	t.Run("ControlForgedClaimsWithRealKey", func(t *testing.T) {
		// The forging below starts from claims the server accepts when signed right.
		e.Must(200, "GET", "/v1/registrants", sign(t, jwt.SigningMethodEdDSA, claims(nil), key.Private), nil)
		e.Must(200, "GET", "/v1/registrants", good, nil)
	})

	for _, c := range []struct {
		name   string
		header func(t *testing.T) string
	}{
		{"Missing", func(t *testing.T) string { return "" }},
		{"RefreshTokenAsAccessToken", func(t *testing.T) string { return "Bearer " + refresh }},
		{"DotsOf64KB", func(t *testing.T) string { return "Bearer " + strings.Repeat(".", 64<<10) }},
		{"EmptyBearer", func(t *testing.T) string { return "Bearer " }},
		{"NotBearer", func(t *testing.T) string { return "Basic " + good }},
		{"LowerCaseScheme", func(t *testing.T) string { return "bearer-" + good }},
		{"Malformed", func(t *testing.T) string { return "Bearer not.a.jwt" }},
		{"Garbage", func(t *testing.T) string { return "Bearer " + strings.Repeat("x", 5000) }},
		{"Truncated", func(t *testing.T) string { return "Bearer " + good[:len(good)-10] }},
		{"AlgNone", func(t *testing.T) string {
			return "Bearer " + sign(t, jwt.SigningMethodNone, claims(nil), jwt.UnsafeAllowNoneSignatureType)
		}},
		{"HS256WithPublicKey", func(t *testing.T) string {
			return "Bearer " + sign(t, jwt.SigningMethodHS256, claims(nil), []byte(key.Public))
		}},
		{"OtherEd25519Key", func(t *testing.T) string {
			return "Bearer " + sign(t, jwt.SigningMethodEdDSA, claims(nil), otherKey)
		}},
		{"UnknownKeyID", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims(nil))
			tok.Header["kid"] = "no-such-key"
			s, err := tok.SignedString(key.Private)
			if err != nil {
				t.Fatal(err)
			}
			return "Bearer " + s
		}},
		{"WrongIssuer", func(t *testing.T) string {
			return "Bearer " + sign(t, jwt.SigningMethodEdDSA, claims(func(c *auth.Claims) { c.Issuer = "someone-else" }), key.Private)
		}},
		{"WrongAudience", func(t *testing.T) string {
			return "Bearer " + sign(t, jwt.SigningMethodEdDSA, claims(func(c *auth.Claims) { c.Audience = jwt.ClaimStrings{"receipts"} }), key.Private)
		}},
		{"MissingExpiry", func(t *testing.T) string {
			return "Bearer " + sign(t, jwt.SigningMethodEdDSA, claims(func(c *auth.Claims) { c.ExpiresAt = nil }), key.Private)
		}},
		{"Expired", func(t *testing.T) string {
			return "Bearer " + sign(t, jwt.SigningMethodEdDSA, claims(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Second)) }), key.Private)
		}},
		{"IssuedInTheFuture", func(t *testing.T) string {
			return "Bearer " + sign(t, jwt.SigningMethodEdDSA, claims(func(c *auth.Claims) { c.IssuedAt = jwt.NewNumericDate(now.Add(5 * time.Minute)) }), key.Private)
		}},
		{"UnknownUser", func(t *testing.T) string {
			return "Bearer " + sign(t, jwt.SigningMethodEdDSA, claims(func(c *auth.Claims) { c.Subject = "999999" }), key.Private)
		}},
		{"SubjectNotAnID", func(t *testing.T) string {
			return "Bearer " + sign(t, jwt.SigningMethodEdDSA, claims(func(c *auth.Claims) { c.Subject = "registrar@example.org" }), key.Private)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.LastAuditID()
			for _, req := range []struct{ method, path string }{{"GET", "/v1/registrants"}, {"POST", "/v1/registrants"}, {"GET", "/v1/users"}} {
				r := e.DoHeader(req.method, req.path, c.header(t), map[string]any{
					"family_name": "X", "given_names": "Y", "date_of_birth": "1980-01-01", "email": "x@example.org",
				})
				if r.Status != 401 || string(r.Body) != unauthorizedBody {
					t.Fatalf("%s %s: %d %s, want 401 %s", req.method, req.path, r.Status, r.Body, unauthorizedBody)
				}
			}
			if got := e.AuditSince(before); len(got) != 0 {
				t.Fatalf("a refused request wrote %v", got)
			}
		})
	}

	t.Run("ExpiredByTheClock", func(t *testing.T) {
		tok, _ := e.User("short-lived@example.org", register.RoleRegistrar)
		e.Must(200, "GET", "/v1/registrants", tok, nil)
		e.Advance(15*time.Minute + time.Second)
		defer e.Set(now)
		r := e.Do("GET", "/v1/registrants", tok, nil)
		if r.Status != 401 || string(r.Body) != unauthorizedBody {
			t.Fatalf("after expiry: %d %s", r.Status, r.Body)
		}
	})
}

func TestEveryRouteNeedsAToken(t *testing.T) {
	e := newEnv(t)
	for _, rt := range protectedRoutes("PR0000000", "1", "1") {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			r := e.Do(rt.method, rt.path, "", rt.body)
			if r.Status != 401 || string(r.Body) != unauthorizedBody {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
}

// route is one protected endpoint with a body it would accept.
type route struct {
	method, path string
	body         any
	admin        bool // admins only
}

// protectedRoutes lists every endpoint behind a role, for registrant n,
// qualification q and user u.
func protectedRoutes(n, q, u string) []route {
	return []route{
		{"POST", "/v1/registrants", map[string]any{"family_name": "Roe", "given_names": "Jane", "date_of_birth": "1980-01-01", "email": "jane@example.org"}, false},
		{"GET", "/v1/registrants", nil, false},
		{"GET", "/v1/registrants/" + n, nil, false},
		{"PATCH", "/v1/registrants/" + n, map[string]any{"family_name": "Doe"}, false},
		{"POST", "/v1/registrants/" + n + "/qualifications", map[string]any{"level": 3, "title": "L3", "awarding_body": "B", "awarded_on": "2024-01-01", "certificate_ref": "C", "state": "claimed"}, false},
		{"POST", "/v1/registrants/" + n + "/qualifications/" + q + "/verify", nil, false},
		{"POST", "/v1/registrants/" + n + "/registration/admit", map[string]any{"registered_until": "2027-01-01"}, false},
		{"POST", "/v1/registrants/" + n + "/registration/renew", map[string]any{"registered_until": "2027-01-01"}, false},
		{"POST", "/v1/registrants/" + n + "/registration/lapse", map[string]any{"reason": "left"}, false},
		{"POST", "/v1/registrants/" + n + "/registration/restore", map[string]any{"registered_until": "2027-01-01"}, false},
		{"GET", "/v1/registrants/" + n + "/history", nil, false},
		{"POST", "/v1/users", map[string]any{"email": "new@example.org", "role": "admin", "password": Password}, true},
		{"GET", "/v1/users", nil, true},
		{"PATCH", "/v1/users/" + u, map[string]any{"role": "admin"}, true},
	}
}

func TestForbiddenRoles(t *testing.T) {
	e := newEnv(t)
	registrar := e.Token(register.RoleRegistrar)
	n := e.Registrant(registrar, "Target", "Tess")
	q := jsonID(e.Must(201, "POST", "/v1/registrants/"+n+"/qualifications", registrar, map[string]any{
		"level": 3, "title": "L3", "awarding_body": "B", "awarded_on": "2024-01-01", "certificate_ref": "C", "state": "claimed"})["id"])
	_, victim := e.User("victim@example.org", register.RoleEmployer)

	tokens := map[register.Role]string{}
	for _, role := range register.Roles {
		tokens[role] = e.Token(role)
	}
	before := e.LastAuditID()
	for _, rt := range protectedRoutes(n, q, jsonID(victim.ID)) {
		for _, role := range register.Roles {
			allowed := role == register.RoleAdmin || (role == register.RoleRegistrar && !rt.admin)
			if allowed {
				continue
			}
			t.Run(rt.method+" "+rt.path+" as "+string(role), func(t *testing.T) {
				d := e.Do(rt.method, rt.path, tokens[role], rt.body).WantError(t, 403, register.EFORBIDDEN)
				if d["message"] != "Your role may not do this." {
					t.Fatalf("message = %v", d["message"])
				}
			})
		}
	}
	if got := e.AuditSince(before); len(got) != 0 {
		t.Fatalf("refused requests wrote %v", got)
	}
	if u := e.Must(200, "GET", "/v1/users?role=admin", tokens[register.RoleAdmin], nil)["items"].([]any); len(u) != 1 {
		t.Fatalf("admins after refused requests: %v", u)
	}

	t.Run("AllowedRolesGetThrough", func(t *testing.T) {
		// The same table, by the roles it is for, is answered: nothing above
		// was refused for a reason other than the role.
		for _, rt := range protectedRoutes(n, q, jsonID(victim.ID)) {
			for _, role := range []register.Role{register.RoleRegistrar, register.RoleAdmin} {
				if rt.admin && role != register.RoleAdmin {
					continue
				}
				r := e.Do(rt.method, rt.path, tokens[role], rt.body)
				if r.Status == 401 || r.Status == 403 || r.Status >= 500 {
					t.Errorf("%s %s as %s: %d %s", rt.method, rt.path, role, r.Status, r.Body)
				}
			}
		}
	})
}

func TestDisabledUserStopsAtOnce(t *testing.T) {
	e := newEnv(t)
	admin := e.Token(register.RoleAdmin)
	tok, u := e.User("leaver@example.org", register.RoleRegistrar)
	session := e.Must(200, "POST", "/v1/auth/login", "", map[string]any{"email": "leaver@example.org", "password": Password})
	e.Must(200, "GET", "/v1/registrants", tok, nil)

	m := e.Must(200, "PATCH", "/v1/users/"+jsonID(u.ID), admin, map[string]any{"disabled": true})
	if m["disabled"] != true {
		t.Fatalf("user after disabling = %v", m)
	}
	t.Run("AccessToken", func(t *testing.T) {
		for _, tk := range []string{tok, session["access_token"].(string)} {
			if r := e.Do("GET", "/v1/registrants", tk, nil); r.Status != 401 || string(r.Body) != unauthorizedBody {
				t.Fatalf("a disabled user's token: %d %s", r.Status, r.Body)
			}
		}
	})
	t.Run("RefreshToken", func(t *testing.T) {
		e.Do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": session["refresh_token"]}).WantError(t, 401, register.EUNAUTHORIZED)
	})
	t.Run("Login", func(t *testing.T) {
		e.Do("POST", "/v1/auth/login", "", map[string]any{"email": "leaver@example.org", "password": Password}).WantError(t, 401, register.EUNAUTHORIZED)
	})
	t.Run("Enabled", func(t *testing.T) {
		e.Must(200, "PATCH", "/v1/users/"+jsonID(u.ID), admin, map[string]any{"disabled": false})
		e.Must(200, "GET", "/v1/registrants", tok, nil)
		// Disabling revoked the refresh token for good.
		e.Do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": session["refresh_token"]}).WantError(t, 401, register.EUNAUTHORIZED)
	})
}

func TestRoleChangeTakesEffectAtOnce(t *testing.T) {
	e := newEnv(t)
	admin := e.Token(register.RoleAdmin)
	tok, u := e.User("mover@example.org", register.RoleRegistrar)
	e.Must(200, "GET", "/v1/registrants", tok, nil)

	e.Must(200, "PATCH", "/v1/users/"+jsonID(u.ID), admin, map[string]any{"role": "employer"})
	e.Do("GET", "/v1/registrants", tok, nil).WantError(t, 403, register.EFORBIDDEN)

	e.Must(200, "PATCH", "/v1/users/"+jsonID(u.ID), admin, map[string]any{"role": "admin"})
	e.Must(200, "GET", "/v1/users", tok, nil)

	e.Must(200, "PATCH", "/v1/users/"+jsonID(u.ID), admin, map[string]any{"role": "registrar"})
	e.Do("GET", "/v1/users", tok, nil).WantError(t, 403, register.EFORBIDDEN)
	e.Must(200, "GET", "/v1/registrants", tok, nil)
}

func TestLoginRefreshLogout(t *testing.T) {
	e := newEnv(t)
	e.User("reg@example.org", register.RoleRegistrar)
	login := func(t *testing.T) (access, refresh string) {
		t.Helper()
		r := e.Do("POST", "/v1/auth/login", "", map[string]any{"email": "reg@example.org", "password": Password})
		if r.Status != 200 {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		if m["token_type"] != "Bearer" || m["expires_in"] != 900.0 || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("login answer = %v, Cache-Control %q", m, r.Header.Get("Cache-Control"))
		}
		access, _ = m["access_token"].(string)
		refresh, _ = m["refresh_token"].(string)
		if access == "" || refresh == "" {
			t.Fatalf("login answer = %v", m)
		}
		return access, refresh
	}
	refresh := func(rt string) *Response {
		return e.Do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": rt})
	}

	t.Run("Login", func(t *testing.T) {
		access, _ := login(t)
		e.Must(200, "GET", "/v1/registrants", access, nil)
	})
	t.Run("BadLogin", func(t *testing.T) {
		wrong := e.Do("POST", "/v1/auth/login", "", map[string]any{"email": "reg@example.org", "password": "not the password"})
		unknown := e.Do("POST", "/v1/auth/login", "", map[string]any{"email": "nobody@example.org", "password": Password})
		wrong.WantError(t, 401, register.EUNAUTHORIZED)
		unknown.WantError(t, 401, register.EUNAUTHORIZED)
		if string(wrong.Body) != string(unknown.Body) {
			t.Fatalf("a wrong password (%s) can be told from an unknown email (%s)", wrong.Body, unknown.Body)
		}
	})
	t.Run("Rotation", func(t *testing.T) {
		_, first := login(t)
		r := refresh(first)
		if r.Status != 200 {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		second := m["refresh_token"].(string)
		if second == first {
			t.Fatal("refresh did not rotate the token")
		}
		e.Must(200, "GET", "/v1/registrants", m["access_token"].(string), nil)

		third := refresh(second)
		if third.Status != 200 {
			t.Fatalf("the rotated token does not work: %d %s", third.Status, third.Body)
		}
		latest := third.JSON(t)["refresh_token"].(string)

		refresh(first).WantError(t, 401, register.EUNAUTHORIZED)
		// Reuse of a rotated token means a copy is loose: the whole family ends.
		refresh(latest).WantError(t, 401, register.EUNAUTHORIZED)
		refresh(second).WantError(t, 401, register.EUNAUTHORIZED)
	})
	t.Run("OtherSessionsSurviveReuse", func(t *testing.T) {
		_, a := login(t)
		_, b := login(t)
		next := refresh(a).JSON(t)["refresh_token"].(string)
		refresh(a).WantError(t, 401, register.EUNAUTHORIZED)
		refresh(next).WantError(t, 401, register.EUNAUTHORIZED)
		if r := refresh(b); r.Status != 200 {
			t.Fatalf("another login's token was revoked: %d %s", r.Status, r.Body)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		_, rt := login(t)
		next := refresh(rt).JSON(t)["refresh_token"].(string)
		r := e.Do("POST", "/v1/auth/logout", "", map[string]any{"refresh_token": next})
		if r.Status != 204 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		refresh(next).WantError(t, 401, register.EUNAUTHORIZED)
		if r := e.Do("POST", "/v1/auth/logout", "", map[string]any{"refresh_token": "rt_unknown"}); r.Status != 204 {
			t.Fatalf("logout of an unknown token: %d %s", r.Status, r.Body)
		}
	})
	t.Run("RefreshExpires", func(t *testing.T) {
		_, rt := login(t)
		start := e.Now()
		defer e.Set(start)
		e.Advance(24*time.Hour + time.Second)
		refresh(rt).WantError(t, 401, register.EUNAUTHORIZED)
	})
	t.Run("BadRefreshBody", func(t *testing.T) {
		for name, body := range map[string]any{
			"Empty":   map[string]any{},
			"Unknown": map[string]any{"refresh_token": "rt_x", "user": 1},
			"Number":  map[string]any{"refresh_token": 42},
		} {
			if r := e.Do("POST", "/v1/auth/refresh", "", body); r.Status != 400 {
				t.Errorf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		refresh("rt_unknown").WantError(t, 401, register.EUNAUTHORIZED)
	})
}
