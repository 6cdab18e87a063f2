package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
)

// demoRegistrantLine finds the printed registrant account: number, email
// and password.
func demoRegistrantLine(t *testing.T, out string) (number, email, password string) {
	t.Helper()
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "registrant" {
			return f[1], f[2], f[3]
		}
	}
	t.Fatalf("no registrant account printed:\n%s", out)
	return "", "", ""
}

// TestServeDemoRegistrantAccount runs what `serve --demo` runs against a
// fresh data folder, signs in with the registrant credentials it prints,
// and uses the account; run again, it adds nothing and prints no password.
func TestServeDemoRegistrantAccount(t *testing.T) {
	m := MustRunMain(t)
	ctx := context.Background()
	var out bytes.Buffer
	if err := serveDemo(ctx, m, &out); err != nil {
		t.Fatal(err)
	}
	first := out.String()
	if !strings.Contains(first, "Demo accounts") || !strings.Contains(first, "registrar@demo.register.example") {
		t.Fatalf("the staff accounts are no longer printed:\n%s", first)
	}
	number, email, password := demoRegistrantLine(t, first)
	if _, err := register.ParseNumber(number); err != nil {
		t.Fatalf("printed register number %q: %v", number, err)
	}
	if len(password) < 12 || strings.Contains(first, "password unchanged") {
		t.Fatalf("password %q:\n%s", password, first)
	}

	tok := login(t, m, email, password)
	code, sum := request(t, "GET", m.URL()+"/v1/me/cpd/summary", tok, nil)
	if code != http.StatusOK || sum["required_hours"] == nil || sum["compliant"] != false {
		t.Fatalf("CPD summary: %d %v", code, sum)
	}

	// The account is the printed registrant's, who is registered with the
	// renewal window open, as printed: renewal can be tried at once.
	code, rec := request(t, "GET", m.URL()+"/v1/registrants/"+number, registrarToken(t, m), nil)
	if code != http.StatusOK || rec["email"] != email {
		t.Fatalf("registrant %s: %d %v", number, code, rec)
	}
	standing := rec["registration"].(map[string]any)
	until, err := time.Parse(time.DateOnly, standing["registered_until"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if standing["status"] != "registered" || len(standing["authorised_roles"].([]any)) == 0 || until.After(time.Now().AddDate(0, 0, register.RenewalWindowDays)) {
		t.Fatalf("demo registrant standing: %v", standing)
	}
	if sum["cycle_end"] != standing["registered_until"] {
		t.Fatalf("summary cycle ends %v, registration %v", sum["cycle_end"], standing["registered_until"])
	}
	if !strings.Contains(first, "the renewal window is open") {
		t.Fatalf("the renewal window is not said to be open:\n%s", first)
	}
	code, ren := request(t, "POST", m.URL()+"/v1/me/renewal", tok, map[string]any{"cpd_declaration": true, "good_character_declaration": true})
	if code != http.StatusCreated {
		t.Fatalf("renewal request: %d %v", code, ren)
	}

	t.Run("SecondRunAddsNothing", func(t *testing.T) {
		var again bytes.Buffer
		if err := serveDemo(ctx, m, &again); err != nil {
			t.Fatal(err)
		}
		second := again.String()
		if strings.Contains(second, password) || !strings.Contains(second, "Demo registrant account: "+number+" "+email+" (already exists: password unchanged)") {
			t.Fatalf("second run printed:\n%s", second)
		}
		db := openDB(t, filepath.Join(m.Config.DataDir, "register.db"))
		if n := count(t, db, `SELECT COUNT(*) FROM users WHERE role = 'registrant'`); n != 1 {
			t.Fatalf("%d registrant accounts after two runs", n)
		}
		login(t, m, email, password)
	})
}

// TestServeDemoLeavesRealDataAlone: on a register that already holds real
// registrants, `serve --demo` makes no account of any kind.
func TestServeDemoLeavesRealDataAlone(t *testing.T) {
	m := MustRunMain(t)
	tok := registrarToken(t, m)
	code, body := request(t, "POST", m.URL()+"/v1/registrants", tok, map[string]any{"family_name": "Real", "given_names": "Person",
		"date_of_birth": "1980-01-01", "email": "real.person@example.org"})
	if code != http.StatusCreated {
		t.Fatalf("create registrant: %d %v", code, body)
	}
	var out bytes.Buffer
	if err := serveDemo(context.Background(), m, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Demo data already exists") || strings.Contains(out.String(), "Demo registrant account") {
		t.Fatalf("printed:\n%s", out.String())
	}
	db := openDB(t, filepath.Join(m.Config.DataDir, "register.db"))
	if n := count(t, db, `SELECT COUNT(*) FROM users`); n != 1 {
		t.Fatalf("%d users, want only the registrar", n)
	}
}
