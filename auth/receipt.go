package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
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
	// headers holds each key's encoded JWS header, by key id.
	headers sync.Map
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
// The token is assembled by hand in one buffer around the already encoded
// result: re-encoding each result through encoding/json cost as much as
// the signature. What is left is the Ed25519 signature itself; SignTree
// shares one among many receipts (batch.go).
func (r *Receipts) Sign(number, checker string, checkedAt time.Time, result json.RawMessage) (string, error) {
	p, err := r.claims(number, checker, checkedAt, result)
	if err != nil {
		return "", err
	}
	key := r.Keys.Current()
	enc := base64.RawURLEncoding
	header := r.header(key, ReceiptType)
	sigLen := enc.EncodedLen(ed25519.SignatureSize)
	tok := make([]byte, 0, len(header)+1+enc.EncodedLen(len(p))+1+sigLen)
	tok = append(tok, header...)
	tok = append(tok, '.')
	tok = enc.AppendEncode(tok, p)
	sig := ed25519.Sign(key.Private, tok)
	tok = append(tok, '.')
	tok = enc.AppendEncode(tok, sig)
	return string(tok), nil
}

// jtiSize is the length of a receipt's random id, before encoding.
const jtiSize = 9

// claims is a receipt's payload (ReceiptClaims), encoded.
func (r *Receipts) claims(number, checker string, checkedAt time.Time, result json.RawMessage) ([]byte, error) {
	if !json.Valid(result) {
		return nil, errors.New("receipt: result is not JSON")
	}
	var jti [jtiSize]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return nil, err
	}
	return r.appendClaims(nil, number, checker, checkedAt, result, jti[:]), nil
}

// appendClaims appends a receipt's payload with the given random id.
func (r *Receipts) appendClaims(p []byte, number, checker string, checkedAt time.Time, result json.RawMessage, jti []byte) []byte {
	enc := base64.RawURLEncoding
	if p == nil {
		p = make([]byte, 0, 160+len(r.Issuer)+len(number)+len(checker)+len(result))
	}
	p = append(p, `{"iss":`...)
	p = appendJSONString(p, r.Issuer)
	p = append(p, `,"sub":`...)
	p = appendJSONString(p, number)
	p = append(p, `,"aud":["`+ReceiptAudience+`"],"iat":`...)
	p = strconv.AppendInt(p, checkedAt.Unix(), 10)
	p = append(p, `,"jti":"`...)
	p = enc.AppendEncode(p, jti)
	p = append(p, `","checker":`...)
	p = appendJSONString(p, checker)
	p = append(p, `,"checked_at":"`...)
	p = checkedAt.UTC().AppendFormat(p, time.RFC3339)
	p = append(p, `","result":`...)
	p = append(p, result...)
	return append(p, '}')
}

// header returns the encoded JWS header of key's receipts of type typ,
// made once per key and type.
func (r *Receipts) header(key *Key, typ string) string {
	id := typ + " " + key.ID
	if h, ok := r.headers.Load(id); ok {
		return h.(string)
	}
	b, _ := json.Marshal(map[string]string{"alg": jwt.SigningMethodEdDSA.Alg(), "kid": key.ID, "typ": typ})
	h := base64.RawURLEncoding.EncodeToString(b)
	r.headers.Store(id, h)
	return h
}

// appendJSONString appends s as a JSON string: as it is when it holds
// only printable ASCII that needs no escape, through encoding/json otherwise.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always marshals
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
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
	if strings.Contains(receipt, "~") {
		return r.verifyBatch(receipt)
	}
	var claims ReceiptClaims
	kid, err := r.parse(receipt, ReceiptType, &claims)
	if err != nil {
		return nil, "", err
	}
	return &claims, kid, nil
}

// parse verifies a compact JWS of type typ, signed by a key of the ring,
// into claims, and returns the key's id.
func (r *Receipts) parse(compact, typ string, claims jwt.Claims) (string, error) {
	var kid string
	_, err := r.parser.ParseWithClaims(compact, claims, func(tok *jwt.Token) (any, error) {
		if t, _ := tok.Header["typ"].(string); t != typ {
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
		return "", ErrReceipt
	}
	return kid, nil
}

// JWKS is the public key set, every key of the ring, for offline verification.
func (r *Receipts) JWKS() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{}
	for _, k := range r.Keys.Keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public, KeyID: k.ID, Algorithm: string(jose.EdDSA), Use: "sig"})
	}
	return set
}
