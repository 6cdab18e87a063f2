package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/probation-register/register/register"
)

// EventService serves organisations' feeds of register changes.
type EventService struct{ db *DB }

// NewEventService returns the feed store.
func NewEventService(db *DB) *EventService { return &EventService{db: db} }

var _ register.EventService = (*EventService)(nil)

// maxTimeSteps bounds the time-driven changes replayed for one registrant in
// one transaction; a standing changes by time a handful of times a year.
const maxTimeSteps = 64

// recordChanges records what changed in rec's public standing since the
// answer stored before this transaction (previous, which was due to change
// by time at previousChangesAt) up to current, the answer at tx.now. The
// time-driven changes in between come first, each at the instant it took
// effect, so a feed reads in the order things happened.
func recordChanges(tx *Tx, rec *register.Record, previous []byte, previousChangesAt *time.Time, current []byte) error {
	at := previousChangesAt
	for i := 0; at != nil && !at.After(tx.now) && i < maxTimeSteps; i++ {
		s := rec.StandingAt(*at)
		body, err := register.MarshalPublic(register.NewPublicRecord(rec.Registrant, s))
		if err != nil {
			return err
		}
		if previous, err = recordChange(tx, rec.Registrant, previous, body, *at, register.CauseTime); err != nil {
			return err
		}
		if s.ChangesAt == nil || !s.ChangesAt.After(*at) {
			break
		}
		at = s.ChangesAt
	}
	_, err := recordChange(tx, rec.Registrant, previous, current, tx.now, register.CauseWrite)
	return err
}

// recordChange records one change if a watched field differs and adds it to
// the feed of every organisation watching the registrant at that instant.
// It returns current, the state the next change is compared with.
func recordChange(tx *Tx, r *register.Registrant, previous, current []byte, at time.Time, cause string) ([]byte, error) {
	fields, err := register.ChangedFields(previous, current)
	if err != nil || len(fields) == 0 {
		return current, err
	}
	res, err := tx.Exec(`INSERT INTO register_changes (registrant_id, register_number, occurred_at, recorded_at, cause, fields, previous_json, current_json)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Number, formatTime(at), formatTime(tx.now), cause, strings.Join(fields, ","), previous, current)
	if err != nil {
		return nil, err
	}
	changeID, _ := res.LastInsertId()
	if _, err := tx.Exec(`INSERT INTO events (organisation_id, seq, change_id)
		SELECT w.organisation_id, COALESCE((SELECT MAX(seq) FROM events e WHERE e.organisation_id = w.organisation_id), 0) + 1, ?1
		FROM (`+watchingOrganisations+`) w`, changeID, r.ID, at.UTC().Format(register.DateLayout)); err != nil {
		return nil, err
	}
	if cause == register.CauseTime {
		// A write's own audit entry covers its change; a change by time
		// has no write of its own, so it is audited here.
		err = tx.audit("registration.changed_by_time", "registration", r.Number, nil,
			map[string]any{"occurred_at": at.UTC(), "changes": fields})
	}
	return current, err
}

// watchingOrganisations selects the organisations watching registrant ?2 on
// date ?3: those engaging them then and those that added them to their
// watch list. The watch list (watch.go) reads the same rule.
const watchingOrganisations = `SELECT organisation_id FROM engagements e
		WHERE registrant_id = ?2` + engagedOn + `
	UNION SELECT organisation_id FROM watches WHERE registrant_id = ?2`

// engagedOn keeps the engagements e that have not passed their last day by
// date ?3: an engagement watches its registrant until then.
const engagedOn = ` AND (e.valid_until IS NULL OR e.valid_until >= ?3)`

// FindEvents returns the organisation's events after a cursor, in order.
func (s *EventService) FindEvents(ctx context.Context, orgID, after int64, limit int) ([]*register.Event, error) {
	rows, err := s.db.reader.QueryContext(ctx, `SELECT e.organisation_id, `+eventColumns+`
		FROM events e JOIN register_changes c ON c.id = e.change_id
		WHERE e.organisation_id = ? AND e.seq > ? ORDER BY e.seq LIMIT ?`, orgID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*register.Event{}
	for rows.Next() {
		var orgID int64
		ev, err := scanEvent(rows, &orgID)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

const eventColumns = `e.seq, c.register_number, c.occurred_at, c.recorded_at, c.cause, c.fields, c.previous_json, c.current_json`

func scanEvent(row interface{ Scan(...any) error }, orgID *int64, extra ...any) (*register.Event, error) {
	ev := &register.Event{Type: register.EventType}
	var occurred, recorded, fields string
	var previous, current []byte
	dst := append([]any{orgID, &ev.Cursor, &ev.RegisterNumber, &occurred, &recorded, &ev.Cause, &fields, &previous, &current}, extra...)
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	ev.ID = register.EventID(*orgID, ev.Cursor)
	ev.OccurredAt, ev.RecordedAt = parseTime(occurred), parseTime(recorded)
	ev.Changes = strings.Split(fields, ",")
	ev.Previous, ev.Current = json.RawMessage(previous), json.RawMessage(current)
	if previous == nil {
		ev.Previous = json.RawMessage("null")
	}
	return ev, nil
}

// storedAnswer reads the answer stored for a registrant before this
// transaction changes it; nil if they were not on the public register.
func storedAnswer(tx *Tx, number string) ([]byte, *time.Time, error) {
	var body []byte
	var changesAt sql.NullString
	err := tx.QueryRow(`SELECT public_json, changes_at FROM registrations WHERE register_number = ?`, number).Scan(&body, &changesAt)
	if err == sql.ErrNoRows {
		return nil, nil, nil
	}
	return body, scanNullTime(changesAt), err
}
