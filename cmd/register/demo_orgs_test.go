package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

// demoPassword is the password serve --demo printed for an account.
func demoPassword(t *testing.T, out, email string) string {
	t.Helper()
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) == 3 && f[1] == email {
			return f[2]
		}
	}
	t.Fatalf("no password printed for %s:\n%s", email, out)
	return ""
}

func TestServeDemoOrganisations(t *testing.T) {
	m := MustRunMain(t)
	var out bytes.Buffer
	if err := serveDemo(context.Background(), m, &out); err != nil {
		t.Fatal(err)
	}
	printed := out.String()
	emp := login(t, m, "employer@demo.register.example", demoPassword(t, printed, "employer@demo.register.example"))
	ag := login(t, m, "agency@demo.register.example", demoPassword(t, printed, "agency@demo.register.example"))

	code, engs := request(t, "GET", m.URL()+"/v1/engagements", emp, nil)
	if code != http.StatusOK || len(engs["items"].([]any)) < 4 {
		t.Fatalf("the demo employer's engagements: %d %v", code, engs)
	}
	code, watches := request(t, "GET", m.URL()+"/v1/watchlist", ag, nil)
	if code != http.StatusOK || len(watches["items"].([]any)) != 4 {
		t.Fatalf("the demo agency's watch list: %d %v", code, watches)
	}
	if !strings.Contains(printed, "was renewed") {
		t.Fatalf("no engaged practitioner was renewed, so the feed is empty:\n%s", printed)
	}
	code, evs := request(t, "GET", m.URL()+"/v1/events", emp, nil)
	items := evs["items"].([]any)
	if code != http.StatusOK || len(items) != 1 || items[0].(map[string]any)["changes"].([]any)[0] != "registered_until" {
		t.Fatalf("the demo employer's events: %d %v", code, evs)
	}
	code, agEvs := request(t, "GET", m.URL()+"/v1/events", ag, nil)
	if code != http.StatusOK || len(agEvs["items"].([]any)) != 0 {
		t.Fatalf("the agency sees the employer's event: %d %v", code, agEvs)
	}

	// A second run adds nothing.
	out.Reset()
	if err := serveDemo(context.Background(), m, &out); err != nil {
		t.Fatal(err)
	}
	if _, again := request(t, "GET", m.URL()+"/v1/engagements", emp, nil); len(again["items"].([]any)) != len(engs["items"].([]any)) {
		t.Fatalf("a second run changed the engagements: %v", again)
	}
}
