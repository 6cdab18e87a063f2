package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestUserAddOrg binds an employer user to an organisation from the command
// line: the user acts for that organisation and no other, and an unknown
// organisation id is refused with a message naming --org, adding nobody.
func TestUserAddOrg(t *testing.T) {
	m := MustRunMain(t)
	dir := m.Config.DataDir
	const password = "a sufficiently long password"

	// An admin makes two organisations through the API.
	if _, _, err := runCLI(t, password+"\n", "user", "add", "--email", "root@example.org", "--role", "admin", "--password-stdin", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	admin := login(t, m, "root@example.org", password)
	orgID := func(name string) int64 {
		t.Helper()
		code, body := request(t, "POST", m.URL()+"/v1/organisations", admin, map[string]string{"name": name, "kind": "employer"})
		if code != http.StatusCreated {
			t.Fatalf("create organisation %s: %d %v", name, code, body)
		}
		return int64(body["id"].(float64))
	}
	own, other := orgID("North West Probation Region"), orgID("Other Region")

	out, _, err := runCLI(t, password+"\n", "user", "add", "--email", "hr@example.org", "--role", "employer",
		"--org", fmt.Sprint(own), "--password-stdin", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	var u struct {
		ID             int64  `json:"id"`
		Email          string `json:"email"`
		Role           string `json:"role"`
		OrganisationID int64  `json:"organisation_id"`
	}
	if err := json.Unmarshal([]byte(out), &u); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if u.ID == 0 || u.Email != "hr@example.org" || u.Role != "employer" || u.OrganisationID != own {
		t.Fatalf("printed %+v, want an employer of organisation %d", u, own)
	}
	db := openDB(t, filepath.Join(dir, "register.db"))
	if n := count(t, db, `SELECT COUNT(*) FROM users WHERE email = 'hr@example.org' AND organisation_id = ?`, own); n != 1 {
		t.Fatalf("the stored user is not bound to organisation %d", own)
	}

	// Signed in, the user acts for its own organisation and no other.
	hr := login(t, m, "hr@example.org", password)
	if code, body := request(t, "GET", m.URL()+fmt.Sprintf("/v1/organisations/%d", own), hr, nil); code != http.StatusOK || body["name"] != "North West Probation Region" {
		t.Fatalf("own organisation: %d %v", code, body)
	}
	if code, body := request(t, "GET", m.URL()+fmt.Sprintf("/v1/organisations/%d", other), hr, nil); code != http.StatusNotFound {
		t.Fatalf("another organisation: %d %v", code, body)
	}
	if code, body := request(t, "GET", m.URL()+"/v1/watchlist", hr, nil); code != http.StatusOK {
		t.Fatalf("own watch list: %d %v", code, body)
	}

	t.Run("UnknownOrganisation", func(t *testing.T) {
		missing := other + 1000
		_, _, err := runCLI(t, password+"\n", "user", "add", "--email", "ghost@example.org", "--role", "employer",
			"--org", fmt.Sprint(missing), "--password-stdin", "--data-dir", dir)
		want := fmt.Sprintf("--org %d: there is no organisation with that id", missing)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("want %q, got %v", want, err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM users WHERE email = 'ghost@example.org'`); n != 0 {
			t.Fatal("a user bound to no organisation was added")
		}
	})
	t.Run("NotANumber", func(t *testing.T) {
		_, _, err := runCLI(t, password+"\n", "user", "add", "--email", "ghost@example.org", "--role", "employer",
			"--org", "north-west", "--password-stdin", "--data-dir", dir)
		if err == nil || !strings.Contains(err.Error(), `invalid argument "north-west" for "--org"`) {
			t.Fatalf("want the flag named, got %v", err)
		}
	})
}
