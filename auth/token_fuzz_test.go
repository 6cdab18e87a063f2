package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
)

// FuzzVerify feeds Verify mangled tokens: it must never panic, and anything
// it accepts must name the user the real token was issued to.
func FuzzVerify(f *testing.F) {
	keys, _, err := auth.LoadKeyring(f.TempDir(), true)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	tokens := auth.NewTokens(keys, "national-probation-register", 15*time.Minute, func() time.Time { return now })
	valid, err := tokens.Issue(&register.User{ID: 42, Role: register.RoleRegistrar})
	if err != nil {
		f.Fatal(err)
	}
	if id, err := tokens.Verify(valid); err != nil || id != 42 {
		f.Fatalf("the real token does not verify: %d %v", id, err)
	}
	parts := strings.Split(valid, ".")
	f.Add(valid)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".")
	f.Add(strings.Repeat(".", 5000))
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		id, err := tokens.Verify(token)
		if err == nil && id != 42 {
			t.Fatalf("accepted a token for user %d that was never issued", id)
		}
	})
}
