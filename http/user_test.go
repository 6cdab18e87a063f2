package http_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/probation-register/register/register"
)

func TestUsers(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.User("root@example.org", register.RoleAdmin)

	var ids []string
	for _, c := range []struct{ email, role string }{
		{"reg.one@example.org", "registrar"},
		{"panel@example.org", "panel_member"},
		{"emp@example.org", "employer"},
		{"reg.two@example.org", "registrar"},
	} {
		r := e.Do("POST", "/v1/users", admin, map[string]any{"email": c.email, "role": c.role, "password": Password})
		if r.Status != 201 {
			t.Fatalf("create %s: %d %s", c.email, r.Status, r.Body)
		}
		m := r.JSON(t)
		if m["email"] != c.email || m["role"] != c.role || m["disabled"] != false || m["id"] == nil {
			t.Fatalf("created user = %v", m)
		}
		for _, k := range []string{"password", "password_hash"} {
			if _, ok := m[k]; ok || strings.Contains(string(r.Body), "argon2id") {
				t.Fatalf("the answer holds the password: %s", r.Body)
			}
		}
		ids = append(ids, jsonID(m["id"]))
	}

	t.Run("NewUserCanLogIn", func(t *testing.T) {
		m := e.Must(200, "POST", "/v1/auth/login", "", map[string]any{"email": "reg.one@example.org", "password": Password})
		e.Must(200, "GET", "/v1/registrants", m["access_token"].(string), nil)
	})

	list := func(t *testing.T, query string) ([]string, any) {
		t.Helper()
		r := e.Do("GET", "/v1/users"+query, admin, nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", query, r.Status, r.Body)
		}
		m := r.JSON(t)
		var emails []string
		for _, it := range m["items"].([]any) {
			u := it.(map[string]any)
			if _, ok := u["password_hash"]; ok {
				t.Fatalf("listed with its password hash: %v", u)
			}
			emails = append(emails, u["email"].(string))
		}
		return emails, m["next"]
	}
	t.Run("List", func(t *testing.T) {
		got, next := list(t, "")
		want := []string{"root@example.org", "reg.one@example.org", "panel@example.org", "emp@example.org", "reg.two@example.org"}
		if !slices.Equal(got, want) || next != nil {
			t.Fatalf("users = %v next %v, want %v", got, next, want)
		}
	})
	t.Run("ListByRole", func(t *testing.T) {
		if got, _ := list(t, "?role=registrar"); !slices.Equal(got, []string{"reg.one@example.org", "reg.two@example.org"}) {
			t.Fatalf("registrars = %v", got)
		}
	})
	t.Run("ListPages", func(t *testing.T) {
		first, next := list(t, "?limit=2")
		if !slices.Equal(first, []string{"root@example.org", "reg.one@example.org"}) || next == nil {
			t.Fatalf("first page = %v next %v", first, next)
		}
		second, next := list(t, "?limit=2&after="+next.(string))
		if !slices.Equal(second, []string{"panel@example.org", "emp@example.org"}) || next == nil {
			t.Fatalf("second page = %v next %v", second, next)
		}
		third, next := list(t, "?limit=2&after="+next.(string))
		if !slices.Equal(third, []string{"reg.two@example.org"}) || next != nil {
			t.Fatalf("third page = %v next %v", third, next)
		}
	})
	t.Run("PatchRole", func(t *testing.T) {
		m := e.Must(200, "PATCH", "/v1/users/"+ids[2], admin, map[string]any{"role": "agency"})
		if m["role"] != "agency" || m["email"] != "emp@example.org" {
			t.Fatalf("patched = %v", m)
		}
		if got, _ := list(t, "?role=agency"); !slices.Equal(got, []string{"emp@example.org"}) {
			t.Fatalf("agency users = %v", got)
		}
	})
	t.Run("PatchDisabled", func(t *testing.T) {
		m := e.Must(200, "PATCH", "/v1/users/"+ids[1], admin, map[string]any{"disabled": true})
		if m["disabled"] != true || m["role"] != "panel_member" {
			t.Fatalf("patched = %v", m)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		for _, c := range []struct {
			name, method, path string
			body               any
			status             int
			code, field        string
		}{
			{"DuplicateEmail", "POST", "/v1/users", map[string]any{"email": "reg.one@example.org", "role": "registrar", "password": Password}, 409, register.ECONFLICT, ""},
			{"DuplicateEmailOtherCase", "POST", "/v1/users", map[string]any{"email": "REG.ONE@example.org", "role": "registrar", "password": Password}, 409, register.ECONFLICT, ""},
			{"BadEmail", "POST", "/v1/users", map[string]any{"email": "not-an-email", "role": "registrar", "password": Password}, 400, register.EINVALID, "email"},
			{"BadRole", "POST", "/v1/users", map[string]any{"email": "x@example.org", "role": "superuser", "password": Password}, 400, register.EINVALID, "role"},
			{"ShortPassword", "POST", "/v1/users", map[string]any{"email": "x@example.org", "role": "registrar", "password": "short"}, 400, register.EINVALID, "password"},
			{"PasswordIsEmail", "POST", "/v1/users", map[string]any{"email": "longer.address@example.org", "role": "registrar", "password": "longer.address@example.org"}, 400, register.EINVALID, "password"},
			{"MissingPassword", "POST", "/v1/users", map[string]any{"email": "x@example.org", "role": "registrar"}, 400, register.EINVALID, "password"},
			{"ListBadRole", "GET", "/v1/users?role=king", nil, 400, register.EINVALID, "role"},
			{"ListBadLimit", "GET", "/v1/users?limit=-1", nil, 400, register.EINVALID, "limit"},
			{"PatchBadRole", "PATCH", "/v1/users/" + ids[0], map[string]any{"role": "king"}, 400, register.EINVALID, "role"},
			{"PatchDisabledText", "PATCH", "/v1/users/" + ids[0], map[string]any{"disabled": "yes"}, 400, register.EINVALID, "disabled"},
			{"PatchNothing", "PATCH", "/v1/users/" + ids[0], map[string]any{}, 400, register.EINVALID, ""},
			{"PatchUnknownUser", "PATCH", "/v1/users/99999", map[string]any{"role": "agency"}, 404, register.ENOTFOUND, ""},
			{"PatchBadID", "PATCH", "/v1/users/abc", map[string]any{"role": "agency"}, 404, register.ENOTFOUND, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := e.LastAuditID()
				r := e.Do(c.method, c.path, admin, c.body)
				r.WantError(t, c.status, c.code)
				if c.field != "" && r.Field(t, c.field) == "" {
					t.Fatalf("%s not named: %s", c.field, r.Body)
				}
				if got := e.AuditSince(before); len(got) != 0 {
					t.Fatalf("a refused request wrote %v", got)
				}
			})
		}
	})
}

// TestLastAdminStays: the register can never be left without an active admin.
func TestLastAdminStays(t *testing.T) {
	e := newEnv(t)
	admin, root := e.User("root@example.org", register.RoleAdmin)
	id := jsonID(root.ID)
	for name, body := range map[string]map[string]any{
		"Disable": {"disabled": true},
		"Demote":  {"role": "registrar"},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.Do("PATCH", "/v1/users/"+id, admin, body)
			if r.Status != 409 || !strings.Contains(string(r.Body), "last active admin") {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
		})
	}
	t.Run("AllowedWithAnotherAdmin", func(t *testing.T) {
		e.User("second@example.org", register.RoleAdmin)
		e.Must(200, "PATCH", "/v1/users/"+id, admin, map[string]any{"role": "registrar"})
	})
}
