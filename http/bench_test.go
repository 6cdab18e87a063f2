package http_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
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

// benchPrefixes are the surname prefixes the search benchmarks ask for.
var benchPrefixes = []string{"smi", "jone", "will", "tay", "brow", "davi", "eva", "wils", "thom", "rob", "whi", "hug", "gre", "hal", "wal"}

// serveEach is a benchmark's loop: GET prefix+v+suffix for each v of
// values in turn, reporting allocations.
func serveEach(b *testing.B, h http.Handler, values []string, prefix, suffix string) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		serve(b, h, prefix+values[i%len(values)]+suffix)
		i++
	}
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
	serveEach(b, h, paths, "", "")
}

func BenchmarkPublicRecordReceipt(b *testing.B) {
	e, numbers := benchEnv(b)
	h := e.Server.Handler()
	paths := make([]string, len(numbers))
	for i, n := range numbers {
		paths[i] = "/v1/public/registrants/" + n + "?receipt=true"
	}
	serveEach(b, h, paths, "", "")
}

// BenchmarkPublicRecordReceiptConcurrent asks for receipts from 64
// goroutines at once, as wrk's 64 connections do, so that receipts are
// signed in batches as under load; ns/op is wall time per receipt with the
// two processors shared. Give it a fixed count (-benchtime=30000x): its
// first calls wait out the batch's gathering time alone, and the default
// estimate of N from them is far too small.
func BenchmarkPublicRecordReceiptConcurrent(b *testing.B) {
	e, numbers := benchEnv(b)
	h := e.Server.Handler()
	b.ReportAllocs()
	b.SetParallelism(32) // 64 goroutines on 2 processors
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, h, "/v1/public/registrants/"+numbers[int(next.Add(1))%len(numbers)]+"?receipt=true")
		}
	})
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
	serveEach(b, h, paths, "", "")
}

func BenchmarkSearch(b *testing.B) {
	e, _ := benchEnv(b)
	h := e.Server.Handler()
	serveEach(b, h, benchPrefixes, "/v1/public/search?name=", "")
}

// benchImported is a register of benchRegistrants practitioners written by
// the bulk writer, as `register demo` and `register import` write them:
// admitted over the last six years, half of them with a Probation Officer
// qualification verified after their admission, so that their stored
// answers know the window in which they hold.
func benchImported(b *testing.B) (*env, []string) {
	b.Helper()
	e := newEnv(b)
	today := register.DateOf(e.Now())
	rows := make([]*register.ImportRow, benchRegistrants)
	for i := range rows {
		admitted := today.AddDate(0, 0, -30-i*11)
		qs := []*register.Qualification{{Level: register.LevelPSO, Title: "Level 3 Diploma in Probation Practice", AwardingBody: "Pearson",
			AwardedOn: admitted.AddDate(-1, 0, 0), CertificateRef: fmt.Sprintf("PE-%d", i), State: register.QualificationVerified}}
		if i%2 == 1 {
			qs = append(qs, &register.Qualification{Level: register.LevelPO, Title: "Professional Qualification in Probation", AwardingBody: "University of Portsmouth",
				AwardedOn: admitted.AddDate(0, 0, (30+i*11)/2), CertificateRef: fmt.Sprintf("UP-%d", i), State: register.QualificationVerified})
		}
		rows[i] = &register.ImportRow{
			Registrant:     register.Registrant{FamilyName: benchFamilies[i%len(benchFamilies)], GivenNames: benchGivens[i%len(benchGivens)], DateOfBirth: register.MustDate("1985-04-01"), Email: fmt.Sprintf("p%d@example.org", i)},
			Qualifications: qs, Status: register.StatusRegistered, RegisteredUntil: today.AddDate(0, 0, 100+i), AdmittedOn: admitted,
		}
	}
	seq := func(yield func(*register.ImportRow, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
	ctx := register.NewContextWithActor(context.Background(), register.SystemActor)
	if _, err := sqlite.NewImportService(e.DB).Import(ctx, seq, sqlite.ImportOptions{Count: len(rows)}); err != nil {
		b.Fatal(err)
	}
	numbers := make([]string, len(rows))
	for i, r := range rows {
		numbers[i] = r.Registrant.Number
	}
	e.Server.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return e, numbers
}

// BenchmarkPublicRecordAsAtImported asks as-at questions at instants spread
// over the last three years of bulk-written registrants, as bench/run does:
// most fall in the stored answer's window or before the history begins;
// the rest are derived from the history.
func BenchmarkPublicRecordAsAtImported(b *testing.B) {
	e, numbers := benchImported(b)
	h := e.Server.Handler()
	paths := make([]string, 0, 4*len(numbers))
	for i, n := range numbers {
		for k := range 4 {
			at := e.Now().AddDate(0, 0, -((i*37 + k*283) % 1095))
			paths = append(paths, "/v1/public/registrants/"+n+"?at="+at.Format(time.RFC3339))
		}
	}
	serveEach(b, h, paths, "", "")
}
