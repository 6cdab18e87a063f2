package register

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// WatchedFields are the parts of a public record whose change an
// organisation is told of, in the order events list them.
var WatchedFields = []string{"status", "authorised_roles", "conditions", "sanctions", "interim_order", "registered_until"}

// ChangedFields compares two encoded public records (previous may be nil:
// the registrant was not on the public register) and returns the watched
// fields that differ, in WatchedFields order; none if nothing watched changed.
func ChangedFields(previous, current []byte) ([]string, error) {
	var a, b map[string]json.RawMessage
	if previous != nil {
		if err := json.Unmarshal(previous, &a); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal(current, &b); err != nil {
		return nil, err
	}
	var out []string
	for _, f := range WatchedFields {
		if previous == nil || !bytes.Equal(a[f], b[f]) {
			out = append(out, f)
		}
	}
	return out, nil
}

// Change causes.
const (
	CauseWrite = "write" // a registrar, panel or registrant action
	CauseTime  = "time"  // the passage of time: expiry, an order ending, an appeal period ending
)

// Event is one entry of an organisation's feed: a change in the public
// standing of a registrant it watched when the change was recorded.
type Event struct {
	// Cursor is the event's place in the organisation's feed: 1, 2, 3...
	// with no gaps; ask for the events after the last one you hold.
	Cursor         int64           `json:"cursor"`
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	RegisterNumber string          `json:"register_number"`
	OccurredAt     time.Time       `json:"occurred_at"`
	RecordedAt     time.Time       `json:"recorded_at"`
	Cause          string          `json:"cause"`
	Changes        []string        `json:"changes"`
	Previous       json.RawMessage `json:"previous"`
	Current        json.RawMessage `json:"current"`
}

// EventType is the type of every event: the public record changed.
const EventType = "registration.changed"

// EventID is an event's identity across redeliveries (the webhook-id).
func EventID(orgID, cursor int64) string {
	return "evt_" + FormatID(orgID) + "_" + FormatID(cursor)
}

// Webhook is an organisation's delivery address for its feed.
type Webhook struct {
	ID             int64      `json:"id"`
	OrganisationID int64      `json:"organisation_id"`
	URL            string     `json:"url"`
	Created        time.Time  `json:"created_at"`
	Cursor         int64      `json:"cursor"`
	Attempts       int        `json:"failed_attempts"`
	NextAttempt    *time.Time `json:"next_attempt_at"`
	FailingSince   *time.Time `json:"failing_since"`
	// Secret is shown once, when the webhook is created.
	Secret string `json:"secret,omitempty"`
}

// SecretPrefix starts every webhook signing secret (Standard Webhooks form).
const SecretPrefix = "whsec_"

// ValidateWebhook checks a new webhook's address and secret. Plain http is
// accepted only when insecure is set (local development and tests).
func ValidateWebhook(rawURL, secret string, insecure bool) error {
	v := Validation{}
	u, err := url.Parse(rawURL)
	switch {
	case err != nil || u.Host == "" || len(rawURL) > 2000:
		v.Add("url", "must be an absolute URL of at most 2000 characters")
	case u.User != nil:
		v.Add("url", "must not carry a user name or password")
	case u.Scheme != "https" && !(insecure && u.Scheme == "http"):
		v.Add("url", "must use https")
	}
	if secret != "" {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
		if !strings.HasPrefix(secret, SecretPrefix) || err != nil || len(raw) < 24 || len(raw) > 64 {
			v.Add("secret", "must be "+SecretPrefix+" followed by 24 to 64 bytes in base64")
		}
	}
	return v.Err()
}

// Attempt is one recorded webhook delivery attempt.
type Attempt struct {
	ID         int64     `json:"id"`
	Cursor     int64     `json:"cursor"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"`
	Error      string    `json:"error"`
	DurationMS int64     `json:"duration_ms"`
	Outcome    string    `json:"outcome"`
}

// Attempt outcomes.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetrying  = "retrying"
	OutcomeGaveUp    = "gave_up"
)

// Delivery is the next event due to one webhook.
type Delivery struct {
	WebhookID      int64
	OrganisationID int64
	URL            string
	Secret         string
	Attempt        int // 1 for the first try
	FailingSince   *time.Time
	Event          *Event
}

// EventService serves organisations' feeds, always scoped by organisation.
type EventService interface {
	// FindEvents returns up to limit events after the cursor, in order.
	FindEvents(ctx context.Context, orgID, after int64, limit int) ([]*Event, error)
}

// WebhookService keeps organisations' webhooks and their deliveries.
type WebhookService interface {
	// CreateWebhook adds a webhook that receives the events recorded from
	// now on; with no secret it generates one. The answer holds the secret.
	CreateWebhook(ctx context.Context, orgID int64, url, secret string) (*Webhook, error)
	FindWebhooks(ctx context.Context, orgID int64) ([]*Webhook, error)
	FindWebhook(ctx context.Context, orgID, id int64) (*Webhook, error)
	DeleteWebhook(ctx context.Context, orgID, id int64) error
	// FindAttempts lists a webhook's latest attempts, newest first.
	FindAttempts(ctx context.Context, orgID, id int64, limit int) ([]*Attempt, error)

	// DueDeliveries returns, for each webhook whose next event is due, that
	// event, at most limit webhooks.
	DueDeliveries(ctx context.Context, limit int) ([]*Delivery, error)
	// RecordAttempt records the outcome of delivering d: on success the
	// webhook moves to its next event; on failure it is retried at next,
	// or given up on (and moved past) when next is nil.
	RecordAttempt(ctx context.Context, d *Delivery, a *Attempt, next *time.Time) error
}
