package http_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/probation-register/register/register"
)

// mixedItems is n check items cycling through a good number with a matching
// identity, one with a mismatching family name, one with no identity asked,
// an unknown number and a malformed item.
func mixedItems(n int, good string) []any {
	items := make([]any, n)
	for i := range items {
		switch i % 5 {
		case 0:
			items[i] = map[string]any{"register_number": good, "family_name": "OKAFOR", "date_of_birth": "1985-06-15"}
		case 1:
			items[i] = map[string]any{"register_number": good, "family_name": "Smith"}
		case 2:
			items[i] = map[string]any{"register_number": good}
		case 3:
			items[i] = map[string]any{"register_number": "PR0000000"}
		case 4:
			items[i] = map[string]any{"register_number": 12, "colour": "blue"}
		}
	}
	return items
}

func TestBulkCheck(t *testing.T) {
	e := newEnv(t) // 2026-03-02T10:00Z
	admin := e.Token(register.RoleAdmin)
	reg := e.Token(register.RoleRegistrar)
	aID, aKey := e.Org(admin, "Temps Ltd", "agency")
	_, bKey := e.Org(admin, "Other Temps", "agency")
	good := e.Practitioner(reg, "Okafor", "Ada", 5, "2027-03-31")

	t.Run("1000 mixed items answer in order", func(t *testing.T) {
		m := e.Must(200, "POST", "/v1/checks", aKey, map[string]any{"purpose": "placement", "items": mixedItems(1000, good)})
		items := m["items"].([]any)
		if len(items) != 1000 {
			t.Fatalf("%d results, want 1000", len(items))
		}
		for i, v := range items {
			it := v.(map[string]any)
			if it["index"] != float64(i) {
				t.Fatalf("result %d has index %v", i, it["index"])
			}
			res, _ := it["result"].(map[string]any)
			errBody, _ := it["error"].(map[string]any)
			switch i % 5 {
			case 0, 1, 2:
				if res["status"] != "registered" || res["register_number"] != good || errBody != nil {
					t.Fatalf("item %d: %v", i, it)
				}
				if _, leaked := res["date_of_birth"]; leaked {
					t.Fatalf("item %d reveals the date of birth: %v", i, it)
				}
				want := map[int]any{0: true, 1: false, 2: nil}[i%5]
				if it["identity_match"] != want {
					t.Fatalf("item %d identity_match %v, want %v", i, it["identity_match"], want)
				}
			case 3:
				if errBody["code"] != register.ENOTFOUND || res != nil {
					t.Fatalf("item %d: %v", i, it)
				}
			case 4:
				if errBody["code"] != register.EINVALID {
					t.Fatalf("item %d: %v", i, it)
				}
			}
		}
	})

	t.Run("one verification record per item", func(t *testing.T) {
		var n, mine int
		if err := e.DB.Reader().QueryRow(`SELECT COUNT(*), SUM(organisation_id = ?) FROM verifications`, aID).Scan(&n, &mine); err != nil {
			t.Fatal(err)
		}
		if n != 1000 || mine != 1000 {
			t.Fatalf("%d verifications (%d of the organisation), want 1000", n, mine)
		}
	})

	t.Run("at an instant", func(t *testing.T) {
		for at, want := range map[string]string{"2027-06-01T09:00:00Z": "lapsed", "2026-06-01T09:00:00+01:00": "registered"} {
			m := e.Must(200, "POST", "/v1/checks", bKey, map[string]any{"purpose": "placement", "at": at, "items": []any{map[string]any{"register_number": good}}})
			res := m["items"].([]any)[0].(map[string]any)["result"].(map[string]any)
			if res["status"] != want {
				t.Fatalf("at %s: status %v, want %s", at, res["status"], want)
			}
		}
		m := e.Must(200, "POST", "/v1/checks", bKey, map[string]any{"purpose": "placement", "at": "2025-01-01T00:00:00Z", "items": []any{map[string]any{"register_number": good}}})
		if code := m["items"].([]any)[0].(map[string]any)["error"].(map[string]any)["code"]; code != register.ENOTFOUND {
			t.Fatalf("before admission: %v", m)
		}
	})

	t.Run("a bad batch is refused whole", func(t *testing.T) {
		for name, body := range map[string]any{
			"too many":    map[string]any{"purpose": "periodic", "items": mixedItems(1001, good)},
			"no items":    map[string]any{"purpose": "periodic", "items": []any{}},
			"bad purpose": map[string]any{"purpose": "curiosity", "items": mixedItems(1, good)},
		} {
			t.Run(name, func(t *testing.T) {
				e.Do("POST", "/v1/checks", aKey, body).WantError(t, 400, register.EINVALID)
			})
		}
	})
}

// BenchmarkBulkCheck measures one 1,000-item check through the real server.
func BenchmarkBulkCheck(b *testing.B) {
	e := newEnv(b)
	admin := e.Token(register.RoleAdmin)
	reg := e.Token(register.RoleRegistrar)
	_, key := e.Org(admin, "Temps Ltd", "agency")
	numbers := make([]string, 50)
	for i := range numbers {
		numbers[i] = e.Practitioner(reg, fmt.Sprintf("Family%d", i), "Given", 3+2*(i%2), "2027-03-31")
	}
	items := make([]any, 1000)
	for i := range items {
		items[i] = map[string]any{"register_number": numbers[i%len(numbers)], "family_name": fmt.Sprintf("Family%d", i%len(numbers))}
	}
	body := map[string]any{"purpose": "periodic", "items": items}
	b.ResetTimer()
	for b.Loop() {
		if r := e.Do("POST", "/v1/checks", key, body); r.Status != 200 {
			b.Fatalf("status %d: %s", r.Status, r.Body)
		}
	}
}

func TestWhoCheckedMe(t *testing.T) {
	e := newEnv(t)
	admin := e.Token(register.RoleAdmin)
	reg := e.Token(register.RoleRegistrar)
	_, aKey := e.Org(admin, "Temps Ltd", "agency")
	n := e.Practitioner(reg, "Okafor", "Ada", 5, "2027-03-31")
	other := e.Practitioner(reg, "Nowak", "Piotr", 3, "2027-03-31")

	e.Must(200, "GET", "/v1/public/registrants/"+n, "", nil) // anonymous: not an organisation's check
	e.Must(200, "POST", "/v1/checks", aKey, map[string]any{"purpose": "pre_employment", "items": []any{map[string]any{"register_number": n}, map[string]any{"register_number": other}}})
	e.Advance(time.Hour)
	reg = e.Token(register.RoleRegistrar) // the first token has expired
	mine := activateAccount(e, reg, n)
	e.Must(200, "POST", "/v1/checks", aKey, map[string]any{"purpose": "placement", "items": []any{map[string]any{"register_number": n, "date_of_birth": "1985-06-15"}}})

	items := e.Must(200, "GET", "/v1/me/checks", mine, nil)["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("%d checks, want 2 (the other registrant's is not mine): %v", len(items), items)
	}
	first, second := items[0].(map[string]any), items[1].(map[string]any)
	if first["organisation"] != "Temps Ltd" || first["purpose"] != "placement" || first["method"] != "bulk_check" || first["checked_at"] != "2026-03-02T11:00:00Z" {
		t.Fatalf("newest check %v", first)
	}
	if second["purpose"] != "pre_employment" || second["checked_at"] != "2026-03-02T10:00:00Z" {
		t.Fatalf("older check %v", second)
	}
	e.Do("GET", "/v1/me/checks", reg, nil).WantError(t, 403, register.EFORBIDDEN)
	e.Do("GET", "/v1/me/checks", aKey, nil).WantError(t, 401, register.EUNAUTHORIZED)
}
