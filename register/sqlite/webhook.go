package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"time"

	"github.com/probation-register/register/register"
)

var _ register.WebhookService = (*EventService)(nil)

// maxWebhooks bounds an organisation's live webhooks.
const maxWebhooks = 10

// CreateWebhook adds a webhook that receives the organisation's events
// recorded from now on.
func (s *EventService) CreateWebhook(ctx context.Context, orgID int64, url, secret string) (*register.Webhook, error) {
	if secret == "" {
		raw := make([]byte, 32)
		rand.Read(raw)
		secret = register.SecretPrefix + base64.StdEncoding.EncodeToString(raw)
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var live int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM webhooks WHERE organisation_id = ? AND deleted_at IS NULL`, orgID).Scan(&live); err != nil {
		return nil, err
	}
	if live >= maxWebhooks {
		return nil, register.Errorf(register.ECONFLICT, "An organisation may have at most %d webhooks; delete one first.", maxWebhooks)
	}
	res, err := tx.Exec(`INSERT INTO webhooks (organisation_id, url, secret, created_at, cursor)
		VALUES (?1, ?2, ?3, ?4, (SELECT COALESCE(MAX(seq), 0) FROM events WHERE organisation_id = ?1))`, orgID, url, secret, formatTime(tx.now))
	if err != nil {
		return nil, err
	}
	id, _ := res.LastInsertId()
	w, err := findWebhook(tx, ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if err := tx.audit("webhook.create", "webhook", register.FormatID(id), nil, w); err != nil {
		return nil, err
	}
	w.Secret = secret
	return w, tx.Commit()
}

const webhookColumns = `id, organisation_id, url, created_at, cursor, attempts, next_attempt_at, failing_since`

// rowQuerier is a transaction or the read pool.
type rowQuerier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func findWebhook(q rowQuerier, ctx context.Context, orgID, id int64) (*register.Webhook, error) {
	w, err := scanWebhook(q.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE id = ? AND organisation_id = ? AND deleted_at IS NULL`, id, orgID))
	if err == sql.ErrNoRows {
		return nil, register.Errorf(register.ENOTFOUND, "No such webhook.")
	}
	return w, err
}

func scanWebhook(row interface{ Scan(...any) error }) (*register.Webhook, error) {
	var w register.Webhook
	var created string
	var next, failing sql.NullString
	if err := row.Scan(&w.ID, &w.OrganisationID, &w.URL, &created, &w.Cursor, &w.Attempts, &next, &failing); err != nil {
		return nil, err
	}
	w.Created, w.NextAttempt, w.FailingSince = parseTime(created), scanNullTime(next), scanNullTime(failing)
	return &w, nil
}

// FindWebhooks lists the organisation's live webhooks.
func (s *EventService) FindWebhooks(ctx context.Context, orgID int64) ([]*register.Webhook, error) {
	rows, err := s.db.reader.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE organisation_id = ? AND deleted_at IS NULL ORDER BY id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*register.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// FindWebhook returns one of the organisation's webhooks; another's answers as missing.
func (s *EventService) FindWebhook(ctx context.Context, orgID, id int64) (*register.Webhook, error) {
	return findWebhook(s.db.reader, ctx, orgID, id)
}

// DeleteWebhook stops deliveries to a webhook; its attempts stay on record.
func (s *EventService) DeleteWebhook(ctx context.Context, orgID, id int64) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	w, err := findWebhook(tx, ctx, orgID, id)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(`UPDATE webhooks SET deleted_at = ? WHERE id = ?`, formatTime(tx.now), id); err != nil {
		return err
	}
	if err := tx.audit("webhook.delete", "webhook", register.FormatID(id), w, nil); err != nil {
		return err
	}
	return tx.Commit()
}

// FindAttempts lists a webhook's latest delivery attempts, newest first.
func (s *EventService) FindAttempts(ctx context.Context, orgID, id int64, limit int) ([]*register.Attempt, error) {
	if _, err := findWebhook(s.db.reader, ctx, orgID, id); err != nil {
		return nil, err
	}
	rows, err := s.db.reader.QueryContext(ctx, `SELECT id, seq, attempt, at, status_code, error, duration_ms, outcome
		FROM webhook_attempts WHERE webhook_id = ? ORDER BY id DESC LIMIT ?`, id, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*register.Attempt{}
	for rows.Next() {
		var a register.Attempt
		var at string
		var code sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Cursor, &a.Attempt, &at, &code, &a.Error, &a.DurationMS, &a.Outcome); err != nil {
			return nil, err
		}
		a.At = parseTime(at)
		if code.Valid {
			c := int(code.Int64)
			a.StatusCode = &c
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// DueDeliveries returns the next event of each webhook that is due now.
func (s *EventService) DueDeliveries(ctx context.Context, limit int) ([]*register.Delivery, error) {
	rows, err := s.db.reader.QueryContext(ctx, `SELECT e.organisation_id, `+eventColumns+`,
			w.id, w.url, w.secret, w.attempts, w.failing_since
		FROM webhooks w
		JOIN events e ON e.organisation_id = w.organisation_id AND e.seq = w.cursor + 1
		JOIN register_changes c ON c.id = e.change_id
		WHERE w.deleted_at IS NULL AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= ?)
		ORDER BY w.next_attempt_at, w.id LIMIT ?`, formatTime(s.db.now()), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*register.Delivery{}
	for rows.Next() {
		d := &register.Delivery{}
		var failing sql.NullString
		if d.Event, err = scanEvent(rows, &d.OrganisationID, &d.WebhookID, &d.URL, &d.Secret, &d.Attempt, &failing); err != nil {
			return nil, err
		}
		d.Attempt++
		d.FailingSince = scanNullTime(failing)
		out = append(out, d)
	}
	return out, rows.Err()
}

// RecordAttempt records a delivery attempt and moves the webhook on: to its
// next event when delivered or given up on, to a later try otherwise. An
// attempt for a webhook that has moved on or was deleted meanwhile is
// recorded and changes nothing else.
func (s *EventService) RecordAttempt(ctx context.Context, d *register.Delivery, a *register.Attempt, next *time.Time) error {
	tx, err := s.db.BeginTx(register.NewContextWithActor(ctx, register.SystemActor))
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO webhook_attempts (webhook_id, seq, attempt, at, status_code, error, duration_ms, outcome)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, d.WebhookID, d.Event.Cursor, d.Attempt, formatTime(a.At), a.StatusCode, a.Error, a.DurationMS, a.Outcome); err != nil {
		return err
	}
	const current = ` WHERE id = ? AND cursor = ? AND deleted_at IS NULL`
	switch a.Outcome {
	case register.OutcomeRetrying:
		_, err = tx.Exec(`UPDATE webhooks SET attempts = attempts + 1, next_attempt_at = ?, failing_since = COALESCE(failing_since, ?)`+current,
			nullTime(next), formatTime(a.At), d.WebhookID, d.Event.Cursor-1)
	default:
		_, err = tx.Exec(`UPDATE webhooks SET cursor = cursor + 1, attempts = 0, next_attempt_at = NULL, failing_since = NULL`+current,
			d.WebhookID, d.Event.Cursor-1)
		if err == nil && a.Outcome == register.OutcomeGaveUp {
			// Giving up moves the webhook past an event it never received:
			// the feed still holds it, and the record says so.
			err = tx.audit("webhook.gave_up", "webhook", register.FormatID(d.WebhookID), nil,
				map[string]any{"event": d.Event.ID, "attempts": d.Attempt, "failing_since": d.FailingSince})
		}
	}
	if err != nil {
		return err
	}
	return tx.Commit()
}
