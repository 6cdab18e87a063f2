package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/probation-register/register/register"
)

// RegistrantService keeps registrants and qualifications.
type RegistrantService struct{ db *DB }

// NewRegistrantService returns the registrant store.
func NewRegistrantService(db *DB) *RegistrantService { return &RegistrantService{db: db} }

var _ register.RegistrantService = (*RegistrantService)(nil)

// CreateRegistrant adds an applicant with a fresh random register number.
func (s *RegistrantService) CreateRegistrant(ctx context.Context, r *register.Registrant) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := createRegistrant(tx, r); err != nil {
		return err
	}
	return tx.Commit()
}

func createRegistrant(tx *Tx, r *register.Registrant) error {
	if r.PreviousNames == nil {
		r.PreviousNames = []string{}
	}
	if err := r.Validate(register.DateOf(tx.now)); err != nil {
		return err
	}
	r.Created, r.Updated = tx.now, tx.now
	prev, _ := json.Marshal(r.PreviousNames)
	// Numbers are random so they cannot be walked; retry the rare collision,
	// and when the number space is so full that random draws keep colliding,
	// take the first free number after a random one.
	for attempt := 0; ; attempt++ {
		r.Number = register.RandomNumber()
		if attempt == 100 {
			var err error
			if r.Number, err = freeNumberAfter(tx, r.Number); err != nil {
				return err
			}
		}
		res, err := tx.Exec(`INSERT INTO registrants (register_number, family_name, given_names, previous_names, date_of_birth, email, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Number, r.FamilyName, r.GivenNames, string(prev), r.DateOfBirth.String(), r.Email, formatTime(tx.now), formatTime(tx.now))
		if isUnique(err) && attempt < 100 {
			continue
		} else if err != nil {
			return FormatError(err)
		}
		r.ID, _ = res.LastInsertId()
		break
	}
	if err := writeNameTokens(tx, r); err != nil {
		return err
	}
	return tx.audit("registrant.create", "registrant", r.Number, nil, r)
}

// freeNumberAfter returns the first register number not taken at or after
// from, wrapping around, by walking the taken numbers in order (numbers
// sort as their serials do). Every one taken is a conflict.
func freeNumberAfter(tx *Tx, from string) (string, error) {
	start, err := strconv.Atoi(from[2:8])
	if err != nil {
		return "", err
	}
	from = register.NumberFromSerial(start)
	for _, walk := range []struct {
		query      string
		first, end int
	}{
		{`SELECT register_number FROM registrants WHERE register_number >= ? ORDER BY register_number`, start, register.NumberSpace},
		{`SELECT register_number FROM registrants WHERE register_number < ? ORDER BY register_number`, 0, start},
	} {
		rows, err := tx.Query(walk.query, from)
		if err != nil {
			return "", err
		}
		want := walk.first
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return "", err
			}
			if serial, err := strconv.Atoi(n[2:8]); err != nil || serial != want {
				break // a gap: want is free
			}
			want++
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return "", err
		}
		if want < walk.end {
			return register.NumberFromSerial(want), nil
		}
	}
	return "", register.Errorf(register.ECONFLICT, "Every one of the %d register numbers is taken.", register.NumberSpace)
}

// FindRegistrant returns the full record, private fields included.
func (s *RegistrantService) FindRegistrant(ctx context.Context, number string) (*register.Registrant, error) {
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rec, err := loadRecord(tx, number)
	if err != nil {
		return nil, err
	}
	r := rec.Registrant
	r.Standing = rec.StandingAt(tx.now)
	r.Qualifications = rec.Qualifications
	return r, nil
}

const registrantColumns = `r.id, r.register_number, r.family_name, r.given_names, r.previous_names, r.date_of_birth, r.email, r.created_at, r.updated_at`

func scanRegistrant(row interface{ Scan(...any) error }) (*register.Registrant, error) {
	var r register.Registrant
	var prev, dob, created, updated string
	if err := row.Scan(&r.ID, &r.Number, &r.FamilyName, &r.GivenNames, &prev, &dob, &r.Email, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(prev), &r.PreviousNames); err != nil {
		return nil, err
	}
	r.DateOfBirth = parseDate(dob)
	r.Created, r.Updated = parseTime(created), parseTime(updated)
	return &r, nil
}

func findRegistrant(tx *Tx, number string) (*register.Registrant, error) {
	r, err := scanRegistrant(tx.QueryRow(`SELECT `+registrantColumns+` FROM registrants r WHERE r.register_number = ?`, number))
	if err == sql.ErrNoRows {
		return nil, register.Errorf(register.ENOTFOUND, "No registrant has register number %s.", number)
	}
	return r, err
}

// FindRegistrants lists registrants for the registrar.
func (s *RegistrantService) FindRegistrants(ctx context.Context, f register.RegistrantFilter) ([]*register.Registrant, int64, error) {
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()

	where, args := []string{"r.id > ?"}, []any{f.After}
	if f.Name != "" {
		words := nameTokens(f.Name)
		if len(words) == 0 {
			return nil, 0, register.FieldError("name", "must contain letters or digits")
		}
		for _, w := range words {
			where = append(where, `EXISTS (SELECT 1 FROM name_tokens t WHERE t.registrant_id = r.id AND t.token >= ? AND t.token < ?)`)
			args = append(args, w, w+"\uffff")
		}
	}
	today := register.DateOf(tx.now).String()
	switch f.Status {
	case "":
	case register.StatusApplicant:
		where = append(where, `g.registrant_id IS NULL`)
	case register.StatusRegistered:
		where = append(where, `g.status = 'registered' AND g.registered_until >= ?`)
		args = append(args, today)
	case register.StatusLapsed:
		where = append(where, `(g.status = 'lapsed' OR (g.status = 'registered' AND g.registered_until < ?))`)
		args = append(args, today)
	case register.StatusSuspended, register.StatusRemoved:
		where = append(where, `g.status = ?`)
		args = append(args, string(f.Status))
	default:
		return nil, 0, register.FieldError("status", "must be one of applicant, registered, suspended, lapsed, removed")
	}
	limit := f.Limit
	args = append(args, limit+1)
	rows, err := tx.Query(`SELECT `+registrantColumns+` FROM registrants r
		LEFT JOIN registrations g ON g.registrant_id = r.id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY r.id LIMIT ?`, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*register.Registrant
	for rows.Next() {
		r, err := scanRegistrant(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	if out == nil {
		out = []*register.Registrant{}
	}
	return out, next, nil
}

// UpdateRegistrant changes names, date of birth or email.
func (s *RegistrantService) UpdateRegistrant(ctx context.Context, number string, upd register.RegistrantUpdate) (*register.Registrant, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	r, err := findRegistrant(tx, number)
	if err != nil {
		return nil, err
	}
	before := *r
	before.PreviousNames = append([]string(nil), r.PreviousNames...)
	upd.Apply(r)
	if err := r.Validate(register.DateOf(tx.now)); err != nil {
		return nil, err
	}
	r.Updated = tx.now
	prev, _ := json.Marshal(r.PreviousNames)
	if _, err := tx.Exec(`UPDATE registrants SET family_name = ?, given_names = ?, previous_names = ?, date_of_birth = ?, email = ?, updated_at = ? WHERE id = ?`,
		r.FamilyName, r.GivenNames, string(prev), r.DateOfBirth.String(), r.Email, formatTime(tx.now), r.ID); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(`DELETE FROM name_tokens WHERE registrant_id = ?`, r.ID); err != nil {
		return nil, err
	}
	if err := writeNameTokens(tx, r); err != nil {
		return nil, err
	}
	if err := tx.audit("registrant.update", "registrant", r.Number, &before, r); err != nil {
		return nil, err
	}
	if err := refreshRegistration(tx, number); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return s.FindRegistrant(ctx, number)
}

// AddQualification records a claimed or in-training qualification.
func (s *RegistrantService) AddQualification(ctx context.Context, number string, q *register.Qualification) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	r, err := findRegistrant(tx, number)
	if err != nil {
		return err
	}
	if err := addQualification(tx, r, q); err != nil {
		return err
	}
	if err := refreshRegistration(tx, number); err != nil {
		return err
	}
	return tx.Commit()
}

func addQualification(tx *Tx, r *register.Registrant, q *register.Qualification) error {
	if err := q.Validate(register.DateOf(tx.now)); err != nil {
		return err
	}
	q.InitialState, q.Created = q.State, tx.now
	res, err := tx.Exec(`INSERT INTO qualifications (registrant_id, level, title, awarding_body, awarded_on, certificate_ref, initial_state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, q.Level, q.Title, q.AwardingBody, nullDate(q.AwardedOn), q.CertificateRef, string(q.State), formatTime(tx.now))
	if err != nil {
		return FormatError(err)
	}
	q.ID, _ = res.LastInsertId()
	return tx.audit("qualification.create", "qualification", strconv.FormatInt(q.ID, 10), nil, q)
}

// VerifyQualification marks a qualification verified now by the acting user.
func (s *RegistrantService) VerifyQualification(ctx context.Context, number string, id int64) (*register.Qualification, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	q, err := verifyQualification(tx, number, id)
	if err != nil {
		return nil, err
	}
	if err := refreshRegistration(tx, number); err != nil {
		return nil, err
	}
	return q, tx.Commit()
}

func verifyQualification(tx *Tx, number string, id int64) (*register.Qualification, error) {
	r, err := findRegistrant(tx, number)
	if err != nil {
		return nil, err
	}
	qs, err := loadQualifications(tx, r.ID)
	if err != nil {
		return nil, err
	}
	var q *register.Qualification
	for _, c := range qs {
		if c.ID == id {
			q = c
		}
	}
	if q == nil {
		return nil, register.Errorf(register.ENOTFOUND, "Registrant %s has no qualification %d.", number, id)
	}
	if q.State == register.QualificationVerified {
		return nil, register.Errorf(register.ECONFLICT, "Qualification %d is already verified.", id)
	}
	before := *q
	now := tx.now
	q.State, q.VerifiedAt, q.VerifiedBy = register.QualificationVerified, &now, tx.actor.UserID
	var by any
	if tx.actor.UserID != 0 {
		by = tx.actor.UserID
	}
	if _, err := tx.Exec(`UPDATE qualifications SET verified_by = ?, verified_at = ? WHERE id = ?`, by, formatTime(now), id); err != nil {
		return nil, err
	}
	return q, tx.audit("qualification.verify", "qualification", strconv.FormatInt(id, 10), &before, q)
}

func loadQualifications(tx *Tx, registrantID int64) ([]*register.Qualification, error) {
	rows, err := tx.Query(`SELECT id, level, title, awarding_body, COALESCE(awarded_on, ''), certificate_ref, initial_state,
		COALESCE(verified_by, 0), verified_at, created_at FROM qualifications WHERE registrant_id = ? ORDER BY id`, registrantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*register.Qualification{}
	for rows.Next() {
		var q register.Qualification
		var awarded, state, created string
		var verified sql.NullString
		if err := rows.Scan(&q.ID, &q.Level, &q.Title, &q.AwardingBody, &awarded, &q.CertificateRef, &state, &q.VerifiedBy, &verified, &created); err != nil {
			return nil, err
		}
		q.AwardedOn = parseDate(awarded)
		q.InitialState = register.QualificationState(state)
		q.State = q.InitialState
		q.VerifiedAt = scanNullTime(verified)
		if q.VerifiedAt != nil {
			q.State = register.QualificationVerified
		}
		q.Created = parseTime(created)
		out = append(out, &q)
	}
	return out, rows.Err()
}
