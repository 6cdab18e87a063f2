package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestReceiptPayload checks the hand-assembled receipt: every claim
// survives strings that need escaping, the result is carried as it is,
// the header names the key, and a changed byte no longer verifies.
func TestReceiptPayload(t *testing.T) {
	keys, _, err := LoadKeyring(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReceipts(keys, `register "north" <test> & Zoë`)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("BST", 3600))
	result := json.RawMessage(`{"register_number":"PR0000018","status":"registered","note":"a \"quoted\" word"}`)
	for _, c := range []struct{ number, checker string }{
		{"PR0000018", "public"},
		{"PR\"0000018\\", "organisation:7\n\u2028<b>"},
	} {
		tok, err := r.Sign(c.number, c.checker, at, result)
		if err != nil {
			t.Fatal(err)
		}
		claims, kid, err := r.Verify(tok)
		if err != nil {
			t.Fatalf("%q: does not verify: %v", c.number, err)
		}
		if kid != keys.Current().ID || claims.Subject != c.number || claims.Checker != c.checker || claims.Issuer != r.Issuer ||
			claims.CheckedAt != "2026-03-02T09:00:00Z" || claims.IssuedAt.Unix() != at.Unix() || string(claims.Result) != string(result) ||
			len(claims.Audience) != 1 || claims.Audience[0] != ReceiptAudience || len(claims.ID) != 12 {
			t.Errorf("%q: claims %+v kid %s", c.number, claims, kid)
		}
		header, err := base64.RawURLEncoding.DecodeString(tok[:strings.IndexByte(tok, '.')])
		if err != nil || string(header) != `{"alg":"EdDSA","kid":"`+kid+`","typ":"`+ReceiptType+`"}` {
			t.Errorf("header %s %v", header, err)
		}
		i := strings.IndexByte(tok, '.') + 5
		bad := tok[:i] + string(tok[i]^1) + tok[i+1:]
		if _, _, err := r.Verify(bad); err == nil {
			t.Errorf("%q: a changed payload still verifies", c.number)
		}
	}
	if _, err := r.Sign("PR0000018", "public", at, json.RawMessage(`{"open":`)); err == nil {
		t.Error("a result that is not JSON was signed")
	}
}
