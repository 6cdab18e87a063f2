package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/probation-register/register/register"
)

// Audience of access tokens.
const Audience = "register-api"

// Claims are an access token's claims.
type Claims struct {
	jwt.RegisteredClaims
	Role register.Role `json:"role"`
}

// Tokens issues and checks access tokens.
type Tokens struct {
	Keys   *Keyring
	Issuer string
	TTL    time.Duration
	Now    func() time.Time
	parser *jwt.Parser
}

// NewTokens returns an access-token issuer and checker.
func NewTokens(keys *Keyring, issuer string, ttl time.Duration, now func() time.Time) *Tokens {
	t := &Tokens{Keys: keys, Issuer: issuer, TTL: ttl, Now: now}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return t.Now() }),
	)
	return t
}

// Issue signs an access token for a user.
func (t *Tokens) Issue(u *register.User) (string, error) {
	now := t.Now()
	key := t.Keys.Current()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.Issuer,
			Subject:   strconv.FormatInt(u.ID, 10),
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.TTL)),
			ID:        randomString(9),
		},
		Role: u.Role,
	})
	tok.Header["kid"] = key.ID
	return tok.SignedString(key.Private)
}

// ErrToken is returned for every unacceptable token, whatever the reason,
// so that the answer does not tell an attacker which check failed.
var ErrToken = errors.New("invalid token")

// MaxTokenLength bounds the work spent on a presented token.
const MaxTokenLength = 4096

// Verify checks an access token and returns the user id it names.
func (t *Tokens) Verify(token string) (int64, error) {
	if len(token) > MaxTokenLength {
		return 0, ErrToken
	}
	var claims Claims
	_, err := t.parser.ParseWithClaims(token, &claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		key := t.Keys.Find(kid)
		if key == nil {
			return nil, ErrToken
		}
		return key.Public, nil
	})
	if err != nil {
		return 0, ErrToken
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrToken
	}
	return id, nil
}

// NewRefreshToken returns a random refresh token and the hash to store.
func NewRefreshToken() (token, hash string) {
	token = "rt_" + randomString(32)
	return token, HashToken(token)
}

// HashToken is the stored form of a bearer secret (refresh tokens, codes, keys):
// SHA-256, since the secrets are long random strings, not passwords.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
