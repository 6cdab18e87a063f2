package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/probation-register/register/register"
)

// CPDService keeps registrants' CPD logs.
type CPDService struct {
	db  *DB
	req register.Requirement
}

// NewCPDService returns the CPD store, summarising against req.
func NewCPDService(db *DB, req register.Requirement) *CPDService {
	return &CPDService{db: db, req: req}
}

var _ register.CPDService = (*CPDService)(nil)

// activityColumns reads an activity row a, with whether it is locked: part
// of a submitted renewal, dated in the year of an open audit, or cited as
// audit evidence.
const activityColumns = `a.id, a.date, a.title, a.category, a.quarter_hours, a.reflection, a.evidence_ref,
	(a.renewal_id IS NOT NULL
	 OR EXISTS (SELECT 1 FROM cpd_audits u WHERE u.registrant_id = a.registrant_id AND u.state IN ('selected', 'submitted')
	            AND a.date BETWEEN u.cycle_start AND u.cycle_end)
	 OR EXISTS (SELECT 1 FROM cpd_audit_evidence v WHERE v.activity_id = a.id)),
	a.created_at, a.updated_at`

func scanActivity(row interface{ Scan(...any) error }) (*register.CPDActivity, error) {
	var a register.CPDActivity
	var date, category, created, updated string
	if err := row.Scan(&a.ID, &date, &a.Title, &category, &a.Hours, &a.Reflection, &a.EvidenceRef, &a.Locked, &created, &updated); err != nil {
		return nil, err
	}
	a.Date, a.Category = parseDate(date), register.CPDCategory(category)
	a.Created, a.Updated = parseTime(created), parseTime(updated)
	return &a, nil
}

func activityNotFound(id int64) error {
	return register.Errorf(register.ENOTFOUND, "You have no CPD entry %d.", id)
}

// findActivity reads one of the registrant's activities; someone else's is not found.
func findActivity(tx *Tx, registrantID, id int64) (*register.CPDActivity, error) {
	a, err := scanActivity(tx.QueryRow(`SELECT `+activityColumns+` FROM cpd_activities a WHERE a.id = ? AND a.registrant_id = ?`, id, registrantID))
	if err == sql.ErrNoRows {
		return nil, activityNotFound(id)
	}
	return a, err
}

// firstAdmitted is the date of the registrant's first admission, zero if never.
func firstAdmitted(tx *Tx, registrantID int64) (register.Date, error) {
	var from sql.NullString
	if err := tx.QueryRow(`SELECT MIN(valid_from) FROM registration_periods WHERE registrant_id = ? AND superseded_at IS NULL`,
		registrantID).Scan(&from); err != nil || !from.Valid {
		return register.Date{}, err
	}
	return register.DateOf(parseTime(from.String)), nil
}

// auditOpenOn reports whether an open CPD audit covers the date.
func auditOpenOn(tx *Tx, registrantID int64, d register.Date) (bool, error) {
	var open bool
	err := tx.QueryRow(`SELECT EXISTS (SELECT 1 FROM cpd_audits WHERE registrant_id = ? AND state IN ('selected', 'submitted')
		AND ? BETWEEN cycle_start AND cycle_end)`, registrantID, d.String()).Scan(&open)
	return open, err
}

// CreateCPD logs an activity for the registrant.
func (s *CPDService) CreateCPD(ctx context.Context, registrantID int64, a *register.CPDActivity) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	first, err := firstAdmitted(tx, registrantID)
	if err != nil {
		return err
	}
	if err := a.Validate(register.DateOf(tx.now), first); err != nil {
		return err
	}
	a.Created, a.Updated = tx.now, tx.now
	res, err := tx.Exec(`INSERT INTO cpd_activities (registrant_id, date, title, category, quarter_hours, reflection, evidence_ref, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, registrantID, a.Date.String(), a.Title, string(a.Category), int(a.Hours),
		a.Reflection, a.EvidenceRef, formatTime(tx.now), formatTime(tx.now))
	if err != nil {
		return FormatError(err)
	}
	a.ID, _ = res.LastInsertId()
	if a.Locked, err = auditOpenOn(tx, registrantID, a.Date); err != nil {
		return err
	}
	if err := tx.audit("cpd.create", "cpd_activity", strconv.FormatInt(a.ID, 10), nil, a); err != nil {
		return err
	}
	return tx.Commit()
}

// FindCPD returns one of the registrant's activities.
func (s *CPDService) FindCPD(ctx context.Context, registrantID, id int64) (*register.CPDActivity, error) {
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findActivity(tx, registrantID, id)
}

// FindCPDs lists the registrant's activities.
func (s *CPDService) FindCPDs(ctx context.Context, registrantID int64, f register.CPDFilter) ([]*register.CPDActivity, int64, error) {
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	return findActivities(tx, registrantID, f)
}

// RegistrantCPD lists any registrant's activities, for the regulator.
func (s *CPDService) RegistrantCPD(ctx context.Context, number string, f register.CPDFilter) ([]*register.CPDActivity, int64, error) {
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	r, err := findRegistrant(tx, number)
	if err != nil {
		return nil, 0, err
	}
	return findActivities(tx, r.ID, f)
}

func findActivities(tx *Tx, registrantID int64, f register.CPDFilter) ([]*register.CPDActivity, int64, error) {
	where, args := []string{"a.registrant_id = ?", "a.id > ?"}, []any{registrantID, f.After}
	if !f.From.IsZero() {
		where, args = append(where, "a.date >= ?"), append(args, f.From.String())
	}
	if !f.To.IsZero() {
		where, args = append(where, "a.date <= ?"), append(args, f.To.String())
	}
	rows, err := tx.Query(`SELECT `+activityColumns+` FROM cpd_activities a WHERE `+strings.Join(where, " AND ")+
		` ORDER BY a.id LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []*register.CPDActivity{}
	for rows.Next() {
		a, err := scanActivity(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[f.Limit-1].ID
	}
	return out, next, nil
}

func lockedError(id int64) error {
	return register.Errorf(register.ECONFLICT,
		"CPD entry %d can no longer be changed: it is part of a submitted renewal or of a CPD audit.", id)
}

// UpdateCPD changes an unlocked activity.
func (s *CPDService) UpdateCPD(ctx context.Context, registrantID, id int64, upd register.CPDUpdate) (*register.CPDActivity, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	a, err := findActivity(tx, registrantID, id)
	if err != nil {
		return nil, err
	}
	if a.Locked {
		return nil, lockedError(id)
	}
	before := *a
	upd.Apply(a)
	first, err := firstAdmitted(tx, registrantID)
	if err != nil {
		return nil, err
	}
	if err := a.Validate(register.DateOf(tx.now), first); err != nil {
		return nil, err
	}
	// Moving an entry into a year under audit would change what is audited.
	if open, err := auditOpenOn(tx, registrantID, a.Date); err != nil {
		return nil, err
	} else if open {
		return nil, register.Errorf(register.ECONFLICT, "CPD entries cannot be moved into a registration year under CPD audit.")
	}
	a.Updated = tx.now
	if _, err := tx.Exec(`UPDATE cpd_activities SET date = ?, title = ?, category = ?, quarter_hours = ?, reflection = ?, evidence_ref = ?, updated_at = ?
		WHERE id = ?`, a.Date.String(), a.Title, string(a.Category), int(a.Hours), a.Reflection, a.EvidenceRef, formatTime(tx.now), id); err != nil {
		return nil, err
	}
	if err := tx.audit("cpd.update", "cpd_activity", strconv.FormatInt(id, 10), &before, a); err != nil {
		return nil, err
	}
	return a, tx.Commit()
}

// DeleteCPD removes an unlocked activity.
func (s *CPDService) DeleteCPD(ctx context.Context, registrantID, id int64) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	a, err := findActivity(tx, registrantID, id)
	if err != nil {
		return err
	}
	if a.Locked {
		return lockedError(id)
	}
	if _, err := tx.Exec(`DELETE FROM cpd_activities WHERE id = ?`, id); err != nil {
		return err
	}
	if err := tx.audit("cpd.delete", "cpd_activity", strconv.FormatInt(id, 10), a, nil); err != nil {
		return err
	}
	return tx.Commit()
}

// SummariseCPD totals one registration year.
func (s *CPDService) SummariseCPD(ctx context.Context, registrantID int64, cycleEnd register.Date) (*register.CPDSummary, error) {
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if cycleEnd.IsZero() {
		st, err := standingOf(tx, registrantID)
		if err != nil {
			return nil, err
		}
		if st.RegisteredUntil.IsZero() {
			return nil, register.Errorf(register.ECONFLICT, "Not yet admitted to the register: there is no registration year to summarise.")
		}
		cycleEnd = st.RegisteredUntil
	}
	return summarise(tx, s.req, registrantID, register.CycleEnding(cycleEnd))
}

// summarise totals the activities dated in the cycle, in quarter hours.
func summarise(tx *Tx, req register.Requirement, registrantID int64, c register.Cycle) (*register.CPDSummary, error) {
	rows, err := tx.Query(`SELECT `+activityColumns+` FROM cpd_activities a WHERE a.registrant_id = ? AND a.date BETWEEN ? AND ?`,
		registrantID, c.Start.String(), c.End.String())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var acts []*register.CPDActivity
	for rows.Next() {
		a, err := scanActivity(rows)
		if err != nil {
			return nil, err
		}
		acts = append(acts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return req.Summarise(c, acts, register.DateOf(tx.now)), nil
}

// standingOf is the registrant's standing at the transaction's now.
func standingOf(tx *Tx, registrantID int64) (*register.Standing, error) {
	rec, err := recordOf(tx, registrantID)
	if err != nil {
		return nil, err
	}
	return rec.StandingAt(tx.now), nil
}

// recordOf loads the record of the registrant with the internal id.
func recordOf(tx *Tx, registrantID int64) (*register.Record, error) {
	var number string
	err := tx.QueryRow(`SELECT register_number FROM registrants WHERE id = ?`, registrantID).Scan(&number)
	if err == sql.ErrNoRows {
		return nil, register.Errorf(register.ENOTFOUND, "Registrant not found.")
	} else if err != nil {
		return nil, err
	}
	return loadRecord(tx, number)
}
