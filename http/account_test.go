package http_test

import (
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
)

// activateAccount issues an activation code for the registrant, sets
// Password with it and signs in, returning the registrant's access token.
func activateAccount(e *env, registrar, number string) string {
	e.t.Helper()
	code := e.Must(201, "POST", "/v1/registrants/"+number+"/account", registrar, nil)["activation_code"].(string)
	u := e.Must(201, "POST", "/v1/auth/activate", "", map[string]any{"code": code, "password": Password})
	return signIn(e, u["email"].(string))
}

// signIn logs a user in with Password and returns a fresh access token:
// moving the clock past an access token's 15 minutes needs a new one.
func signIn(e *env, email string) string {
	e.t.Helper()
	return e.Must(200, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": Password})["access_token"].(string)
}

// staffMember is a practitioner on the register who has their own account.
func staffMember(e *env, registrar, family, given, until string) (number, token string) {
	e.t.Helper()
	number = e.Practitioner(registrar, family, given, 3, until)
	return number, activateAccount(e, registrar, number)
}

func TestActivation(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n := e.Practitioner(reg, "Mensah", "Kofi", 5, "2027-03-01")

	t.Run("OnlyRegistrarsIssue", func(t *testing.T) {
		for _, role := range []register.Role{register.RoleEmployer, register.RoleAgency, register.RolePanelMember, register.RoleRegistrant} {
			e.Do("POST", "/v1/registrants/"+n+"/account", e.Token(role), nil).WantError(t, 403, register.EFORBIDDEN)
		}
		e.Do("POST", "/v1/registrants/"+n+"/account", "", nil).WantError(t, 401, register.EUNAUTHORIZED)
	})
	t.Run("BadAndUnknownNumbers", func(t *testing.T) {
		e.Do("POST", "/v1/registrants/PR1234/account", reg, nil).WantError(t, 400, register.EINVALID)
		e.Do("POST", "/v1/registrants/"+otherNumber(n)+"/account", reg, nil).WantError(t, 404, register.ENOTFOUND)
	})

	m := e.Must(201, "POST", "/v1/registrants/"+n+"/account", reg, nil)
	code := m["activation_code"].(string)
	t.Run("CodeValidSevenDays", func(t *testing.T) {
		if want := e.Now().Add(7 * 24 * time.Hour).Format(time.RFC3339); m["expires_at"] != want {
			t.Fatalf("expires_at = %v, want %s", m["expires_at"], want)
		}
		if len(code) < 20 {
			t.Fatalf("code %q is too short to be unguessable", code)
		}
	})
	t.Run("CodeStoredHashed", func(t *testing.T) {
		var stored string
		if err := e.DB.Reader().QueryRow(`SELECT code_hash FROM activation_codes ORDER BY id DESC LIMIT 1`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, code) || strings.Contains(stored, strings.ReplaceAll(code, "-", "")) {
			t.Fatal("the activation code is stored in clear")
		}
	})
	t.Run("BadFields", func(t *testing.T) {
		r := e.Do("POST", "/v1/auth/activate", "", map[string]any{"password": Password})
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "code") == "" {
			t.Fatalf("code not named: %s", r.Body)
		}
		r = e.Do("POST", "/v1/auth/activate", "", map[string]any{"code": code, "password": "short"})
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "password") == "" {
			t.Fatalf("password not named: %s", r.Body)
		}
		r = e.Do("POST", "/v1/auth/activate", "", map[string]any{"code": code, "password": "KOFI.MENSAH@example.org"})
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "password") == "" {
			t.Fatalf("the email was accepted as a password: %s", r.Body)
		}
		e.Do("POST", "/v1/auth/activate", "", map[string]any{"code": code, "password": Password, "role": "admin"}).WantError(t, 400, register.EINVALID)
	})
	t.Run("UnknownCode", func(t *testing.T) {
		e.Do("POST", "/v1/auth/activate", "", map[string]any{"code": "AAAA-BBBB-CCCC-DDDD-EEEE", "password": Password}).
			WantError(t, 401, register.EUNAUTHORIZED)
	})
	t.Run("ActivateThenLogIn", func(t *testing.T) {
		// Codes are forgiving of case and spacing as typed from a letter.
		typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
		u := e.Must(201, "POST", "/v1/auth/activate", "", map[string]any{"code": typed, "password": Password})
		if u["role"] != "registrant" || u["email"] != "kofi.mensah@example.org" {
			t.Fatalf("account = %v", u)
		}
		tok := e.Must(200, "POST", "/v1/auth/login", "", map[string]any{"email": "kofi.mensah@example.org", "password": Password})["access_token"].(string)
		e.Must(200, "GET", "/v1/me/cpd", tok, nil)
	})
	t.Run("SingleUse", func(t *testing.T) {
		e.Do("POST", "/v1/auth/activate", "", map[string]any{"code": code, "password": "another long password"}).
			WantError(t, 401, register.EUNAUTHORIZED)
		e.Do("POST", "/v1/auth/login", "", map[string]any{"email": "kofi.mensah@example.org", "password": "another long password"}).
			WantError(t, 401, register.EUNAUTHORIZED)
	})
	t.Run("OneAccountEach", func(t *testing.T) {
		e.Do("POST", "/v1/registrants/"+n+"/account", reg, nil).WantError(t, 409, register.ECONFLICT)
	})

	t.Run("Expires", func(t *testing.T) {
		a := e.Practitioner(reg, "Adeyemi", "Tola", 3, "2027-03-01")
		b := e.Practitioner(reg, "Brennan", "Siobhan", 3, "2027-03-01")
		codeA := e.Must(201, "POST", "/v1/registrants/"+a+"/account", reg, nil)["activation_code"]
		codeB := e.Must(201, "POST", "/v1/registrants/"+b+"/account", reg, nil)["activation_code"]
		e.Advance(7*24*time.Hour - time.Minute)
		e.Must(201, "POST", "/v1/auth/activate", "", map[string]any{"code": codeA, "password": Password})
		e.Advance(2 * time.Minute)
		e.Do("POST", "/v1/auth/activate", "", map[string]any{"code": codeB, "password": Password}).WantError(t, 401, register.EUNAUTHORIZED)
		reg = e.Token(register.RoleRegistrar) // the old access token expired with the week
	})
	t.Run("NewCodeWithdrawsOld", func(t *testing.T) {
		c := e.Practitioner(reg, "Clarke", "Dominic", 3, "2027-06-01")
		old := e.Must(201, "POST", "/v1/registrants/"+c+"/account", reg, nil)["activation_code"]
		fresh := e.Must(201, "POST", "/v1/registrants/"+c+"/account", reg, nil)["activation_code"]
		e.Do("POST", "/v1/auth/activate", "", map[string]any{"code": old, "password": Password}).WantError(t, 401, register.EUNAUTHORIZED)
		e.Must(201, "POST", "/v1/auth/activate", "", map[string]any{"code": fresh, "password": Password})
	})
	t.Run("Audited", func(t *testing.T) {
		d := e.Practitioner(reg, "Doyle", "Aoife", 3, "2027-06-01")
		since := e.LastAuditID()
		activateAccount(e, reg, d)
		var actions []string
		for _, a := range e.AuditSince(since) {
			actions = append(actions, a.Action)
		}
		got := strings.Join(actions, " ")
		for _, want := range []string{"account.issue_activation", "user.create", "account.create", "account.activate"} {
			if !strings.Contains(got, want) {
				t.Fatalf("audit actions %q lack %s", got, want)
			}
		}
	})
}

func TestRegistrantRoutesNeedALinkedRegistrant(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	t.Run("RegistrarOnMe", func(t *testing.T) {
		for _, p := range []string{"/v1/me/cpd", "/v1/me/cpd/summary", "/v1/me/renewal", "/v1/me/cpd-audit"} {
			e.Do("GET", p, reg, nil).WantError(t, 403, register.EFORBIDDEN)
		}
		e.Do("POST", "/v1/me/cpd", reg, map[string]any{"date": "2026-03-02", "title": "Course", "category": "participatory", "hours": 1}).
			WantError(t, 403, register.EFORBIDDEN)
	})
	t.Run("EveryOtherRole", func(t *testing.T) {
		for _, role := range []register.Role{register.RoleAdmin, register.RoleEmployer, register.RoleAgency, register.RolePanelMember} {
			e.Do("GET", "/v1/me/cpd", e.Token(role), nil).WantError(t, 403, register.EFORBIDDEN)
		}
	})
	t.Run("RegistrantRoleWithoutRecord", func(t *testing.T) {
		tok, _ := e.User("unlinked@example.org", register.RoleRegistrant)
		e.Do("GET", "/v1/me/cpd", tok, nil).WantError(t, 403, register.EFORBIDDEN)
	})
	t.Run("NoToken", func(t *testing.T) {
		e.Do("GET", "/v1/me/cpd", "", nil).WantError(t, 401, register.EUNAUTHORIZED)
	})
}

// otherNumber is a well-formed register number different from n.
func otherNumber(n string) string {
	for serial := 0; ; serial++ {
		if m := register.NumberFromSerial(serial); m != n {
			return m
		}
	}
}
