package http_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/probation-register/register/register"
)

// In-process figures for the public hot paths, for profiling:
//
//	go test ./http/ -run '^$' -bench Public -benchmem -cpuprofile cpu.out
//
// The requests go straight to the handler (no sockets), so the profile
// shows the register's own work. bench/run measures over the network.

// benchRegistrants is how many practitioners a benchmark register holds.
const benchRegistrants = 200

var benchFamilies = []string{"Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
	"Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall"}
var benchGivens = []string{"Oliver", "Amelia", "Harry", "Isla", "Jack", "Ava", "George", "Mia", "Noah", "Grace"}

// benchEnv is a register with benchRegistrants practitioners admitted 30
// days before its clock, logging at the production level (info), so that
// per-request debug lines do not distort the figures.
func benchEnv(b *testing.B) (*env, []string) {
	b.Helper()
	e := newEnv(b)
	tok := e.Token(register.RoleRegistrar)
	numbers := make([]string, benchRegistrants)
	for i := range numbers {
		level := 3 + 2*(i%2)
		numbers[i] = e.Practitioner(tok, benchFamilies[i%len(benchFamilies)], benchGivens[i%len(benchGivens)], level, "2027-03-31")
	}
	e.Advance(30 * 24 * time.Hour)
	e.Server.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return e, numbers
}

// serve sends one GET to the handler and fails unless it answers 200.
func serve(b *testing.B, h http.Handler, path string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: status %d: %s", path, rec.Code, rec.Body)
	}
}

func BenchmarkPublicRecord(b *testing.B) {
	e, numbers := benchEnv(b)
	h := e.Server.Handler()
	paths := make([]string, len(numbers))
	for i, n := range numbers {
		paths[i] = "/v1/public/registrants/" + n
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		serve(b, h, paths[i%len(paths)])
		i++
	}
}

func BenchmarkPublicRecordReceipt(b *testing.B) {
	e, numbers := benchEnv(b)
	h := e.Server.Handler()
	paths := make([]string, len(numbers))
	for i, n := range numbers {
		paths[i] = "/v1/public/registrants/" + n + "?receipt=true"
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		serve(b, h, paths[i%len(paths)])
		i++
	}
}

func BenchmarkPublicRecordAsAt(b *testing.B) {
	e, numbers := benchEnv(b)
	h := e.Server.Handler()
	// Instants spread over the 30 days since admission, some before it.
	start := e.Now().Add(-31 * 24 * time.Hour)
	paths := make([]string, len(numbers))
	for i, n := range numbers {
		at := start.Add(time.Duration(i) * 31 * 24 * time.Hour / time.Duration(len(numbers)))
		paths[i] = "/v1/public/registrants/" + n + "?at=" + at.Format(time.RFC3339)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		serve(b, h, paths[i%len(paths)])
		i++
	}
}

func BenchmarkSearch(b *testing.B) {
	e, _ := benchEnv(b)
	h := e.Server.Handler()
	prefixes := []string{"smi", "jone", "will", "tay", "brow", "davi", "eva", "wils", "thom", "rob", "whi", "hug", "gre", "hal", "wal"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		serve(b, h, "/v1/public/search?name="+prefixes[i%len(prefixes)])
		i++
	}
}
