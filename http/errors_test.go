package http_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	registerhttp "github.com/probation-register/register/http"
	"github.com/probation-register/register/register"
)

func TestBadBodies(t *testing.T) {
	e := newEnv(t)
	tok := e.Token(register.RoleRegistrar)
	admin := e.Token(register.RoleAdmin)
	n := e.Registrant(tok, "Body", "Betty")
	_, u := e.User("someone@example.org", register.RoleEmployer)

	endpoints := []struct {
		name, method, path, token string
	}{
		{"CreateRegistrant", "POST", "/v1/registrants", tok},
		{"UpdateRegistrant", "PATCH", "/v1/registrants/" + n, tok},
		{"AddQualification", "POST", "/v1/registrants/" + n + "/qualifications", tok},
		{"Admit", "POST", "/v1/registrants/" + n + "/registration/admit", tok},
		{"Lapse", "POST", "/v1/registrants/" + n + "/registration/lapse", tok},
		{"CreateUser", "POST", "/v1/users", admin},
		{"UpdateUser", "PATCH", "/v1/users/" + jsonID(u.ID), admin},
		{"Login", "POST", "/v1/auth/login", ""},
		{"Refresh", "POST", "/v1/auth/refresh", ""},
		{"Logout", "POST", "/v1/auth/logout", ""},
	}
	huge := `{"family_name":"` + strings.Repeat("a", registerhttp.MaxBodyBytes+1) + `"}`
	for _, ep := range endpoints {
		for _, c := range []struct {
			name, body string
			status     int
			code       string
			field      string
		}{
			{"Empty", "", 400, register.EINVALID, ""},
			{"Malformed", `{"family_name": "Roe",`, 400, register.EINVALID, ""},
			{"NotJSON", `family_name=Roe`, 400, register.EINVALID, ""},
			{"Array", `[{"family_name": "Roe"}]`, 400, register.EINVALID, ""},
			{"String", `"Roe"`, 400, register.EINVALID, ""},
			{"Null", `null`, 400, register.EINVALID, ""},
			{"TwoObjects", `{"reason": "a"} {"reason": "b"}`, 400, register.EINVALID, ""},
			{"UnknownField", `{"is_admin": true}`, 400, register.EINVALID, "is_admin"},
			{"Oversized", huge, 413, register.ETOOLARGE, ""},
		} {
			t.Run(ep.name+"/"+c.name, func(t *testing.T) {
				before := e.LastAuditID()
				r := e.Do(ep.method, ep.path, ep.token, c.body)
				if c.name == "Empty" {
					r = e.Do(ep.method, ep.path, ep.token, []byte{})
				}
				r.WantError(t, c.status, c.code)
				if c.field != "" && r.Field(t, c.field) == "" {
					t.Fatalf("%s not named: %s", c.field, r.Body)
				}
				if got := e.AuditSince(before); len(got) != 0 {
					t.Fatalf("a refused request wrote %v", got)
				}
			})
		}
	}

	fields := []struct {
		name, method, path, token string
		body                      map[string]any
		field                     string
	}{
		// wrong JSON types
		{"FamilyNameNumber", "POST", "/v1/registrants", tok, person("family_name", 5), "family_name"},
		{"PreviousNamesString", "POST", "/v1/registrants", tok, person("previous_names", "Betty Roe"), "previous_names"},
		{"DateOfBirthNumber", "POST", "/v1/registrants", tok, person("date_of_birth", 19850615), "date_of_birth"},
		{"EmailObject", "POST", "/v1/registrants", tok, person("email", map[string]any{"address": "x@example.org"}), "email"},
		{"LevelString", "POST", "/v1/registrants/" + n + "/qualifications", tok, map[string]any{"level": "5"}, "level"},
		{"LevelFraction", "POST", "/v1/registrants/" + n + "/qualifications", tok, map[string]any{"level": 3.5}, "level"},
		{"RegisteredUntilBool", "POST", "/v1/registrants/" + n + "/registration/admit", tok, map[string]any{"registered_until": true}, "registered_until"},
		{"ReasonNumber", "POST", "/v1/registrants/" + n + "/registration/lapse", tok, map[string]any{"reason": 1}, "reason"},
		{"PasswordNumber", "POST", "/v1/auth/login", "", map[string]any{"email": "a@example.org", "password": 123456789012}, "password"},
		// bad dates
		{"DateOfBirthImpossible", "POST", "/v1/registrants", tok, person("date_of_birth", "1985-02-30"), "date_of_birth"},
		{"DateOfBirthBritish", "POST", "/v1/registrants", tok, person("date_of_birth", "15/06/1985"), "date_of_birth"},
		{"DateOfBirthShort", "POST", "/v1/registrants", tok, person("date_of_birth", "1985-6-15"), "date_of_birth"},
		{"DateOfBirthMissing", "POST", "/v1/registrants", tok, person("date_of_birth", ""), "date_of_birth"},
		{"DateOfBirthTooRecent", "POST", "/v1/registrants", tok, person("date_of_birth", "2015-01-01"), "date_of_birth"},
		{"DateOfBirthFuture", "POST", "/v1/registrants", tok, person("date_of_birth", "2030-01-01"), "date_of_birth"},
		{"DateOfBirthTooOld", "POST", "/v1/registrants", tok, person("date_of_birth", "1900-01-01"), "date_of_birth"},
		{"PatchDateOfBirth", "PATCH", "/v1/registrants/" + n, tok, map[string]any{"date_of_birth": "1985-13-01"}, "date_of_birth"},
		{"AwardedOnBad", "POST", "/v1/registrants/" + n + "/qualifications", tok, map[string]any{"level": 3, "title": "T", "awarding_body": "B", "awarded_on": "July 2024", "certificate_ref": "C", "state": "claimed"}, "awarded_on"},
		{"AwardedOnMissing", "POST", "/v1/registrants/" + n + "/qualifications", tok, map[string]any{"level": 3, "title": "T", "awarding_body": "B", "certificate_ref": "C", "state": "claimed"}, "awarded_on"},
		{"RegisteredUntilBad", "POST", "/v1/registrants/" + n + "/registration/admit", tok, map[string]any{"registered_until": "2027-02-29"}, "registered_until"},
		// bad emails
		{"EmailNoAt", "POST", "/v1/registrants", tok, person("email", "betty.example.org"), "email"},
		{"EmailNoDomain", "POST", "/v1/registrants", tok, person("email", "betty@"), "email"},
		{"EmailSpace", "POST", "/v1/registrants", tok, person("email", "betty roe@example.org"), "email"},
		{"EmailMissing", "POST", "/v1/registrants", tok, person("email", ""), "email"},
		{"EmailTooLong", "POST", "/v1/registrants", tok, person("email", strings.Repeat("b", 250)+"@example.org"), "email"},
		{"PatchEmail", "PATCH", "/v1/registrants/" + n, tok, map[string]any{"email": "not-an-email"}, "email"},
		{"UserEmail", "POST", "/v1/users", admin, map[string]any{"email": "@example.org", "role": "registrar", "password": Password}, "email"},
		// names
		{"FamilyNameMissing", "POST", "/v1/registrants", tok, person("family_name", ""), "family_name"},
		{"FamilyNameBlank", "POST", "/v1/registrants", tok, person("family_name", "   "), "family_name"},
		{"FamilyNameTooLong", "POST", "/v1/registrants", tok, person("family_name", strings.Repeat("é", 101)), "family_name"},
		{"GivenNamesControl", "POST", "/v1/registrants", tok, person("given_names", "Betty\u0000"), "given_names"},
		{"TooManyPreviousNames", "POST", "/v1/registrants", tok, person("previous_names", make([]string, 21)), "previous_names"},
	}
	for _, c := range fields {
		t.Run(c.name, func(t *testing.T) {
			before := e.LastAuditID()
			r := e.Do(c.method, c.path, c.token, c.body)
			r.WantError(t, 400, register.EINVALID)
			if r.Field(t, c.field) == "" {
				t.Fatalf("%s not named: %s", c.field, r.Body)
			}
			if got := e.AuditSince(before); len(got) != 0 {
				t.Fatalf("a refused request wrote %v", got)
			}
		})
	}

	t.Run("BlankPreviousName", func(t *testing.T) {
		r := e.Do("POST", "/v1/registrants", tok, person("previous_names", []string{"Betty Roe", ""}))
		d := r.WantError(t, 400, register.EINVALID)
		f, _ := d["fields"].(map[string]any)
		named := false
		for k := range f {
			named = named || strings.HasPrefix(k, "previous_names")
		}
		if !named {
			t.Fatalf("previous_names not named: %s", r.Body)
		}
	})
	t.Run("PreviousNameNumber", func(t *testing.T) {
		r := e.Do("POST", "/v1/registrants", tok, person("previous_names", []any{"Betty Roe", 7}))
		d := r.WantError(t, 400, register.EINVALID)
		if !strings.Contains(jsonID(d["fields"]), "previous_names") {
			t.Fatalf("previous_names not named: %s", r.Body)
		}
	})
	t.Run("NoRoute", func(t *testing.T) {
		r := e.Do("GET", "/v1/nothing-here", tok, nil)
		r.WantError(t, 404, register.ENOTFOUND)
		if r.Header.Get("X-Request-ID") == "" {
			t.Error("an error answer has no X-Request-ID")
		}
		e.Do("POST", "/v1/registrants/"+n+"/registration/suspend", tok, map[string]any{}).WantError(t, 404, register.ENOTFOUND)
	})
	t.Run("WrongMethod", func(t *testing.T) {
		e.Do("DELETE", "/v1/registrants/"+n, tok, nil).WantError(t, 405, "method_not_allowed")
		e.Do("PUT", "/v1/public/search", "", nil).WantError(t, 405, "method_not_allowed")
	})
	t.Run("NothingWasCreated", func(t *testing.T) {
		items := e.Must(200, "GET", "/v1/registrants", tok, nil)["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("bad requests created registrants: %v", items)
		}
	})
	t.Run("NoServerErrors", func(t *testing.T) {
		if log := e.Logs(); strings.Contains(log, `"level":"ERROR"`) {
			t.Fatalf("the server logged errors: %s", log)
		}
	})
}

// person is a good new-registrant body with one field replaced.
func person(field string, value any) map[string]any {
	m := map[string]any{"family_name": "Roe", "given_names": "Betty", "date_of_birth": "1985-06-15", "email": "betty@example.org"}
	m[field] = value
	return m
}

// TestCancelledRequest sends requests whose client has already gone away
// through the real handler: each is answered with a non-5xx status, writes
// nothing, and is logged at debug level, never as an internal error.
func TestCancelledRequest(t *testing.T) {
	e := newEnv(t)
	tok := e.Token(register.RoleRegistrar)
	n := e.Registrant(tok, "Gone", "Gerry")
	for _, c := range []struct {
		name, method, path, token, body string
	}{
		{"PublicRecord", "GET", "/v1/public/registrants/" + n, "", ""},
		{"PublicSearch", "GET", "/v1/public/search?name=gone", "", ""},
		{"Registrant", "GET", "/v1/registrants/" + n, tok, ""},
		{"CreateRegistrant", "POST", "/v1/registrants", tok,
			`{"family_name":"Roe","given_names":"Betty","date_of_birth":"1985-06-15","email":"betty@example.org"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			logged, audited := e.Log.Len(), e.LastAuditID()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			req := httptest.NewRequestWithContext(ctx, c.method, c.path, strings.NewReader(c.body))
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			rec := httptest.NewRecorder()
			e.Server.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
			}
			log := e.Log.String()[logged:]
			if strings.Contains(log, `"level":"ERROR"`) || strings.Contains(log, "internal error") {
				t.Fatalf("a cancelled request was logged as an error: %s", log)
			}
			if !strings.Contains(log, `"level":"DEBUG","msg":"request cancelled by the client"`) {
				t.Fatalf("the cancellation was not logged at debug level: %s", log)
			}
			if !strings.Contains(log, `"level":"DEBUG","msg":"request"`) || strings.Contains(log, `"level":"INFO","msg":"request"`) {
				t.Fatalf("the request line of a cancelled request is not at debug level: %s", log)
			}
			if got := e.AuditSince(audited); len(got) != 0 {
				t.Fatalf("a cancelled request wrote %v", got)
			}
		})
	}
	t.Run("LiveRequestsStillWork", func(t *testing.T) {
		r := e.Do("GET", "/v1/public/registrants/"+n, "", nil)
		if r.Status != http.StatusNotFound || !bytes.Contains(r.Body, []byte(register.ENOTFOUND)) {
			t.Fatalf("an applicant's public record: %d %s", r.Status, r.Body)
		}
	})
}
