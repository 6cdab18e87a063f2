package auth

import (
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"strings"

	"github.com/probation-register/register/register"
)

// APIKeyPrefix starts every organisation API key, so that a key is told
// from an access token (and found by secret scanners) at a glance.
const APIKeyPrefix = "npr_"

// NewAPIKey returns a fresh key (npr_ and 32 random bytes in hex), the
// short prefix by which it is listed, and the hash to store.
func NewAPIKey() (key, prefix, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	key = APIKeyPrefix + hex.EncodeToString(b)
	return key, key[:len(APIKeyPrefix)+8], HashToken(key)
}

// IsAPIKey reports whether a bearer credential is an API key.
func IsAPIKey(s string) bool { return strings.HasPrefix(s, APIKeyPrefix) }

// NewShareCode returns a fresh share code of unambiguous characters and
// the hash to store. Codes are short, so the register also bounds their
// life (at most 90 days) and asks the holder for the family name.
func NewShareCode() (code, hash string) {
	alphabet := register.ShareCodeAlphabet
	b := make([]byte, register.ShareCodeLength)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[n.Int64()]
	}
	code = string(b)
	return code, HashShareCode(code)
}

// HashShareCode is the stored form of a code as typed: case, spaces and
// hyphens ignored.
func HashShareCode(typed string) string {
	s := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(typed))
	return HashToken("share:" + s)
}
