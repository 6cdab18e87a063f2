package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	registerhttp "github.com/probation-register/register/http"
	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// doKey sends a JSON request with an Idempotency-Key.
func (e *env) doKey(method, path, token, key string, body any) *Response {
	e.t.Helper()
	return e.DoWith(method, path, http.Header{"Authorization": {"Bearer " + token}, "Idempotency-Key": {key}}, body)
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.DB.Reader().QueryRow(query, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func applicant(family string) map[string]any {
	return map[string]any{"family_name": family, "given_names": "Ada", "date_of_birth": "1985-06-15", "email": "ada@example.org"}
}

func idempotentEnv(t *testing.T) *env {
	e := newEnv(t)
	e.Rebuild(func(s *registerhttp.Server) { s.Idempotency = e.DB })
	return e
}

func TestIdempotencyKey(t *testing.T) {
	t.Run("RetryReplaysTheAnswer", func(t *testing.T) {
		e := idempotentEnv(t)
		tok := e.Token(register.RoleRegistrar)
		first := e.doKey("POST", "/v1/registrants", tok, "key-1", applicant("Lovelace"))
		second := e.doKey("POST", "/v1/registrants", tok, "key-1", applicant("Lovelace"))
		if first.Status != 201 || second.Status != 201 {
			t.Fatalf("statuses %d, %d: %s %s", first.Status, second.Status, first.Body, second.Body)
		}
		if !bytes.Equal(first.Body, second.Body) || second.Header.Get("Idempotent-Replayed") != "true" || first.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("not a replay:\n%s %v\n%s %v", first.Body, first.Header, second.Body, second.Header)
		}
		if n := e.count(`SELECT COUNT(*) FROM registrants WHERE family_name = 'Lovelace'`); n != 1 {
			t.Fatalf("%d registrants, want 1", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'registrant.create'`); n != 1 {
			t.Fatalf("%d audit entries, want 1", n)
		}
	})
	t.Run("WithoutAKeyEachRequestWrites", func(t *testing.T) {
		e := idempotentEnv(t)
		tok := e.Token(register.RoleRegistrar)
		e.Must(201, "POST", "/v1/registrants", tok, applicant("Babbage"))
		e.Must(201, "POST", "/v1/registrants", tok, applicant("Babbage"))
		if n := e.count(`SELECT COUNT(*) FROM registrants WHERE family_name = 'Babbage'`); n != 2 {
			t.Fatalf("%d registrants, want 2", n)
		}
	})
	t.Run("SameKeyDifferentRequest", func(t *testing.T) {
		e := idempotentEnv(t)
		tok := e.Token(register.RoleRegistrar)
		e.doKey("POST", "/v1/registrants", tok, "k", applicant("One"))
		e.doKey("POST", "/v1/registrants", tok, "k", applicant("Two")).WantError(t, 422, register.EUNPROCESSABLE)
		if n := e.count(`SELECT COUNT(*) FROM registrants WHERE family_name = 'Two'`); n != 0 {
			t.Fatalf("%d registrants written for the refused request", n)
		}
	})
	t.Run("RefusedRequestsStoreNothing", func(t *testing.T) {
		e := idempotentEnv(t)
		tok := e.Token(register.RoleRegistrar)
		bad := applicant("Bad")
		bad["date_of_birth"] = "not a date"
		e.doKey("POST", "/v1/registrants", tok, "k", bad).WantError(t, 400, register.EINVALID)
		if r := e.doKey("POST", "/v1/registrants", tok, "k", applicant("Good")); r.Status != 201 {
			t.Fatalf("the corrected retry: status %d: %s", r.Status, r.Body)
		}
	})
	t.Run("KeysArePerUser", func(t *testing.T) {
		e := idempotentEnv(t)
		a, b := e.Token(register.RoleRegistrar), e.Token(register.RoleRegistrar)
		ra := e.doKey("POST", "/v1/registrants", a, "shared", applicant("Same"))
		rb := e.doKey("POST", "/v1/registrants", b, "shared", applicant("Same"))
		if ra.Status != 201 || rb.Status != 201 || rb.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("statuses %d, %d; replayed %q", ra.Status, rb.Status, rb.Header.Get("Idempotent-Replayed"))
		}
		if n := e.count(`SELECT COUNT(*) FROM registrants WHERE family_name = 'Same'`); n != 2 {
			t.Fatalf("%d registrants, want 2", n)
		}
	})
	t.Run("BadKey", func(t *testing.T) {
		e := idempotentEnv(t)
		tok := e.Token(register.RoleRegistrar)
		r := e.doKey("POST", "/v1/registrants", tok, string(bytes.Repeat([]byte("k"), 201)), applicant("Long"))
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "Idempotency-Key") == "" {
			t.Fatalf("no field named: %s", r.Body)
		}
	})
	t.Run("NoContentAnswers", func(t *testing.T) {
		e := idempotentEnv(t)
		reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
		_, tok := staffMember(e, reg, "Hopper", "Grace", "2027-03-01")
		cpd := e.Must(201, "POST", "/v1/me/cpd", tok, cpdEntry("2026-03-02", "participatory", 1.5))
		path := "/v1/me/cpd/" + jsonID(cpd["id"])
		for i := range 2 {
			if r := e.doKey("DELETE", path, tok, "del", nil); r.Status != 204 {
				t.Fatalf("delete %d: status %d: %s\n%s", i, r.Status, r.Body, e.Logs())
			}
		}
	})
	t.Run("OrganisationAPIKey", func(t *testing.T) {
		e := idempotentEnv(t)
		reg := e.Token(register.RoleRegistrar)
		_, key := e.Org(e.Token(register.RoleAdmin), "North Probation Service", "employer")
		po := e.Practitioner(reg, "Okafor", "Ada", 5, "2027-03-31")
		body := map[string]any{"register_number": po, "role": "PO", "type": "employed", "from": "2026-03-02"}
		first := e.doKey("POST", "/v1/engagements", key, "eng-1", body)
		second := e.doKey("POST", "/v1/engagements", key, "eng-1", body)
		if first.Status != 201 || second.Status != 201 || second.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(first.Body, second.Body) {
			t.Fatalf("not a replay: %d %s / %d %s", first.Status, first.Body, second.Status, second.Body)
		}
		if n := e.count(`SELECT COUNT(*) FROM audit_log WHERE action LIKE 'engagement.%'`); n != 1 {
			t.Fatalf("%d engagement audit entries, want 1", n)
		}
	})
	t.Run("ConcurrentSameKeyWritesOnce", func(t *testing.T) {
		e := idempotentEnv(t)
		tok := e.Token(register.RoleRegistrar)
		var wg sync.WaitGroup
		numbers := make(chan string, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.doKey("POST", "/v1/registrants", tok, "race", applicant("Racer"))
				switch r.Status {
				case 201:
					var m map[string]any
					_ = json.Unmarshal(r.Body, &m)
					numbers <- m["register_number"].(string)
				case 409:
				default:
					t.Errorf("status %d: %s", r.Status, r.Body)
				}
			}()
		}
		wg.Wait()
		close(numbers)
		seen := map[string]bool{}
		for n := range numbers {
			seen[n] = true
		}
		if len(seen) != 1 {
			t.Fatalf("answers name %d different registrants, want 1: %v", len(seen), seen)
		}
		if n := e.count(`SELECT COUNT(*) FROM registrants WHERE family_name = 'Racer'`); n != 1 {
			t.Fatalf("%d registrants, want 1", n)
		}
		if _, err := sqlite.NewAuditService(e.DB).VerifyAudit(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}
