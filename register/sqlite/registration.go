package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/probation-register/register/register"
)

// RegistrationService changes registration status and reads its history.
type RegistrationService struct{ db *DB }

// NewRegistrationService returns the registration store.
func NewRegistrationService(db *DB) *RegistrationService { return &RegistrationService{db: db} }

var _ register.RegistrationService = (*RegistrationService)(nil)

// loadRecord reads everything that decides a registrant's standing.
func loadRecord(tx *Tx, number string) (*register.Record, error) {
	r, err := findRegistrant(tx, number)
	if err != nil {
		return nil, err
	}
	rec := &register.Record{Registrant: r}
	if rec.Qualifications, err = loadQualifications(tx, r.ID); err != nil {
		return nil, err
	}
	if rec.Periods, err = loadPeriods(tx, r.ID); err != nil {
		return nil, err
	}
	if rec.Orders, err = loadOrders(tx, r.ID); err != nil {
		return nil, err
	}
	return rec, nil
}

func loadPeriods(tx *Tx, registrantID int64) ([]*register.Period, error) {
	rows, err := tx.Query(`SELECT id, status, valid_from, valid_to, registered_until, reason
		FROM registration_periods WHERE registrant_id = ? AND superseded_at IS NULL ORDER BY valid_from, id`, registrantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*register.Period
	for rows.Next() {
		var p register.Period
		var status, from, until string
		var to sql.NullString
		if err := rows.Scan(&p.ID, &status, &from, &to, &until, &p.Reason); err != nil {
			return nil, err
		}
		p.Status, p.From, p.To, p.RegisteredUntil = register.Status(status), parseTime(from), scanNullTime(to), parseDate(until)
		out = append(out, &p)
	}
	return out, rows.Err()
}

// refreshRegistration recomputes the materialised standing and public answer
// of one registrant; every write that can change them calls it in its Tx.
func refreshRegistration(tx *Tx, number string) error {
	rec, err := loadRecord(tx, number)
	if err != nil {
		return err
	}
	return storeStanding(tx, rec)
}

func storeStanding(tx *Tx, rec *register.Record) error {
	if len(rec.Periods) == 0 {
		return nil // an applicant: not on the public register
	}
	previous, previousChangesAt, err := storedAnswer(tx, rec.Registrant.Number)
	if err != nil {
		return err
	}
	seq, err := tx.nextAnswerSeq()
	if err != nil {
		return err
	}
	values, err := standingRow(rec, tx.now, seq)
	if err != nil {
		return err
	}
	if _, err = tx.Exec(`INSERT INTO registrations (`+standingColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (registrant_id) DO UPDATE SET status = excluded.status, registered_until = excluded.registered_until,
			public_json = excluded.public_json, changes_at = excluded.changes_at,
			standing_from = excluded.standing_from, history_from = excluded.history_from,
			answer_seq = excluded.answer_seq`, values...); err != nil {
		return err
	}
	return recordChanges(tx, rec, previous, previousChangesAt, values[standingBody].([]byte))
}

// standingBody is the index of public_json in standingRow's values.
const standingBody = 5

// standingColumns are the columns of a registrations row, in standingRow's order.
const standingColumns = `register_number, registrant_id, status, registered_until, first_admitted_at, public_json, changes_at, standing_from, history_from, answer_seq`

// standingRow is the registrations row materialising rec's standing at now,
// with the window in which it holds (answerWindow, public.go) and the
// transaction's answer_seq; the bulk writer inserts it in batches.
func standingRow(rec *register.Record, now time.Time, seq int64) ([]any, error) {
	s := rec.StandingAt(now)
	body, err := register.MarshalPublic(register.NewPublicRecord(rec.Registrant, s))
	if err != nil {
		return nil, err
	}
	standingFrom, historyFrom := answerWindow(rec, now)
	return []any{rec.Registrant.Number, rec.Registrant.ID, string(s.Status), s.RegisteredUntil.String(),
		formatTime(rec.Periods[0].From), body, nullTime(s.ChangesAt), standingFrom, historyFrom, seq}, nil
}

// Transition applies a registrar's status change at the transaction's now.
func (s *RegistrationService) Transition(ctx context.Context, number string, tr register.Transition, until register.Date, reason string) (*register.Standing, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	st, err := transition(tx, number, tr, until, reason)
	if err != nil {
		return nil, err
	}
	return st, tx.Commit()
}

func transition(tx *Tx, number string, tr register.Transition, until register.Date, reason string) (*register.Standing, error) {
	rec, err := loadRecord(tx, number)
	if err != nil {
		return nil, err
	}
	before := rec.StandingAt(tx.now)
	if err := tr.Check(before, tx.now, until, reason); err != nil {
		return nil, err
	}
	if tr == register.TransitionLapse {
		until = before.RegisteredUntil
	}
	if err := startPeriod(tx, rec, tr.Result(), until, reason); err != nil {
		return nil, err
	}
	after := rec.StandingAt(tx.now)
	if err := storeStanding(tx, rec); err != nil {
		return nil, err
	}
	return after, tx.audit("registration."+string(tr), "registration", number, before, after)
}

// startPeriod closes the period in force at now and opens a new one from now.
func startPeriod(tx *Tx, rec *register.Record, status register.Status, until register.Date, reason string) error {
	if cur := rec.Current(tx.now); cur != nil {
		if _, err := tx.Exec(`UPDATE registration_periods SET valid_to = ? WHERE id = ?`, formatTime(tx.now), cur.ID); err != nil {
			return err
		}
		end := tx.now
		cur.To = &end
	}
	res, err := tx.Exec(`INSERT INTO registration_periods (registrant_id, status, valid_from, registered_until, reason, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?)`, rec.Registrant.ID, string(status), formatTime(tx.now), until.String(), reason, formatTime(tx.now))
	if err != nil {
		return err
	}
	id, _ := res.LastInsertId()
	rec.Periods = append(rec.Periods, &register.Period{ID: id, Status: status, From: tx.now, RegisteredUntil: until, Reason: reason})
	return nil
}

// History returns the registration's timeline as at now.
func (s *RegistrationService) History(ctx context.Context, number string) ([]*register.Period, error) {
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rec, err := loadRecord(tx, number)
	if err != nil {
		return nil, err
	}
	return rec.Timeline(tx.now), nil
}

// RefreshDue recomputes the stored answers whose changes_at has passed, at
// most limit of them, and returns how many it refreshed. Reads never depend
// on it: a read past changes_at recomputes for itself.
func (s *RegistrationService) RefreshDue(ctx context.Context, limit int) (int, error) {
	tx, err := s.db.BeginTx(register.NewContextWithActor(ctx, register.SystemActor))
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.Query(`SELECT register_number FROM registrations WHERE changes_at <= ? ORDER BY changes_at LIMIT ?`, formatTime(tx.now), limit)
	if err != nil {
		return 0, err
	}
	var numbers []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return 0, err
		}
		numbers = append(numbers, n)
	}
	rows.Close()
	for _, n := range numbers {
		if err := refreshRegistration(tx, n); err != nil {
			return 0, err
		}
	}
	return len(numbers), tx.Commit()
}
