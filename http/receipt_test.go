package http_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
)

// verifyOffline checks a receipt as a holder would, with a standard JOSE
// library, an RFC 6962 Merkle library and the published key set only
// (docs/organisations.md, "Verifying a receipt offline").
func verifyOffline(t *testing.T, e *env, receipt string) map[string]any {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(e.Do("GET", "/.well-known/jwks.json", "", nil).Body, &set); err != nil {
		t.Fatal(err)
	}
	verify := func(compactJWS, typ string) []byte {
		jws, err := jose.ParseSignedCompact(compactJWS, []jose.SignatureAlgorithm{jose.EdDSA})
		if err != nil {
			t.Fatal(err)
		}
		h := jws.Signatures[0].Header
		if h.ExtraHeaders["typ"] != typ {
			t.Fatalf("typ %v, want %s", h.ExtraHeaders["typ"], typ)
		}
		keys := set.Key(h.KeyID)
		if len(keys) != 1 {
			t.Fatalf("kid %q is not published", h.KeyID)
		}
		payload, err := jws.Verify(keys[0])
		if err != nil {
			t.Fatalf("offline verification: %v", err)
		}
		return payload
	}
	var claims []byte
	if parts := strings.Split(receipt, "~"); len(parts) == 1 {
		claims = verify(receipt, auth.ReceiptType)
	} else {
		// A batched receipt: the JWS signs a Merkle root; the claims are
		// a leaf, with the audit path from it to the root.
		if len(parts) != 4 {
			t.Fatalf("%d parts", len(parts))
		}
		var batch struct {
			Tree string `json:"tree"`
			Size uint64 `json:"size"`
			Root string `json:"root"`
		}
		if err := json.Unmarshal(verify(parts[0], auth.BatchReceiptType), &batch); err != nil || batch.Tree != "rfc6962-sha256" {
			t.Fatalf("batch payload %+v %v", batch, err)
		}
		b64 := base64.RawURLEncoding
		root, err1 := b64.DecodeString(batch.Root)
		c, err2 := b64.DecodeString(parts[1])
		index, err3 := strconv.ParseUint(parts[2], 10, 64)
		var path [][]byte
		for _, p := range strings.Split(parts[3], ".") {
			if p != "" {
				h, err := b64.DecodeString(p)
				if err != nil {
					t.Fatal(err)
				}
				path = append(path, h)
			}
		}
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		hasher := rfc6962.DefaultHasher
		if err := proof.VerifyInclusion(hasher, index, batch.Size, hasher.HashLeaf(c), path, root); err != nil {
			t.Fatalf("offline verification of the audit path: %v", err)
		}
		claims = c
	}
	var m map[string]any
	if err := json.Unmarshal(claims, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReceipts(t *testing.T) {
	e := newEnv(t)
	admin := e.Token(register.RoleAdmin)
	reg := e.Token(register.RoleRegistrar)
	aID, aKey := e.Org(admin, "Temps Ltd", "agency")
	n := e.Practitioner(reg, "Okafor", "Ada", 5, "2027-03-31")

	check := e.Must(200, "POST", "/v1/checks", aKey, map[string]any{"purpose": "placement", "items": []any{map[string]any{"register_number": n}, map[string]any{"register_number": "PR0000000"}}})
	items := check["items"].([]any)
	receipt, _ := items[0].(map[string]any)["receipt"].(string)
	if receipt == "" {
		t.Fatalf("no receipt: %v", items[0])
	}
	if _, has := items[1].(map[string]any)["receipt"]; has {
		t.Fatalf("an unanswered item has a receipt: %v", items[1])
	}

	t.Run("verifies with the register and offline", func(t *testing.T) {
		v := e.Must(200, "POST", "/v1/receipts/verify", "", map[string]any{"receipt": receipt})
		p, _ := v["payload"].(map[string]any)
		if v["valid"] != true || p["checker"] != "organisation:"+aID || p["sub"] != n || p["checked_at"] != "2026-03-02T10:00:00Z" {
			t.Fatalf("verify: %v", v)
		}
		if res := p["result"].(map[string]any); res["status"] != "registered" || res["register_number"] != n {
			t.Fatalf("payload result %v", res)
		}
		off := verifyOffline(t, e, receipt)
		if off["sub"] != n || off["aud"] == nil {
			t.Fatalf("offline payload %v", off)
		}
	})

	t.Run("fails when any byte changes", func(t *testing.T) {
		for i := range len(receipt) {
			if receipt[i] == '.' {
				continue
			}
			c := byte('A')
			if receipt[i] == 'A' {
				c = 'B'
			}
			forged := receipt[:i] + string(c) + receipt[i+1:]
			if _, _, err := e.Server.Receipts.Verify(forged); err == nil {
				t.Fatalf("receipt changed at byte %d still verifies", i)
			}
		}
		c := "A"
		if receipt[len(receipt)-2] == 'A' {
			c = "B"
		}
		forged := receipt[:len(receipt)-2] + c + receipt[len(receipt)-1:]
		if v := e.Must(200, "POST", "/v1/receipts/verify", "", map[string]any{"receipt": forged}); v["valid"] != false || v["payload"] != nil {
			t.Fatalf("forged: %v", v)
		}
	})

	t.Run("a receipt is no access token and an access token no receipt", func(t *testing.T) {
		e.Do("GET", "/v1/registrants", receipt, nil).WantError(t, 401, register.EUNAUTHORIZED)
		if v := e.Must(200, "POST", "/v1/receipts/verify", "", map[string]any{"receipt": reg}); v["valid"] != false {
			t.Fatalf("access token accepted as a receipt: %v", v)
		}
	})

	t.Run("the public answer signs only when asked", func(t *testing.T) {
		plain := e.Must(200, "GET", "/v1/public/registrants/"+n, "", nil)
		if _, has := plain["receipt"]; has {
			t.Fatalf("plain answer signed: %v", plain)
		}
		signed := e.Must(200, "GET", "/v1/public/registrants/"+n+"?receipt=true", "", nil)
		r, _ := signed["receipt"].(string)
		p := verifyOffline(t, e, r)
		if p["checker"] != "public" || p["result"].(map[string]any)["status"] != "registered" {
			t.Fatalf("public receipt payload %v", p)
		}
	})

	t.Run("still verifies after a key rotation", func(t *testing.T) {
		oldKid := e.Keys.Current().ID
		k, err := auth.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		e.Keys.Keys = append(e.Keys.Keys, k)
		signed := e.Must(200, "GET", "/v1/public/registrants/"+n+"?receipt=true", "", nil)
		fresh := signed["receipt"].(string)
		v := e.Must(200, "POST", "/v1/receipts/verify", "", map[string]any{"receipt": fresh})
		if v["kid"] != k.ID {
			t.Fatalf("new receipt signed by %v, want the new key %s", v["kid"], k.ID)
		}
		v = e.Must(200, "POST", "/v1/receipts/verify", "", map[string]any{"receipt": receipt})
		if v["valid"] != true || v["kid"] != oldKid {
			t.Fatalf("old receipt after rotation: %v", v)
		}
		verifyOffline(t, e, receipt)
		verifyOffline(t, e, fresh)
		if body := string(e.Do("GET", "/.well-known/jwks.json", "", nil).Body); !strings.Contains(body, oldKid) || !strings.Contains(body, k.ID) {
			t.Fatalf("JWKS %s does not publish both keys", body)
		}
	})

	t.Run("a bad request is named", func(t *testing.T) {
		e.Do("POST", "/v1/receipts/verify", "", map[string]any{}).WantError(t, 400, register.EINVALID)
	})
}

// TestPublicAnswersConcurrent asks for many practitioners at once, half
// with receipts, as agencies' rosters do: each answer is the one asked for,
// whole, and each receipt signs that answer and no other (answers are
// written from reused buffers and receipts signed in shared batches).
func TestPublicAnswersConcurrent(t *testing.T) {
	e := newEnv(t)
	tok := e.Token(register.RoleRegistrar)
	numbers := make([]string, 12)
	for i := range numbers {
		numbers[i] = e.Practitioner(tok, fmt.Sprintf("Concurrent%c", 'a'+i), "Pat", 3+2*(i%2), "2027-03-31")
	}
	client := e.HTTP.Client()
	const workers, each = 16, 40
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				n := numbers[(w*each+i)%len(numbers)]
				receipt := (w+i)%2 == 0
				path := "/v1/public/registrants/" + n
				if receipt {
					path += "?receipt=true"
				}
				resp, err := client.Get(e.HTTP.URL + path)
				if err != nil {
					errs <- err
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				var a map[string]any
				if err == nil {
					err = json.Unmarshal(body, &a)
				}
				if err != nil || resp.StatusCode != 200 || a["register_number"] != n {
					errs <- fmt.Errorf("GET %s: status %d, %v: %.200s", path, resp.StatusCode, err, body)
					return
				}
				r, has := a["receipt"].(string)
				if has != receipt {
					errs <- fmt.Errorf("GET %s: receipt present %v, want %v", path, has, receipt)
					return
				}
				if !receipt {
					continue
				}
				claims, _, err := e.Server.Receipts.Verify(r)
				if err != nil {
					errs <- fmt.Errorf("GET %s: receipt does not verify: %v", path, err)
					return
				}
				delete(a, "receipt")
				var signed map[string]any
				if err := json.Unmarshal(claims.Result, &signed); err != nil || claims.Subject != n || !reflect.DeepEqual(signed, a) {
					errs <- fmt.Errorf("GET %s: receipt for %s signs %s, not the answer %v", path, claims.Subject, claims.Result, a)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
