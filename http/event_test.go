package http_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
	"github.com/probation-register/register/webhook"
)

// refreshDue runs the job that records changes by the passage of time.
func refreshDue(t *testing.T, e *env) int {
	t.Helper()
	n, err := sqlite.NewRegistrationService(e.DB).RefreshDue(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// feed reads an organisation's whole feed and checks it is gap-free.
func feed(t *testing.T, e *env, key string) []map[string]any {
	t.Helper()
	var out []map[string]any
	after := "0"
	for {
		m := e.Must(200, "GET", "/v1/events?limit=2&after="+after, key, nil)
		items := m["items"].([]any)
		for _, it := range items {
			ev := it.(map[string]any)
			if got, want := jsonID(ev["cursor"]), strconv.Itoa(len(out)+1); got != want {
				t.Fatalf("event cursor %s, want %s: the feed has a gap or is out of order", got, want)
			}
			out = append(out, ev)
		}
		if len(items) == 0 {
			if jsonID(m["next_after"]) != after {
				t.Fatalf("next_after %v on an empty page after %s", m["next_after"], after)
			}
			return out
		}
		after = jsonID(m["next_after"])
	}
}

// summary is an event as "cause changes status@occurred_at".
func eventSummary(ev map[string]any) string {
	var changes []string
	for _, c := range ev["changes"].([]any) {
		changes = append(changes, c.(string))
	}
	return ev["cause"].(string) + " " + strings.Join(changes, ",") + " " + ev["current"].(map[string]any)["status"].(string) + "@" + ev["occurred_at"].(string)
}

func TestEventFeed(t *testing.T) {
	f := newFTP(t)
	admin := f.Token(register.RoleAdmin)
	_, aKey := f.Org(admin, "North Probation Service", "employer")
	_, bKey := f.Org(admin, "Temps Ltd", "agency")
	n := f.practitioner("Watched")
	other := f.practitioner("Unwatched")
	f.Must(201, "POST", "/v1/engagements", aKey, map[string]any{"register_number": n, "role": "PO", "type": "employed", "from": register.DateOf(f.Now()).String()})

	// A suspension decided now takes effect when the appeal period ends and
	// ends by itself three months later: two changes by time alone.
	decided := f.Now()
	f.decide(f.toHearing(n, "Allegation."), map[string]any{"kind": "suspension", "months": 3})
	f.decide(f.toHearing(other, "Allegation."), map[string]any{"kind": "suspension", "months": 3, "immediate": true})
	if evs := feed(t, f.env, aKey); len(evs) != 0 {
		t.Fatalf("a decision in its appeal period changed nothing public, yet the feed has %v", evs)
	}
	effect := decided.AddDate(0, 0, 28)
	end := effect.AddDate(0, 3, 0)

	// Both instants pass before any job runs; the first write to the
	// record afterwards records them, each at its own instant, in order.
	f.Set(end.Add(48 * time.Hour))
	f.Must(200, "PATCH", "/v1/registrants/"+n, f.reg(), map[string]any{"given_names": "Samuel"})
	refreshDue(t, f.env) // finds nothing more for n: exactly once
	want := []string{
		"time status,authorised_roles,sanctions suspended@" + effect.Format(time.RFC3339),
		"time status,authorised_roles,sanctions registered@" + end.Format(time.RFC3339),
	}
	// Expiry into lapse, found by the job; then a restoration by a registrar.
	f.Set(register.MustDate("2029-01-01").Start().Add(time.Hour))
	if refreshDue(t, f.env) == 0 {
		t.Fatal("the job found no answer due to change at expiry")
	}
	want = append(want, "time status,authorised_roles lapsed@"+register.MustDate("2029-01-01").Start().Format(time.RFC3339))
	refreshDue(t, f.env)
	f.Must(200, "POST", "/v1/registrants/"+n+"/registration/restore", f.reg(), map[string]any{"registered_until": "2030-01-31", "reason": "returned to practice"})
	want = append(want, "write status,authorised_roles,registered_until registered@"+f.Now().Format(time.RFC3339))

	evs := feed(t, f.env, aKey)
	var got []string
	for _, ev := range evs {
		got = append(got, eventSummary(ev))
		if ev["register_number"] != n || ev["type"] != "registration.changed" {
			t.Fatalf("event %v", ev)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("feed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Each event carries the public record before and after, and nothing private.
	if p := evs[0]["previous"].(map[string]any); p["status"] != "registered" {
		t.Fatalf("previous of the first event: %v", p)
	}
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		for _, private := range []string{"date_of_birth", "email", "Allegation.", "Private reasons"} {
			if strings.Contains(string(b), private) {
				t.Fatalf("an event carries %q: %s", private, b)
			}
		}
	}

	t.Run("another organisation sees none of it", func(t *testing.T) {
		if evs := feed(t, f.env, bKey); len(evs) != 0 {
			t.Fatalf("B's feed: %v", evs)
		}
	})
	t.Run("a cursor resumes where it left off", func(t *testing.T) {
		m := f.Must(200, "GET", "/v1/events?after=2&limit=1", aKey, nil)
		items := m["items"].([]any)
		if len(items) != 1 || jsonID(items[0].(map[string]any)["cursor"]) != "3" || jsonID(m["next_after"]) != "3" {
			t.Fatalf("after 2: %v", m)
		}
	})
	t.Run("an added watch gets later changes", func(t *testing.T) {
		f.Must(200, "PUT", "/v1/watchlist/"+other, bKey, nil)
		f.Set(register.MustDate("2029-01-01").Start().Add(2 * time.Hour))
		// other's registration (until 2028-12-31) lapsed at the same instant;
		// the job has recorded it already, before B watched.
		refreshDue(t, f.env)
		if evs := feed(t, f.env, bKey); len(evs) != 0 {
			t.Fatalf("B got changes recorded before it watched: %v", evs)
		}
		f.Must(200, "POST", "/v1/registrants/"+other+"/registration/restore", f.reg(), map[string]any{"registered_until": "2030-01-31", "reason": "returned"})
		evs := feed(t, f.env, bKey)
		if len(evs) != 1 || evs[0]["register_number"] != other || evs[0]["cause"] != "write" {
			t.Fatalf("B's feed: %v", evs)
		}
		if len(feed(t, f.env, aKey)) != len(want) {
			t.Fatal("A got an event about someone it does not watch")
		}
	})
	t.Run("changes by time are audited", func(t *testing.T) {
		var count int
		if err := f.DB.Reader().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'registration.changed_by_time' AND entity_id = ?`, n).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if count != 3 {
			t.Fatalf("%d audited changes by time, want 3", count)
		}
		f.verifyAudit()
	})
	t.Run("an ended engagement stops watching after its last day", func(t *testing.T) {
		engs := f.Must(200, "GET", "/v1/engagements", aKey, nil)["items"].([]any)
		id := jsonID(engs[0].(map[string]any)["id"])
		f.Must(200, "POST", "/v1/engagements/"+id+"/end", aKey, map[string]any{"until": register.DateOf(f.Now()).String()})
		f.Advance(48 * time.Hour)
		if items := f.Must(200, "GET", "/v1/watchlist", aKey, nil)["items"].([]any); len(items) != 0 {
			t.Fatalf("watch list after the engagement ended: %v", items)
		}
		before := len(feed(t, f.env, aKey))
		f.decide(f.toHearing(n, "Allegation."), map[string]any{"kind": "suspension", "months": 1, "immediate": true})
		if st := f.public(n, time.Time{})["status"]; st != "suspended" {
			t.Fatalf("status %v: the change this test relies on did not happen", st)
		}
		if after := len(feed(t, f.env, aKey)); after != before {
			t.Fatalf("the feed grew from %d to %d after the engagement ended", before, after)
		}
	})
	t.Run("bad cursors and limits", func(t *testing.T) {
		if r := f.Do("GET", "/v1/events?after=-1", aKey, nil); r.Field(t, "after") == "" {
			t.Fatalf("after=-1: %d %s", r.Status, r.Body)
		}
		if r := f.Do("GET", "/v1/events?limit=abc", aKey, nil); r.Field(t, "limit") == "" {
			t.Fatalf("limit=abc: %d %s", r.Status, r.Body)
		}
	})
}

// receiver is a webhook endpoint that fails its first failures requests,
// then verifies and keeps each delivery.
type receiver struct {
	t        *testing.T
	mu       sync.Mutex
	secret   string
	failures int
	calls    int
	ids      []string
	bodies   []map[string]any
	srv      *httptest.Server
}

func newReceiver(t *testing.T, failures int) *receiver {
	r := &receiver{t: t, failures: failures}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls++
		if r.calls <= r.failures {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		wh, err := standardwebhooks.NewWebhook(r.secret)
		if err != nil {
			t.Error(err)
			return
		}
		if err := wh.Verify(body, req.Header); err != nil {
			t.Errorf("signature does not verify: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Error(err)
		}
		r.ids = append(r.ids, req.Header.Get("webhook-id"))
		r.bodies = append(r.bodies, m)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) received() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.bodies...)
}

func dispatcher(e *env) *webhook.Dispatcher {
	return &webhook.Dispatcher{
		Store:    e.Server.Webhooks,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:      e.Now,
		Client:   webhook.NewClient(true),
		RetryFor: 24 * time.Hour,
		Workers:  4,
	}
}

// tick runs one round of deliveries and waits for it.
func tick(t *testing.T, d *webhook.Dispatcher) {
	t.Helper()
	if err := d.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.Wait()
}

// threeChanges makes three events for n: suspended now (immediate),
// registered again a month later, then lapsed at expiry.
func threeChanges(t *testing.T, f *ftp, n string) {
	t.Helper()
	f.decide(f.toHearing(n, "Allegation."), map[string]any{"kind": "suspension", "months": 1, "immediate": true})
	f.Advance(32 * 24 * time.Hour)
	refreshDue(t, f.env)
	f.Set(register.MustDate("2029-01-01").Start().Add(time.Hour))
	refreshDue(t, f.env)
}

func TestWebhookDeliversEveryEventInOrder(t *testing.T) {
	f := newFTP(t)
	admin := f.Token(register.RoleAdmin)
	_, key := f.Org(admin, "North Probation Service", "employer")
	n := f.practitioner("Hooked")
	f.Must(200, "PUT", "/v1/watchlist/"+n, key, nil)
	rc := newReceiver(t, 4) // down for the first four attempts
	w := f.Must(201, "POST", "/v1/webhooks", key, map[string]any{"url": rc.srv.URL + "/hook"})
	rc.secret = w["secret"].(string)
	threeChanges(t, f, n)
	d := dispatcher(f.env)

	for i := 0; i < 40 && len(rc.received()) < 3; i++ {
		tick(t, d)
		f.Advance(time.Hour) // past any backoff so far
	}
	got := rc.received()
	if len(got) != 3 {
		t.Fatalf("receiver got %d events, want 3", len(got))
	}
	for i, ev := range got {
		if jsonID(ev["cursor"]) != strconv.Itoa(i+1) || rc.ids[i] != ev["id"] {
			t.Fatalf("delivery %d: cursor %v id %v header %s", i, ev["cursor"], ev["id"], rc.ids[i])
		}
	}
	statuses := []string{got[0]["current"].(map[string]any)["status"].(string), got[1]["current"].(map[string]any)["status"].(string), got[2]["current"].(map[string]any)["status"].(string)}
	if strings.Join(statuses, ",") != "suspended,registered,lapsed" {
		t.Fatalf("delivered in the wrong order: %v", statuses)
	}

	id := jsonID(w["id"])
	attempts := f.Must(200, "GET", "/v1/webhooks/"+id+"/attempts", key, nil)["items"].([]any)
	if len(attempts) != 7 {
		t.Fatalf("%d attempts recorded, want 4 failed and 3 delivered: %v", len(attempts), attempts)
	}
	last := attempts[len(attempts)-1].(map[string]any) // oldest
	if last["outcome"] != "retrying" || jsonID(last["status_code"]) != "503" || jsonID(last["attempt"]) != "1" {
		t.Fatalf("first attempt %v", last)
	}
	if a := attempts[3].(map[string]any); a["outcome"] != "retrying" || jsonID(a["attempt"]) != "4" {
		t.Fatalf("fourth attempt %v", a)
	}
	if a := attempts[2].(map[string]any); a["outcome"] != "delivered" || jsonID(a["attempt"]) != "5" {
		t.Fatalf("fifth attempt %v", a)
	}
	hook := f.Must(200, "GET", "/v1/webhooks/"+id, key, nil)
	if jsonID(hook["cursor"]) != "3" || jsonID(hook["failed_attempts"]) != "0" || hook["failing_since"] != nil {
		t.Fatalf("webhook after catching up: %v", hook)
	}
	// Nothing more is due: another round sends nothing.
	tick(t, d)
	if len(rc.received()) != 3 {
		t.Fatal("an event was delivered twice")
	}
}

func TestWebhookRetriesForADayThenGivesUp(t *testing.T) {
	f := newFTP(t)
	admin := f.Token(register.RoleAdmin)
	_, key := f.Org(admin, "North Probation Service", "employer")
	n := f.practitioner("Unreachable")
	f.Must(200, "PUT", "/v1/watchlist/"+n, key, nil)
	rc := newReceiver(t, 1<<30) // never recovers
	w := f.Must(201, "POST", "/v1/webhooks", key, map[string]any{"url": rc.srv.URL})
	rc.secret = w["secret"].(string)
	f.decide(f.toHearing(n, "Allegation."), map[string]any{"kind": "suspension", "months": 1, "immediate": true})
	d := dispatcher(f.env)
	start := f.Now()
	id := jsonID(w["id"])
	for i := 0; i < 200; i++ {
		tick(t, d)
		hook := f.Must(200, "GET", "/v1/webhooks/"+id, key, nil)
		if jsonID(hook["cursor"]) == "1" {
			break
		}
		next, err := time.Parse(time.RFC3339, hook["next_attempt_at"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if !next.After(f.Now()) {
			t.Fatalf("retry scheduled at %s, not after now %s", next, f.Now())
		}
		f.Set(next)
	}
	attempts := f.Must(200, "GET", "/v1/webhooks/"+id+"/attempts?limit=200", key, nil)["items"].([]any)
	final := attempts[0].(map[string]any)
	if final["outcome"] != "gave_up" {
		t.Fatalf("last attempt %v", final)
	}
	at, _ := time.Parse(time.RFC3339, final["at"].(string))
	if at.Sub(start) < 24*time.Hour {
		t.Fatalf("gave up after %s, want at least 24h", at.Sub(start))
	}
	// Exponential: the gaps grow from seconds to an hour, never beyond.
	first, _ := time.Parse(time.RFC3339, attempts[len(attempts)-1].(map[string]any)["at"].(string))
	second, _ := time.Parse(time.RFC3339, attempts[len(attempts)-2].(map[string]any)["at"].(string))
	if gap := second.Sub(first); gap < 8*time.Second || gap > 12*time.Second {
		t.Fatalf("first retry after %s, want about 10 s", gap)
	}
	if len(attempts) < 20 || len(attempts) > 40 {
		t.Fatalf("%d attempts in a day", len(attempts))
	}
	var gaveUp int
	f.DB.Reader().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'webhook.gave_up'`).Scan(&gaveUp)
	if gaveUp != 1 {
		t.Fatalf("%d audited give-ups", gaveUp)
	}
	// The event stays in the feed.
	if evs := feed(t, f.env, key); len(evs) != 1 {
		t.Fatalf("feed %v", evs)
	}
}

func TestSlowWebhookDoesNotHoldTheRegister(t *testing.T) {
	f := newFTP(t)
	admin := f.Token(register.RoleAdmin)
	_, key := f.Org(admin, "North Probation Service", "employer")
	_, otherKey := f.Org(admin, "Temps Ltd", "agency")
	n := f.practitioner("Slow")
	f.Must(200, "PUT", "/v1/watchlist/"+n, key, nil)
	f.Must(200, "PUT", "/v1/watchlist/"+n, otherKey, nil)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	fast := newReceiver(t, 0)
	f.Must(201, "POST", "/v1/webhooks", key, map[string]any{"url": slow.URL})
	w := f.Must(201, "POST", "/v1/webhooks", otherKey, map[string]any{"url": fast.srv.URL})
	fast.secret = w["secret"].(string)
	f.decide(f.toHearing(n, "Allegation."), map[string]any{"kind": "suspension", "months": 1, "immediate": true})

	d := dispatcher(f.env)
	if err := d.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	// While the slow receiver holds its delivery open, the other
	// organisation's delivery completes, and the register answers reads and
	// takes writes.
	for i := 0; i < 200 && len(fast.received()) == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if len(fast.received()) != 1 {
		t.Fatal("the other organisation's delivery waited for the slow receiver")
	}
	for range 50 {
		f.Must(200, "GET", "/v1/public/registrants/"+n, "", nil)
	}
	f.Must(200, "PATCH", "/v1/registrants/"+n, f.reg(), map[string]any{"given_names": "Samantha"})
	f.Must(201, "POST", "/v1/webhooks", key, map[string]any{"url": fast.srv.URL + "/second"})
	close(release)
	d.Wait()
}

// TestEveryKindOfChangeReachesTheFeed drives each kind of change a watcher
// must hear of, by a write or by time, and checks each arrives once.
func TestEveryKindOfChangeReachesTheFeed(t *testing.T) {
	f := newFTP(t)
	_, key := f.Org(f.Token(register.RoleAdmin), "North Probation Service", "employer")
	n := f.Practitioner(f.reg(), "Kinds", "Kim", 3, "2026-12-31") // a PSO
	f.Must(200, "PUT", "/v1/watchlist/"+n, key, nil)
	var want []string
	step := func(cause string, fields ...string) {
		want = append(want, cause+" "+strings.Join(fields, ","))
	}

	// A verified level 5 qualification: a new authorised role.
	q := f.Must(201, "POST", "/v1/registrants/"+n+"/qualifications", f.reg(), map[string]any{
		"level": 5, "title": "Level 5 Diploma in Probation Practice", "awarding_body": "Awarding Body",
		"awarded_on": "2025-07-01", "certificate_ref": "CERT-5", "state": "claimed"})
	f.Must(200, "POST", "/v1/registrants/"+n+"/qualifications/"+jsonID(q["id"])+"/verify", f.reg(), nil)
	step("write", "authorised_roles")
	// A name change is not a change a watcher acts on.
	f.Must(200, "PATCH", "/v1/registrants/"+n, f.reg(), map[string]any{"family_name": "Kinds-Smith"})
	// Renewal moves registered_until.
	f.Must(200, "POST", "/v1/registrants/"+n+"/registration/renew", f.reg(), map[string]any{"registered_until": "2027-12-31"})
	step("write", "registered_until")
	// Interim conditions while a case is investigated, ending by time.
	id := f.referral(n, "Allegation.")
	f.stage(id, "investigation")
	f.seatPanel(id)
	f.decide(id, map[string]any{"kind": "interim_conditions", "months": 2,
		"conditions": []map[string]any{{"code": "no_sole_working", "text": "Must not work alone."}}})
	step("write", "conditions", "interim_order")
	f.Advance(63 * 24 * time.Hour)
	refreshDue(t, f.env)
	step("time", "conditions", "interim_order")
	// Final conditions take effect when the appeal period ends.
	f.stage(id, "referred_to_panel")
	f.stage(id, "hearing")
	decided := f.Now()
	f.decide(id, map[string]any{"kind": "conditions", "months": 6,
		"conditions": []map[string]any{{"code": "supervised_by_po", "text": "Supervised by a Probation Officer."}}})
	f.Set(decided.AddDate(0, 0, 28).Add(time.Minute))
	refreshDue(t, f.env)
	step("time", "conditions", "sanctions")
	refreshDue(t, f.env) // nothing twice

	evs := feed(t, f.env, key)
	var got []string
	for _, ev := range evs {
		var fields []string
		for _, c := range ev["changes"].([]any) {
			fields = append(fields, c.(string))
		}
		got = append(got, ev["cause"].(string)+" "+strings.Join(fields, ","))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("feed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if at := evs[4]["occurred_at"]; at != decided.AddDate(0, 0, 28).Format(time.RFC3339) {
		t.Fatalf("conditions took effect at %v, want the end of the appeal period", at)
	}
}

// TestWebhookShutdownMidDelivery: a delivery cut off by shutdown is not
// counted as the receiver's failure, and is sent again afterwards.
func TestWebhookShutdownMidDelivery(t *testing.T) {
	f := newFTP(t)
	_, key := f.Org(f.Token(register.RoleAdmin), "North Probation Service", "employer")
	n := f.practitioner("Shutdown")
	f.Must(200, "PUT", "/v1/watchlist/"+n, key, nil)
	arrived := make(chan struct{}, 1)
	var mu sync.Mutex
	hold := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := hold
		mu.Unlock()
		if h {
			io.Copy(io.Discard, r.Body) // a server notices a client gone only once the body is read
			arrived <- struct{}{}
			<-r.Context().Done() // held open until the register gives up on it
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	w := f.Must(201, "POST", "/v1/webhooks", key, map[string]any{"url": srv.URL})
	f.decide(f.toHearing(n, "Allegation."), map[string]any{"kind": "suspension", "months": 1, "immediate": true})

	ctx, cancel := context.WithCancel(context.Background())
	d := dispatcher(f.env)
	if err := d.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	<-arrived
	cancel()
	d.Wait()
	id := jsonID(w["id"])
	if as := f.Must(200, "GET", "/v1/webhooks/"+id+"/attempts", key, nil)["items"].([]any); len(as) != 0 {
		t.Fatalf("an attempt cut off by shutdown was recorded: %v", as)
	}
	mu.Lock()
	hold = false
	mu.Unlock()
	tick(t, dispatcher(f.env))
	as := f.Must(200, "GET", "/v1/webhooks/"+id+"/attempts", key, nil)["items"].([]any)
	if len(as) != 1 || as[0].(map[string]any)["outcome"] != "delivered" || jsonID(as[0].(map[string]any)["attempt"]) != "1" {
		t.Fatalf("after restart: %v", as)
	}
}
