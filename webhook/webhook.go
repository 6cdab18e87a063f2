// Package webhook delivers organisations' event feeds to their webhooks:
// in order, signed in the Standard Webhooks format (HMAC-SHA256), retried
// with exponential backoff for at least a day, every attempt recorded.
//
// Delivery runs outside every database transaction: a slow or failing
// receiver holds only its own webhook's worker, never the store's writer,
// the read pool or another organisation's deliveries.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/probation-register/register/register"
)

// Dispatcher delivers due events. Set the fields, then Run it, or call
// Tick and Wait (tests).
type Dispatcher struct {
	Store  register.WebhookService
	Logger *slog.Logger
	// Now is the store's clock: attempts and retries are scheduled by it.
	Now func() time.Time
	// Client sends deliveries; NewClient builds the safe default.
	Client *http.Client
	// RetryFor is how long a failing event is retried before it is given
	// up on (at least 24 hours in production).
	RetryFor time.Duration
	// Workers bounds concurrent deliveries across all webhooks.
	Workers int

	once     sync.Once
	slots    chan struct{}
	mu       sync.Mutex
	inflight map[int64]bool
	wg       sync.WaitGroup
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		if d.Workers <= 0 {
			d.Workers = 8
		}
		d.slots = make(chan struct{}, d.Workers)
		d.inflight = map[int64]bool{}
	})
}

// Run delivers due events every interval until ctx ends.
func (d *Dispatcher) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			d.Wait()
			return
		case <-t.C:
			if err := d.Tick(ctx); err != nil && ctx.Err() == nil {
				d.Logger.Error("webhook deliveries", slog.Any("error", err))
			}
		}
	}
}

// Tick starts delivering every due event whose webhook is idle, each on its
// own worker, as many as there are free workers; it does not wait for them.
func (d *Dispatcher) Tick(ctx context.Context) error {
	d.init()
	due, err := d.Store.DueDeliveries(ctx, 4*d.Workers)
	if err != nil {
		return err
	}
	for _, del := range due {
		d.mu.Lock()
		busy := d.inflight[del.WebhookID]
		d.mu.Unlock()
		if busy {
			continue
		}
		select {
		case d.slots <- struct{}{}:
		default:
			return nil // every worker is busy: the rest wait for the next tick
		}
		d.mu.Lock()
		d.inflight[del.WebhookID] = true
		d.mu.Unlock()
		d.wg.Add(1)
		go func(del *register.Delivery) {
			defer func() {
				d.mu.Lock()
				delete(d.inflight, del.WebhookID)
				d.mu.Unlock()
				<-d.slots
				d.wg.Done()
			}()
			d.deliver(ctx, del)
		}(del)
	}
	return nil
}

// Wait waits for the deliveries started so far.
func (d *Dispatcher) Wait() { d.wg.Wait() }

func (d *Dispatcher) deliver(ctx context.Context, del *register.Delivery) {
	start := time.Now()
	code, err := d.send(ctx, del)
	if err != nil && ctx.Err() != nil {
		return // shutting down: not the receiver's failure; the event is sent again after restart
	}
	now := d.Now()
	a := &register.Attempt{At: now, DurationMS: time.Since(start).Milliseconds(), Outcome: register.OutcomeDelivered}
	if code != 0 {
		a.StatusCode = &code
	}
	var next *time.Time
	if err != nil {
		a.Error = truncate(err.Error(), 500)
		since := now
		if del.FailingSince != nil {
			since = *del.FailingSince
		}
		if now.Sub(since) >= d.RetryFor {
			a.Outcome = register.OutcomeGaveUp
		} else {
			a.Outcome = register.OutcomeRetrying
			t := now.Add(Backoff(del.Attempt))
			next = &t
		}
	}
	if err := d.Store.RecordAttempt(context.WithoutCancel(ctx), del, a, next); err != nil { // a finished attempt is recorded even while shutting down
		d.Logger.Error("record webhook attempt", slog.Int64("webhook", del.WebhookID), slog.Any("error", err))
	}
	d.Logger.Info("webhook delivery", slog.Int64("webhook", del.WebhookID), slog.String("event", del.Event.ID),
		slog.Int("attempt", del.Attempt), slog.String("outcome", a.Outcome), slog.Int("status", code))
}

// send posts the event and returns the receiver's status; any status but
// 2xx, or no answer, is an error.
func (d *Dispatcher) send(ctx context.Context, del *register.Delivery) (int, error) {
	body, err := json.Marshal(del.Event)
	if err != nil {
		return 0, err
	}
	wh, err := standardwebhooks.NewWebhook(del.Secret)
	if err != nil {
		return 0, err
	}
	// The signed timestamp is the wall clock's: receivers check it against theirs.
	ts := time.Now()
	sig, err := wh.Sign(del.Event.ID, ts, body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, del.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "national-probation-register-webhooks")
	req.Header.Set(standardwebhooks.HeaderWebhookID, del.Event.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(ts.Unix()))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := d.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// Backoff is the wait after the given failed attempt (1 for the first):
// 10 seconds doubling to at most an hour, each within ±20 %.
func Backoff(attempt int) time.Duration {
	b := &backoff.ExponentialBackOff{InitialInterval: 10 * time.Second, RandomizationFactor: 0.2, Multiplier: 2, MaxInterval: time.Hour}
	b.Reset()
	var wait time.Duration
	for range max(attempt, 1) {
		wait = b.NextBackOff()
	}
	return wait
}

// ErrPrivateAddress refuses a delivery to the register's own network.
var ErrPrivateAddress = errors.New("webhook address is loopback, private or link-local")

// NewClient returns the delivery client: a 10-second limit per attempt, no
// redirects followed, and (unless insecure) no connection to loopback,
// private or link-local addresses, checked on the address actually dialled
// so that a name cannot be re-pointed at the register's own network.
func NewClient(insecure bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if !insecure {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() {
				return ErrPrivateAddress
			}
			return nil
		}
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
