package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Receipts are signed evidence of a check. They carry their own audience
// and type, so that a receipt is never accepted as an access token (whose
// audience is Audience) and an access token is never a valid receipt.
const (
	ReceiptAudience = "register-receipt"
	ReceiptType     = "npr-receipt+jwt"
)

// ReceiptClaims are a receipt's payload: the result, who checked, and when.
type ReceiptClaims struct {
	jwt.RegisteredClaims
	Checker   string          `json:"checker"`
	CheckedAt string          `json:"checked_at"`
	Result    json.RawMessage `json:"result"`
}

// Receipts signs and verifies receipts with the keyring: the newest key
// signs, every key (old ones kept after a rotation) verifies.
type Receipts struct {
	Keys   *Keyring
	Issuer string
	parser *jwt.Parser
}

// NewReceipts returns a receipt signer and verifier.
func NewReceipts(keys *Keyring, issuer string) *Receipts {
	return &Receipts{Keys: keys, Issuer: issuer, parser: jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(ReceiptAudience),
		// No time checks: a receipt records a past check and never expires.
		// Strict: a changed padding bit is a changed receipt.
		jwt.WithStrictDecoding(),
	)}
}

// Sign returns a compact JWS over a check: subject is the register number.
// The payload is assembled by hand around the already encoded result: a
// bulk check signs a thousand of them, and re-encoding each result through
// encoding/json cost as much as the signature.
func (r *Receipts) Sign(number, checker string, checkedAt time.Time, result json.RawMessage) (string, error) {
	key := r.Keys.Current()
	header, err := json.Marshal(map[string]string{"alg": jwt.SigningMethodEdDSA.Alg(), "kid": key.ID, "typ": ReceiptType})
	if err != nil {
		return "", err
	}
	fields, err := json.Marshal(struct {
		Issuer    string   `json:"iss"`
		Subject   string   `json:"sub"`
		Audience  []string `json:"aud"`
		IssuedAt  int64    `json:"iat"`
		ID        string   `json:"jti"`
		Checker   string   `json:"checker"`
		CheckedAt string   `json:"checked_at"`
	}{r.Issuer, number, []string{ReceiptAudience}, checkedAt.Unix(), randomString(9), checker, checkedAt.UTC().Format(time.RFC3339)})
	if err != nil {
		return "", err
	}
	if !json.Valid(result) {
		return "", errors.New("receipt: result is not JSON")
	}
	payload := append(append(append(fields[:len(fields)-1:len(fields)-1], `,"result":`...), result...), '}')
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	sig, err := jwt.SigningMethodEdDSA.Sign(signing, key.Private)
	if err != nil {
		return "", err
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// ErrReceipt is returned for every receipt that does not verify.
var ErrReceipt = errors.New("invalid receipt")

// MaxReceiptLength bounds the work spent on a presented receipt.
const MaxReceiptLength = 64 << 10

// Verify checks a receipt's signature, key, type, issuer and audience, and
// returns its payload and the id of the key that signed it.
func (r *Receipts) Verify(receipt string) (*ReceiptClaims, string, error) {
	if len(receipt) > MaxReceiptLength {
		return nil, "", ErrReceipt
	}
	var claims ReceiptClaims
	var kid string
	_, err := r.parser.ParseWithClaims(receipt, &claims, func(tok *jwt.Token) (any, error) {
		if typ, _ := tok.Header["typ"].(string); typ != ReceiptType {
			return nil, ErrReceipt
		}
		kid, _ = tok.Header["kid"].(string)
		key := r.Keys.Find(kid)
		if key == nil {
			return nil, ErrReceipt
		}
		return key.Public, nil
	})
	if err != nil {
		return nil, "", ErrReceipt
	}
	return &claims, kid, nil
}

// JWKS is the public key set, every key of the ring, for offline verification.
func (r *Receipts) JWKS() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{}
	for _, k := range r.Keys.Keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public, KeyID: k.ID, Algorithm: string(jose.EdDSA), Use: "sig"})
	}
	return set
}
