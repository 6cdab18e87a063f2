package webhook_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/probation-register/register/webhook"
)

func TestClientRefusesTheRegistersOwnNetwork(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, err := webhook.NewClient(false).Get(srv.URL)
	if !errors.Is(err, webhook.ErrPrivateAddress) {
		t.Fatalf("a delivery to %s: %v, want ErrPrivateAddress", srv.URL, err)
	}
	// The development client may reach it.
	resp, err := webhook.NewClient(true).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	}))
	defer srv.Close()
	resp, err := webhook.NewClient(true).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d: the redirect was followed", resp.StatusCode)
	}
}

func TestBackoffGrowsToAnHour(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 4: 80 * time.Second, 12: time.Hour, 40: time.Hour} {
		got := webhook.Backoff(attempt)
		if got < want*8/10 || got > want*12/10 {
			t.Errorf("attempt %d: wait %s, want %s ± 20 %%", attempt, got, want)
		}
	}
}
