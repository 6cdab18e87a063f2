package register_test

import (
	"testing"

	"github.com/probation-register/register/register"
)

func TestAuditHashCoversEveryField(t *testing.T) {
	base := register.AuditEntry{ID: 7, At: "2026-01-01T00:00:00.000000Z", Actor: "user:1", Addr: "192.0.2.1",
		Action: "registrant.create", Entity: "registrant", EntityID: "PR1234566", Before: "", After: `{"a":1}`,
		PrevHash: register.GenesisHash}
	h := base.ComputeHash()
	edits := map[string]func(e *register.AuditEntry){
		"ID":       func(e *register.AuditEntry) { e.ID++ },
		"At":       func(e *register.AuditEntry) { e.At = "2026-01-01T00:00:00.000001Z" },
		"Actor":    func(e *register.AuditEntry) { e.Actor = "user:2" },
		"Addr":     func(e *register.AuditEntry) { e.Addr = "192.0.2.2" },
		"Action":   func(e *register.AuditEntry) { e.Action = "registrant.update" },
		"Entity":   func(e *register.AuditEntry) { e.Entity = "user" },
		"EntityID": func(e *register.AuditEntry) { e.EntityID = "PR1234567" },
		"Before":   func(e *register.AuditEntry) { e.Before = "{}" },
		"After":    func(e *register.AuditEntry) { e.After = `{"a":2}` },
		"PrevHash": func(e *register.AuditEntry) { e.PrevHash = h },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			e := base
			edit(&e)
			if e.ComputeHash() == h {
				t.Fatalf("changing %s does not change the hash", name)
			}
		})
	}
}

func FuzzAuditCanonical(f *testing.F) {
	f.Add(int64(1), "2026-01-01T00:00:00.000000Z", "user:1", "registrant.create", `{"x":"y"}`, "")
	f.Add(int64(2), "", "\u2028", "a\"b", "\xff", "\\")
	f.Add(int64(-91), "0", "\xff", "\xfe", "0", "0") // invalid bytes once folded into U+FFFD
	f.Fuzz(func(t *testing.T, id int64, at, actor, action, after, before string) {
		a := register.AuditEntry{ID: id, At: at, Actor: actor, Action: action, After: after, Before: before, PrevHash: register.GenesisHash}
		b := a
		if a.ComputeHash() != b.ComputeHash() {
			t.Fatal("hash is not deterministic")
		}
		// Moving text between fields must change the canonical form.
		b.Actor, b.Action = a.Action, a.Actor
		if a.Actor != a.Action && string(a.Canonical()) == string(b.Canonical()) {
			t.Fatalf("fields are not separated in the canonical form: %s", a.Canonical())
		}
	})
}
