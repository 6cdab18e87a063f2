package http_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/probation-register/register/register"
)

func TestOrganisations(t *testing.T) {
	e := newEnv(t)
	admin := e.Token(register.RoleAdmin)

	t.Run("only an admin creates one", func(t *testing.T) {
		e.Do("POST", "/v1/organisations", e.Token(register.RoleRegistrar), map[string]any{"name": "X", "kind": "employer"}).WantError(t, 403, register.EFORBIDDEN)
		r := e.Do("POST", "/v1/organisations", admin, map[string]any{"name": "X", "kind": "charity"})
		r.WantError(t, 400, register.EINVALID)
		if r.Field(t, "kind") == "" {
			t.Fatalf("no reason for kind: %s", r.Body)
		}
	})

	aID, aKey := e.Org(admin, "North Probation Service", "employer")
	bID, bKey := e.Org(admin, "Temps Ltd", "agency")

	t.Run("an API key is shown once and listed by prefix", func(t *testing.T) {
		if !strings.HasPrefix(aKey, "npr_") || len(aKey) != 4+64 {
			t.Fatalf("key %q: want npr_ and 32 bytes in hex", aKey)
		}
		m := e.Must(200, "GET", "/v1/organisations/"+aID+"/api-keys", aKey, nil)
		items := m["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("keys: %v", items)
		}
		k := items[0].(map[string]any)
		if _, shown := k["key"]; shown || !strings.HasPrefix(aKey, k["prefix"].(string)) {
			t.Fatalf("listed key %v: want the prefix and never the secret", k)
		}
	})

	t.Run("an organisation cannot see or change another's keys", func(t *testing.T) {
		bKeys := e.Must(200, "GET", "/v1/organisations/"+bID+"/api-keys", bKey, nil)["items"].([]any)
		bKeyID := jsonID(bKeys[0].(map[string]any)["id"])
		e.Do("GET", "/v1/organisations/"+bID, aKey, nil).WantError(t, 404, register.ENOTFOUND)
		e.Do("GET", "/v1/organisations/"+bID+"/api-keys", aKey, nil).WantError(t, 404, register.ENOTFOUND)
		e.Do("POST", "/v1/organisations/"+bID+"/api-keys", aKey, map[string]any{}).WantError(t, 404, register.ENOTFOUND)
		e.Do("DELETE", "/v1/organisations/"+bID+"/api-keys/"+bKeyID, aKey, nil).WantError(t, 404, register.ENOTFOUND)
		// B's key id under A's own path is no key of A's.
		e.Do("DELETE", "/v1/organisations/"+aID+"/api-keys/"+bKeyID, aKey, nil).WantError(t, 404, register.ENOTFOUND)
		e.Must(200, "GET", "/v1/engagements", bKey, nil)
	})

	t.Run("an API key works until revoked and never after", func(t *testing.T) {
		k := e.Must(201, "POST", "/v1/organisations/"+aID+"/api-keys", aKey, map[string]any{"name": "payroll"})
		key := k["key"].(string)
		e.Must(200, "GET", "/v1/engagements", key, nil)
		r := e.Must(200, "DELETE", "/v1/organisations/"+aID+"/api-keys/"+jsonID(k["id"]), aKey, nil)
		if r["revoked_at"] == nil {
			t.Fatalf("not revoked: %v", r)
		}
		e.Do("GET", "/v1/engagements", key, nil).WantError(t, 401, register.EUNAUTHORIZED)
		e.Do("POST", "/v1/checks", key, map[string]any{"purpose": "periodic", "items": []any{map[string]any{"register_number": "PR0000000"}}}).WantError(t, 401, register.EUNAUTHORIZED)
		e.Must(200, "GET", "/v1/engagements", aKey, nil)
	})

	t.Run("an unknown or forged key is refused", func(t *testing.T) {
		e.Do("GET", "/v1/engagements", "npr_"+strings.Repeat("0", 64), nil).WantError(t, 401, register.EUNAUTHORIZED)
		e.Do("GET", "/v1/engagements", "npr_"+strings.Repeat("0", 500), nil).WantError(t, 401, register.EUNAUTHORIZED)
	})

	t.Run("users act for their own organisation only", func(t *testing.T) {
		a, _ := strconv.ParseInt(aID, 10, 64)
		user := e.OrgUser("hr@north.example", register.RoleEmployer, a)
		e.Must(200, "GET", "/v1/organisations/"+aID+"/api-keys", user, nil)
		e.Do("GET", "/v1/organisations/"+bID+"/api-keys", user, nil).WantError(t, 404, register.ENOTFOUND)
		e.Must(200, "GET", "/v1/engagements", user, nil)
		// An employer user bound to no organisation acts for none.
		e.Do("GET", "/v1/engagements", e.Token(register.RoleEmployer), nil).WantError(t, 403, register.EFORBIDDEN)
		e.Do("GET", "/v1/engagements", e.Token(register.RoleRegistrar), nil).WantError(t, 403, register.EFORBIDDEN)
		e.Do("GET", "/v1/engagements", "", nil).WantError(t, 401, register.EUNAUTHORIZED)
	})

	t.Run("a user cannot name an organisation that does not exist", func(t *testing.T) {
		u := &register.User{Email: "ghost@example.org", Role: register.RoleAgency, OrganisationID: 999}
		err := e.Server.Users.CreateUser(register.NewContextWithActor(context.Background(), register.CLIActor), u, "x")
		if register.ErrorCode(err) != register.EINVALID {
			t.Fatalf("err %v, want %s", err, register.EINVALID)
		}
	})
}

// orgSpecFixture adds two organisations to the TestOpenAPI fixture (ids 1,
// an employer, and 2, an agency) and binds the fixture's employer and
// agency users to them, so that the generated probes reach the handlers.
func orgSpecFixture(e *env, fx map[string]string) {
	e.t.Helper()
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	for i, kind := range []register.OrgKind{register.OrgEmployer, register.OrgAgency} {
		o := &register.Organisation{Name: "Fixture " + string(kind), Kind: kind}
		if err := e.Server.Organisations.CreateOrganisation(ctx, o); err != nil {
			e.t.Fatal(err)
		}
		if o.ID != int64(i+1) {
			e.t.Fatalf("fixture organisation has id %d, want %d", o.ID, i+1)
		}
		if _, err := e.DB.Writer().Exec(`UPDATE users SET organisation_id = ? WHERE email = ?`, o.ID, string(kind)+"@example.org"); err != nil {
			e.t.Fatal(err)
		}
	}
}

// orgSpecCases are the TestOpenAPI rows for organisations, engagements,
// checks and receipts. They run late, on a clock a year on: they make
// their own users.
func orgSpecCases() []specCase {
	return []specCase{
		{name: "create organisation", before: func(e *env, fx map[string]string) {
			fx["org_admin"], _ = e.User("org.admin@example.org", register.RoleAdmin)
			fx["org_employer"] = e.OrgUser("org.employer@example.org", register.RoleEmployer, 1)
			fx["org_agency"] = e.OrgUser("org.agency@example.org", register.RoleAgency, 2)
			reg, _ := e.User("org.registrar@example.org", register.RoleRegistrar)
			fx["org_pract"] = e.Practitioner(reg, "Engaged", "Esme", 5, register.DateOf(e.Now()).AddDate(1, 0, 0).String())
			fx["today"] = register.DateOf(e.Now()).String()
		}, method: "POST", path: "/v1/organisations", as: "org_admin", body: map[string]any{"name": "Midlands Probation", "kind": "employer"}, status: 201, save: map[string]string{"org": "id"}},
		{name: "create organisation bad kind", method: "POST", path: "/v1/organisations", as: "org_admin", body: map[string]any{"name": "X", "kind": "charity"}, status: 400, request: specRejects},
		{name: "get organisation", method: "GET", path: "/v1/organisations/{org}", as: "org_admin", status: 200},
		{name: "get own organisation", method: "GET", path: "/v1/organisations/1", as: "org_employer", status: 200},
		{name: "get another organisation", method: "GET", path: "/v1/organisations/2", as: "org_employer", status: 404},
		{name: "create API key", method: "POST", path: "/v1/organisations/1/api-keys", as: "org_employer", body: map[string]any{"name": "payroll"}, status: 201, save: map[string]string{"org_key": "key", "org_key_id": "id"}},
		{name: "create API key long name", method: "POST", path: "/v1/organisations/1/api-keys", as: "org_employer", body: map[string]any{"name": strings.Repeat("k", 101)}, status: 400, request: specRejects},
		{name: "create API key for another", method: "POST", path: "/v1/organisations/1/api-keys", as: "org_agency", body: map[string]any{}, status: 404},
		{name: "list API keys", method: "GET", path: "/v1/organisations/1/api-keys", as: "org_key", status: 200},
		{name: "list another's API keys", method: "GET", path: "/v1/organisations/2/api-keys", as: "org_key", status: 404},
		{name: "revoke another's API key", method: "DELETE", path: "/v1/organisations/1/api-keys/{org_key_id}", as: "org_agency", status: 404},
		{name: "create engagement", method: "POST", path: "/v1/engagements", as: "org_agency", body: map[string]any{"register_number": "{org_pract}", "role": "PO", "type": "agency_placement", "from": "{today}"}, status: 201, save: map[string]string{"eng": "id"}},
		{name: "create engagement bad role", method: "POST", path: "/v1/engagements", as: "org_agency", body: map[string]any{"register_number": "{org_pract}", "role": "boss", "type": "employed", "from": "{today}"}, status: 400, request: specRejects},
		{name: "create engagement before admission", method: "POST", path: "/v1/engagements", as: "org_agency", body: map[string]any{"register_number": "{org_pract}", "role": "PO", "type": "employed", "from": "2020-01-01"}, status: 422},
		{name: "list engagements", method: "GET", path: "/v1/engagements", as: "org_key", status: 200, check: func(t *testing.T, m map[string]any) {
			if n := len(m["items"].([]any)); n != 0 {
				t.Errorf("the employer sees %d of the agency's engagements", n)
			}
		}},
		{name: "get engagement", method: "GET", path: "/v1/engagements/{eng}", as: "org_agency", status: 200},
		{name: "get another's engagement", method: "GET", path: "/v1/engagements/{eng}", as: "org_employer", status: 404},
		{name: "end another's engagement", method: "POST", path: "/v1/engagements/{eng}/end", as: "org_employer", body: map[string]any{"until": "{today}"}, status: 404},
		{name: "end engagement bad date", method: "POST", path: "/v1/engagements/{eng}/end", as: "org_agency", body: map[string]any{"until": "soon"}, status: 400, request: specRejects},
		{name: "end engagement", method: "POST", path: "/v1/engagements/{eng}/end", as: "org_agency", body: map[string]any{"until": "{today}"}, status: 200},
		{name: "end engagement again", method: "POST", path: "/v1/engagements/{eng}/end", as: "org_agency", body: map[string]any{"until": "{today}"}, status: 409},
		{name: "bulk check", method: "POST", path: "/v1/checks", as: "org_key", body: map[string]any{"purpose": "pre_employment", "items": []any{
			map[string]any{"register_number": "{org_pract}", "family_name": "Engaged"}, map[string]any{"register_number": "PR1"}, map[string]any{"register_number": "{unknown}"}}}, status: 200},
		{name: "bulk check bad purpose", method: "POST", path: "/v1/checks", as: "org_key", body: map[string]any{"purpose": "curiosity", "items": []any{map[string]any{"register_number": "{org_pract}"}}}, status: 400, request: specRejects},
		{name: "who checked me", before: func(e *env, fx map[string]string) {
			reg, _ := e.User("org.registrar2@example.org", register.RoleRegistrar)
			fx["org_me"] = activateAccount(e, reg, fx["org_pract"])
		}, method: "GET", path: "/v1/me/checks", as: "org_me", status: 200, check: func(t *testing.T, m map[string]any) {
			if n := len(m["items"].([]any)); n != 1 {
				t.Errorf("%d checks, want 1", n)
			}
		}},
		{name: "refer", method: "POST", path: "/v1/referrals", as: "org_agency", body: map[string]any{"register_number": "{org_pract}", "category": "dismissal_for_malpractice", "allegation": "Dismissed."}, status: 201},
		{name: "refer someone not engaged", method: "POST", path: "/v1/referrals", as: "org_employer", body: map[string]any{"register_number": "{org_pract}", "category": "misconduct", "allegation": "x"}, status: 422},
		{name: "refer bad category", method: "POST", path: "/v1/referrals", as: "org_agency", body: map[string]any{"register_number": "{org_pract}", "category": "gossip", "allegation": "x"}, status: 400, request: specRejects},
		{name: "issue share code", method: "POST", path: "/v1/me/share-codes", as: "org_me", body: map[string]any{"days": 30}, status: 201, save: map[string]string{"share": "code", "share_id": "id"}},
		{name: "issue share code too long", method: "POST", path: "/v1/me/share-codes", as: "org_me", body: map[string]any{"days": 91}, status: 400, request: specRejects},
		{name: "use share code", method: "GET", path: "/v1/shared/{share}?family_name=Engaged", status: 200},
		{name: "use share code wrong name", method: "GET", path: "/v1/shared/{share}?family_name=Other", status: 404},
		{name: "use share code without name", method: "GET", path: "/v1/shared/{share}", status: 400, request: specRejects},
		{name: "list share codes", method: "GET", path: "/v1/me/share-codes", as: "org_me", status: 200},
		{name: "revoke share code", method: "DELETE", path: "/v1/me/share-codes/{share_id}", as: "org_me", status: 200},
		{name: "revoke unknown share code", method: "DELETE", path: "/v1/me/share-codes/999999", as: "org_me", status: 404},
		{name: "watch", method: "PUT", path: "/v1/watchlist/{org_pract}", as: "org_key", status: 200},
		{name: "watch malformed", method: "PUT", path: "/v1/watchlist/PR1", as: "org_key", status: 400, request: specRejects},
		{name: "watch unknown", method: "PUT", path: "/v1/watchlist/{unknown}", as: "org_key", status: 404},
		{name: "watch list", method: "GET", path: "/v1/watchlist", as: "org_key", status: 200},
		{name: "unwatch", method: "DELETE", path: "/v1/watchlist/{org_pract}", as: "org_key", status: 204},
		{name: "unwatch again", method: "DELETE", path: "/v1/watchlist/{org_pract}", as: "org_key", status: 404},
		{name: "events", method: "GET", path: "/v1/events?after=0&limit=10", as: "org_agency", status: 200},
		{name: "events bad cursor", method: "GET", path: "/v1/events?after=yesterday", as: "org_agency", status: 400, request: specRejects},
		{name: "create webhook", method: "POST", path: "/v1/webhooks", as: "org_key", body: map[string]any{"url": "https://hooks.example.org/register"}, status: 201, save: map[string]string{"webhook": "id"}, check: func(t *testing.T, m map[string]any) {
			if s, _ := m["secret"].(string); !strings.HasPrefix(s, "whsec_") {
				t.Errorf("secret %q", s)
			}
		}},
		{name: "create webhook bad url", method: "POST", path: "/v1/webhooks", as: "org_key", body: map[string]any{"url": "ftp://hooks.example.org"}, status: 400},
		{name: "list webhooks", method: "GET", path: "/v1/webhooks", as: "org_employer", status: 200, check: func(t *testing.T, m map[string]any) {
			items := m["items"].([]any)
			if len(items) != 1 || items[0].(map[string]any)["secret"] != nil {
				t.Errorf("webhooks %v: want one, without its secret", items)
			}
		}},
		{name: "get webhook", method: "GET", path: "/v1/webhooks/{webhook}", as: "org_key", status: 200},
		{name: "get another's webhook", method: "GET", path: "/v1/webhooks/{webhook}", as: "org_agency", status: 404},
		{name: "webhook attempts", method: "GET", path: "/v1/webhooks/{webhook}/attempts", as: "org_key", status: 200},
		{name: "webhook attempts bad limit", method: "GET", path: "/v1/webhooks/{webhook}/attempts?limit=0", as: "org_key", status: 400, request: specRejects},
		{name: "another's webhook attempts", method: "GET", path: "/v1/webhooks/{webhook}/attempts", as: "org_agency", status: 404},
		{name: "delete another's webhook", method: "DELETE", path: "/v1/webhooks/{webhook}", as: "org_agency", status: 404},
		{name: "delete webhook", method: "DELETE", path: "/v1/webhooks/{webhook}", as: "org_key", status: 204},
		{name: "create an eleventh webhook", before: func(e *env, fx map[string]string) {
			for i := range 10 {
				e.Must(201, "POST", "/v1/webhooks", fx["org_agency"], map[string]any{"url": "https://hooks.example.org/" + strconv.Itoa(i)})
			}
		}, method: "POST", path: "/v1/webhooks", as: "org_agency", body: map[string]any{"url": "https://hooks.example.org/eleventh"}, status: 409},
		{name: "approve with a body", method: "POST", path: "/v1/renewals/999999/approve", as: "org_admin", body: map[string]any{"unexpected": true}, status: 400, request: specRejects},
		{name: "delete CPD with a body", method: "DELETE", path: "/v1/me/cpd/999999", as: "org_me", body: map[string]any{"unexpected": true}, status: 400, request: specRejects},
		{name: "revoke share code with a body", method: "DELETE", path: "/v1/me/share-codes/999999", as: "org_me", body: map[string]any{"unexpected": true}, status: 400, request: specRejects},
		{name: "revoke API key with a body", method: "DELETE", path: "/v1/organisations/1/api-keys/999999", as: "org_employer", body: map[string]any{"unexpected": true}, status: 400, request: specRejects},
		{name: "unwatch with a body", method: "DELETE", path: "/v1/watchlist/{org_pract}", as: "org_key", body: map[string]any{"unexpected": true}, status: 400, request: specRejects},
		{name: "delete webhook with a body", method: "DELETE", path: "/v1/webhooks/999999", as: "org_key", body: map[string]any{"unexpected": true}, status: 400, request: specRejects},
		{name: "revoke API key", method: "DELETE", path: "/v1/organisations/1/api-keys/{org_key_id}", as: "org_employer", status: 200},
		{name: "public record with receipt", method: "GET", path: "/v1/public/registrants/{org_pract}?receipt=true", status: 200, save: map[string]string{"receipt": "receipt"}},
		{name: "verify receipt", method: "POST", path: "/v1/receipts/verify", body: map[string]any{"receipt": "{receipt}"}, status: 200, check: func(t *testing.T, m map[string]any) {
			if m["valid"] != true {
				t.Errorf("receipt not valid: %v", m)
			}
		}},
		{name: "verify receipt without one", method: "POST", path: "/v1/receipts/verify", body: map[string]any{}, status: 400, request: specRejects},
	}
}
