package http_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// TestWriteLockHeldElsewhere holds the database's write lock from another
// connection, as a bulk import in another process does, for longer than
// the store waits: a write through the API answers 503 with Retry-After and
// a JSON body saying to try again, a write through a web page answers a
// 503 page, neither writes anything, reads go on, and once the lock is
// released the same write succeeds.
func TestWriteLockHeldElsewhere(t *testing.T) {
	e := newEnv(t, func(db *sqlite.DB) { db.BusyTimeout = 200 * time.Millisecond })
	tok := e.Token(register.RoleRegistrar)
	n := e.Registrant(tok, "Busy", "Bea")
	email := "sign-in-" + jsonID(1) + "@example.org"
	e.User(email, register.RoleRegistrar)
	b := e.Browser()
	csrf := b.Get("/sign-in").CSRF(t)

	other, err := sql.Open("sqlite3", "file:"+e.DB.Path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	audited := e.LastAuditID()

	body := map[string]any{"family_name": "Roe", "given_names": "Betty", "date_of_birth": "1985-06-15", "email": "betty@example.org"}
	r := e.Do("POST", "/v1/registrants", tok, body)
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "5" {
		t.Fatalf("write while another writer holds the lock: status %d, Retry-After %q: %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	if m := r.JSON(t)["error"].(map[string]any); m["code"] != "unavailable" || !strings.Contains(m["message"].(string), "try again") {
		t.Fatalf("body: %s", r.Body)
	}
	page := b.Post("/sign-in", url.Values{"email": {email}, "password": {Password}, "csrf": {csrf}})
	if page.Status != http.StatusServiceUnavailable || page.Header.Get("Retry-After") != "5" || !strings.Contains(page.Body, "try again") {
		t.Fatalf("web sign-in while the lock is held: status %d: %s", page.Status, page.Body)
	}
	if r := e.Do("GET", "/v1/public/registrants/"+n, "", nil); r.Status == http.StatusServiceUnavailable || r.Status >= 500 {
		t.Fatalf("a read while the lock is held: %d %s", r.Status, r.Body)
	}
	if strings.Contains(e.Log.String(), `"level":"ERROR"`) {
		t.Fatalf("a held lock was logged as an error: %s", e.Log.String())
	}

	if _, err := conn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if got := e.LastAuditID(); got != audited {
		t.Fatalf("the refused writes were audited: last audit id %d, want %d", got, audited)
	}
	e.Must(201, "POST", "/v1/registrants", tok, body)
	b.Post("/sign-in", url.Values{"email": {email}, "password": {Password}, "csrf": {csrf}}).Redirect(t, "/me")
}
