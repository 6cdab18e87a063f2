package register

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
func (e *AuditEntry) Canonical() []byte {
	b, _ := json.Marshal(e) // a struct of strings and an int cannot fail
	return b
}

// ComputeHash is SHA-256 over the previous hash and the canonical entry.
func (e *AuditEntry) ComputeHash() string {
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write([]byte{'\n'})
	h.Write(e.Canonical())
	return hex.EncodeToString(h.Sum(nil))
}
