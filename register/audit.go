package register

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"unicode/utf8"
)

// AuditEntry is one link of the append-only audit chain.
type AuditEntry struct {
	ID       int64  `json:"id"`
	At       string `json:"at"`
	Actor    string `json:"actor"`
	Addr     string `json:"addr"`
	Action   string `json:"action"`
	Entity   string `json:"entity"`
	EntityID string `json:"entity_id"`
	Before   string `json:"before"`
	After    string `json:"after"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"-"`
}

// GenesisHash is the prev_hash of the first entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Canonical is the entry's canonical form: JSON with a fixed field order,
// every field a string or number, so the same entry always hashes the same.
// A field that is not valid UTF-8 is written as {"bytes":base64} instead of
// a string, so two entries that differ only in invalid bytes (which JSON
// would fold into U+FFFD) never share a canonical form.
func (e *AuditEntry) Canonical() []byte {
	c := struct {
		ID       int64       `json:"id"`
		At       canonString `json:"at"`
		Actor    canonString `json:"actor"`
		Addr     canonString `json:"addr"`
		Action   canonString `json:"action"`
		Entity   canonString `json:"entity"`
		EntityID canonString `json:"entity_id"`
		Before   canonString `json:"before"`
		After    canonString `json:"after"`
		PrevHash canonString `json:"prev_hash"`
	}{e.ID, canonString(e.At), canonString(e.Actor), canonString(e.Addr), canonString(e.Action),
		canonString(e.Entity), canonString(e.EntityID), canonString(e.Before), canonString(e.After), canonString(e.PrevHash)}
	b, _ := json.Marshal(c) // strings and an int cannot fail
	return b
}

// canonString marshals as a JSON string when valid UTF-8 and as an object
// holding the raw bytes otherwise.
type canonString string

func (s canonString) MarshalJSON() ([]byte, error) {
	if utf8.ValidString(string(s)) {
		return json.Marshal(string(s))
	}
	return json.Marshal(struct {
		Bytes []byte `json:"bytes"`
	}{[]byte(s)})
}

// ComputeHash is SHA-256 over the previous hash and the canonical entry.
func (e *AuditEntry) ComputeHash() string {
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write([]byte{'\n'})
	h.Write(e.Canonical())
	return hex.EncodeToString(h.Sum(nil))
}
