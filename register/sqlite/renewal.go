package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/probation-register/register/register"
)

// RenewalService takes renewal requests and runs CPD audits.
type RenewalService struct {
	db  *DB
	req register.Requirement
}

// NewRenewalService returns the renewal and CPD audit store; req is the
// CPD a registration year must have for automatic approval.
func NewRenewalService(db *DB, req register.Requirement) *RenewalService {
	return &RenewalService{db: db, req: req}
}

var (
	_ register.RenewalService  = (*RenewalService)(nil)
	_ register.CPDAuditService = (*RenewalService)(nil)
)

const renewalColumns = `n.id, g.register_number, n.state, n.cycle_start, n.cycle_end, n.cpd_declaration, n.good_character_declaration,
	n.quarter_hours, n.participatory_quarter_hours, n.compliant, n.review, n.automatic, COALESCE(n.registered_until, ''),
	n.reason, n.submitted_at, n.decided_at, n.registrant_id`

const renewalFrom = ` FROM renewals n JOIN registrants g ON g.id = n.registrant_id`

// renewalRow is a renewal with the internal id of its registrant.
type renewalRow struct {
	*register.Renewal
	registrantID int64
}

func scanRenewal(row interface{ Scan(...any) error }) (renewalRow, error) {
	n := &register.Renewal{}
	var state, start, end, review, until, submitted string
	var decided sql.NullString
	var registrantID int64
	if err := row.Scan(&n.ID, &n.Number, &state, &start, &end, &n.CPDDeclaration, &n.GoodCharacterDeclaration,
		&n.Hours, &n.ParticipatoryHours, &n.Compliant, &review, &n.Automatic, &until,
		&n.Reason, &submitted, &decided, &registrantID); err != nil {
		return renewalRow{}, err
	}
	n.State = register.RenewalState(state)
	n.Cycle = register.Cycle{Start: parseDate(start), End: parseDate(end)}
	if err := json.Unmarshal([]byte(review), &n.Review); err != nil {
		return renewalRow{}, err
	}
	n.RegisteredUntil = parseDate(until)
	n.Submitted, n.Decided = parseTime(submitted), scanNullTime(decided)
	return renewalRow{n, registrantID}, nil
}

func findRenewal(tx *Tx, id int64) (renewalRow, error) {
	r, err := scanRenewal(tx.QueryRow(`SELECT `+renewalColumns+renewalFrom+` WHERE n.id = ?`, id))
	if err == sql.ErrNoRows {
		return r, register.Errorf(register.ENOTFOUND, "No renewal request %d.", id)
	}
	return r, err
}

// auditOf returns the state of the CPD audit of a registration year, "" if none.
func auditOf(tx *Tx, registrantID int64, c register.Cycle) (int64, register.CPDAuditState, error) {
	var id int64
	var state string
	err := tx.QueryRow(`SELECT id, state FROM cpd_audits WHERE registrant_id = ? AND cycle_end = ?`, registrantID, c.End.String()).Scan(&id, &state)
	if err == sql.ErrNoRows {
		return 0, "", nil
	}
	return id, register.CPDAuditState(state), err
}

// RequestRenewal records a renewal request and approves it at once when
// nothing needs a registrar's eye.
func (s *RenewalService) RequestRenewal(ctx context.Context, registrantID int64, d register.RenewalDeclaration) (*register.Renewal, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rec, err := recordOf(tx, registrantID)
	if err != nil {
		return nil, err
	}
	st := rec.StandingAt(tx.now)
	if err := register.CheckRenewalRequest(st, register.DateOf(tx.now)); err != nil {
		return nil, err
	}
	cycle := register.CycleEnding(st.RegisteredUntil)
	var live sql.NullInt64
	if err := tx.QueryRow(`SELECT MAX(id) FROM renewals WHERE registrant_id = ? AND cycle_end = ? AND state IN ('pending', 'approved')`,
		registrantID, cycle.End.String()).Scan(&live); err != nil {
		return nil, err
	}
	if live.Valid {
		return nil, register.Errorf(register.ECONFLICT, "You have already asked to renew the registration year ending %s (request %d).", cycle.End, live.Int64)
	}

	review := []string{}
	_, auditState, err := auditOf(tx, registrantID, cycle)
	if err != nil {
		return nil, err
	}
	switch {
	case auditState == register.AuditFailed:
		return nil, register.Errorf(register.ECONFLICT, "Your CPD audit for the registration year ending %s failed, so it cannot be renewed on request. Contact the registrar.", cycle.End)
	case auditState.Open():
		review = append(review, register.ReviewCPDAudit)
	}
	sum, err := summarise(tx, s.req, registrantID, cycle)
	if err != nil {
		return nil, err
	}
	if !sum.Compliant {
		review = append([]string{register.ReviewCPDNotCompliant}, review...)
	}
	// An open fitness-to-practise case (case.go) is for a registrar to weigh.
	if open, err := caseOpen(tx, registrantID); err != nil {
		return nil, err
	} else if open {
		review = append(review, register.ReviewOpenCase)
	}

	n := &register.Renewal{
		Number: rec.Registrant.Number, State: register.RenewalPending, CPDDeclaration: d.CPD, GoodCharacterDeclaration: d.GoodCharacter,
		Cycle: cycle, Hours: sum.Hours, ParticipatoryHours: sum.ParticipatoryHours, Compliant: sum.Compliant,
		Review: review, Submitted: tx.now,
	}
	reviewJSON, _ := json.Marshal(review)
	res, err := tx.Exec(`INSERT INTO renewals (registrant_id, state, cycle_start, cycle_end, cpd_declaration, good_character_declaration,
		quarter_hours, participatory_quarter_hours, compliant, review, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		registrantID, string(n.State), cycle.Start.String(), cycle.End.String(), d.CPD, d.GoodCharacter,
		int(n.Hours), int(n.ParticipatoryHours), n.Compliant, string(reviewJSON), formatTime(tx.now))
	if err != nil {
		return nil, FormatError(err)
	}
	n.ID, _ = res.LastInsertId()
	// The year's entries now belong to the request: they can no longer change.
	if _, err := tx.Exec(`UPDATE cpd_activities SET renewal_id = ? WHERE registrant_id = ? AND date BETWEEN ? AND ?`,
		n.ID, registrantID, cycle.Start.String(), cycle.End.String()); err != nil {
		return nil, err
	}
	if err := tx.audit("renewal.request", "renewal", strconv.FormatInt(n.ID, 10), nil, n); err != nil {
		return nil, err
	}
	if len(review) == 0 {
		if err := approve(tx, renewalRow{n, registrantID}, true); err != nil {
			return nil, err
		}
	}
	return n, tx.Commit()
}

// approve renews the registration through its history, in the caller's
// transaction, and records the decision.
func approve(tx *Tx, n renewalRow, automatic bool) error {
	st, err := standingOf(tx, n.registrantID)
	if err != nil {
		return err
	}
	if st.Status == register.StatusRegistered && st.RegisteredUntil != n.End {
		return register.Errorf(register.ECONFLICT, "The registration changed since request %d: registered_until is now %s, not %s.",
			n.ID, st.RegisteredUntil, n.End)
	}
	before := *n.Renewal
	next := n.Cycle.Next()
	how := "by a registrar"
	if automatic {
		how = "automatically"
	}
	if _, err := transition(tx, n.Number, register.TransitionRenew, next, fmt.Sprintf("renewal request %d approved %s", n.ID, how)); err != nil {
		return err
	}
	now := tx.now
	n.State, n.RegisteredUntil, n.Automatic, n.Decided = register.RenewalApproved, next, automatic, &now
	if _, err := tx.Exec(`UPDATE renewals SET state = ?, registered_until = ?, automatic = ?, decided_at = ?, decided_by = ? WHERE id = ?`,
		string(n.State), next.String(), automatic, formatTime(now), actorUser(tx), n.ID); err != nil {
		return err
	}
	return tx.audit("renewal.approve", "renewal", strconv.FormatInt(n.ID, 10), &before, n.Renewal)
}

// refuse refuses a pending request and frees its entries, so that the
// registrant may correct their log and ask again.
func refuse(tx *Tx, n renewalRow, reason string) error {
	before := *n.Renewal
	now := tx.now
	n.State, n.Reason, n.Decided = register.RenewalRefused, reason, &now
	if _, err := tx.Exec(`UPDATE renewals SET state = ?, reason = ?, decided_at = ?, decided_by = ? WHERE id = ?`,
		string(n.State), reason, formatTime(now), actorUser(tx), n.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(`UPDATE cpd_activities SET renewal_id = NULL WHERE renewal_id = ?`, n.ID); err != nil {
		return err
	}
	return tx.audit("renewal.refuse", "renewal", strconv.FormatInt(n.ID, 10), &before, n.Renewal)
}

// actorUser is the acting user's id for a decided_by column, NULL for the system.
func actorUser(tx *Tx) any {
	if tx.actor.UserID == 0 {
		return nil
	}
	return tx.actor.UserID
}

// LatestRenewal returns the registrant's most recent request.
func (s *RenewalService) LatestRenewal(ctx context.Context, registrantID int64) (*register.Renewal, error) {
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	n, err := scanRenewal(tx.QueryRow(`SELECT `+renewalColumns+renewalFrom+` WHERE n.registrant_id = ? ORDER BY n.id DESC LIMIT 1`, registrantID))
	if err == sql.ErrNoRows {
		return nil, register.Errorf(register.ENOTFOUND, "You have not asked to renew.")
	}
	return n.Renewal, err
}

// FindRenewals lists requests for the registrar.
func (s *RenewalService) FindRenewals(ctx context.Context, f register.RenewalFilter) ([]*register.Renewal, int64, error) {
	if f.State != "" && !f.State.Valid() {
		return nil, 0, register.FieldError("state", "must be one of pending, approved, refused")
	}
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	q, args := `SELECT `+renewalColumns+renewalFrom+` WHERE n.id > ?`, []any{f.After}
	if f.State != "" {
		q, args = q+` AND n.state = ?`, append(args, string(f.State))
	}
	rows, err := tx.Query(q+` ORDER BY n.id LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []*register.Renewal{}
	for rows.Next() {
		n, err := scanRenewal(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, n.Renewal)
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

// ApproveRenewal approves a pending request.
func (s *RenewalService) ApproveRenewal(ctx context.Context, id int64) (*register.Renewal, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	n, err := findRenewal(tx, id)
	if err != nil {
		return nil, err
	}
	if n.State != register.RenewalPending {
		return nil, register.Errorf(register.ECONFLICT, "Renewal request %d is already %s.", id, n.State)
	}
	auditID, auditState, err := auditOf(tx, n.registrantID, n.Cycle)
	if err != nil {
		return nil, err
	}
	if auditState.Open() || auditState == register.AuditFailed {
		return nil, register.Errorf(register.ECONFLICT, "CPD audit %d of this registration year is %s: a renewal needs it passed.", auditID, auditState)
	}
	if err := approve(tx, n, false); err != nil {
		return nil, err
	}
	return n.Renewal, tx.Commit()
}

// checkReason requires a reason of at most 1000 characters when required,
// and bounds it otherwise.
func checkReason(reason string, required bool) error {
	if required && strings.TrimSpace(reason) == "" {
		return register.FieldError("reason", "is required")
	}
	if utf8.RuneCountInString(reason) > 1000 {
		return register.FieldError("reason", "must be at most 1000 characters")
	}
	return nil
}

// RefuseRenewal refuses a pending request.
func (s *RenewalService) RefuseRenewal(ctx context.Context, id int64, reason string) (*register.Renewal, error) {
	if err := checkReason(reason, true); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	n, err := findRenewal(tx, id)
	if err != nil {
		return nil, err
	}
	if n.State != register.RenewalPending {
		return nil, register.Errorf(register.ECONFLICT, "Renewal request %d is already %s.", id, n.State)
	}
	if err := refuse(tx, n, reason); err != nil {
		return nil, err
	}
	return n.Renewal, tx.Commit()
}

const auditColumns = `u.id, g.register_number, u.state, u.cycle_start, u.cycle_end, u.seed, u.reason,
	u.selected_at, u.submitted_at, u.decided_at, u.registrant_id`

const auditFrom = ` FROM cpd_audits u JOIN registrants g ON g.id = u.registrant_id`

type auditRow struct {
	*register.CPDAudit
	registrantID int64
}

func scanAudit(row interface{ Scan(...any) error }) (auditRow, error) {
	a := &register.CPDAudit{Evidence: []*register.CPDEvidence{}}
	var state, start, end, seed, selected string
	var submitted, decided sql.NullString
	var registrantID int64
	if err := row.Scan(&a.ID, &a.Number, &state, &start, &end, &seed, &a.Reason, &selected, &submitted, &decided, &registrantID); err != nil {
		return auditRow{}, err
	}
	a.State = register.CPDAuditState(state)
	a.Cycle = register.Cycle{Start: parseDate(start), End: parseDate(end)}
	a.Seed, _ = strconv.ParseUint(seed, 10, 64)
	a.Selected, a.Submitted, a.Decided = parseTime(selected), scanNullTime(submitted), scanNullTime(decided)
	return auditRow{a, registrantID}, nil
}

// withEvidence reads an audit's evidence into it.
func withEvidence(tx *Tx, a auditRow) (auditRow, error) {
	rows, err := tx.Query(`SELECT activity_id, evidence_ref FROM cpd_audit_evidence WHERE audit_id = ? ORDER BY activity_id`, a.ID)
	if err != nil {
		return a, err
	}
	defer rows.Close()
	for rows.Next() {
		var e register.CPDEvidence
		if err := rows.Scan(&e.ActivityID, &e.EvidenceRef); err != nil {
			return a, err
		}
		a.Evidence = append(a.Evidence, &e)
	}
	return a, rows.Err()
}

func findAudit(tx *Tx, where string, args ...any) (auditRow, error) {
	a, err := scanAudit(tx.QueryRow(`SELECT `+auditColumns+auditFrom+` WHERE `+where, args...))
	if err != nil {
		return a, err
	}
	return withEvidence(tx, a)
}

func auditNotFound(id int64) error {
	return register.Errorf(register.ENOTFOUND, "No CPD audit %d.", id)
}

// SampleCPDAudits selects a reproducible sample of the registrants due to
// renew and opens an audit of the year ending at their registered_until.
func (s *RenewalService) SampleCPDAudits(ctx context.Context, req register.SampleRequest) (*register.Sample, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// Due: registered now (not lapsed by date) and renewing before the date.
	rows, err := tx.Query(`SELECT register_number, registrant_id, registered_until FROM registrations
		WHERE status = 'registered' AND registered_until >= ? AND registered_until < ? ORDER BY register_number`,
		register.DateOf(tx.now).String(), req.DueBefore.String())
	if err != nil {
		return nil, err
	}
	type due struct {
		id    int64
		until register.Date
	}
	candidates := map[string]due{}
	var numbers []string
	for rows.Next() {
		var number, until string
		var id int64
		if err := rows.Scan(&number, &id, &until); err != nil {
			rows.Close()
			return nil, err
		}
		numbers = append(numbers, number)
		candidates[number] = due{id, parseDate(until)}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	size := register.SampleSize(req.Rate, len(numbers))
	chosen := register.DrawSample(numbers, size, req.Seed)
	out := &register.Sample{DueBefore: req.DueBefore, Rate: req.Rate, Seed: req.Seed, Due: len(numbers), Size: size, Audits: []*register.CPDAudit{}}
	for _, number := range chosen {
		c := candidates[number]
		cycle := register.CycleEnding(c.until)
		// A year already audited keeps its audit: sampling again with the same
		// seed changes nothing.
		existing, _, err := auditOf(tx, c.id, cycle)
		if err != nil {
			return nil, err
		}
		if existing == 0 {
			res, err := tx.Exec(`INSERT INTO cpd_audits (registrant_id, state, cycle_start, cycle_end, seed, selected_at) VALUES (?, ?, ?, ?, ?, ?)`,
				c.id, string(register.AuditSelected), cycle.Start.String(), cycle.End.String(), strconv.FormatUint(req.Seed, 10), formatTime(tx.now))
			if err != nil {
				return nil, FormatError(err)
			}
			existing, _ = res.LastInsertId()
		}
		a, err := findAudit(tx, `u.id = ?`, existing)
		if err != nil {
			return nil, err
		}
		out.Audits = append(out.Audits, a.CPDAudit)
	}
	if err := tx.audit("cpd_audit.sample", "cpd_audit_sample", req.DueBefore.String(), nil, map[string]any{
		"rate": req.Rate, "seed": strconv.FormatUint(req.Seed, 10), "due": out.Due, "size": size, "selected": chosen,
	}); err != nil {
		return nil, err
	}
	return out, tx.Commit()
}

// FindCPDAudits lists audits for the registrar.
func (s *RenewalService) FindCPDAudits(ctx context.Context, f register.CPDAuditFilter) ([]*register.CPDAudit, int64, error) {
	if f.State != "" && !f.State.Valid() {
		return nil, 0, register.FieldError("state", "must be one of selected, submitted, passed, failed")
	}
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	q, args := `SELECT `+auditColumns+auditFrom+` WHERE u.id > ?`, []any{f.After}
	if f.State != "" {
		q, args = q+` AND u.state = ?`, append(args, string(f.State))
	}
	rows, err := tx.Query(q+` ORDER BY u.id LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, 0, err
	}
	var list []auditRow
	for rows.Next() {
		a, err := scanAudit(rows)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		list = append(list, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(list) > f.Limit {
		list = list[:f.Limit]
		next = list[f.Limit-1].ID
	}
	out := []*register.CPDAudit{}
	for _, a := range list {
		if a, err = withEvidence(tx, a); err != nil {
			return nil, 0, err
		}
		out = append(out, a.CPDAudit)
	}
	return out, next, nil
}

// LatestCPDAudit returns the registrant's most recent audit.
func (s *RenewalService) LatestCPDAudit(ctx context.Context, registrantID int64) (*register.CPDAudit, error) {
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	a, err := findAudit(tx, `u.registrant_id = ? ORDER BY u.id DESC LIMIT 1`, registrantID)
	if err == sql.ErrNoRows {
		return nil, register.Errorf(register.ENOTFOUND, "You have not been selected for a CPD audit.")
	}
	return a.CPDAudit, err
}

// SubmitCPDAudit records the evidence for the registrant's open audit.
func (s *RenewalService) SubmitCPDAudit(ctx context.Context, registrantID int64, evidence []*register.CPDEvidence) (*register.CPDAudit, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	a, err := findAudit(tx, `u.registrant_id = ? AND u.state IN ('selected', 'submitted') ORDER BY u.id DESC LIMIT 1`, registrantID)
	if err == sql.ErrNoRows {
		return nil, register.Errorf(register.ENOTFOUND, "You have no open CPD audit.")
	} else if err != nil {
		return nil, err
	}
	if a.State != register.AuditSelected {
		return nil, register.Errorf(register.ECONFLICT, "The evidence for CPD audit %d was already submitted.", a.ID)
	}
	v := register.Validation{}
	switch {
	case len(evidence) == 0:
		v.Add("evidence", "must have at least 1 item")
	case len(evidence) > register.MaxEvidenceItems:
		v.Add("evidence", "must have at most 200 items")
	}
	seen := map[int64]bool{}
	for i, e := range evidence {
		field := fmt.Sprintf("evidence[%d]", i)
		act, err := findActivity(tx, registrantID, e.ActivityID)
		switch {
		case register.ErrorCode(err) == register.ENOTFOUND:
			v.Add(field+".activity_id", "is not one of your CPD entries")
		case err != nil:
			return nil, err
		case !a.Cycle.Contains(act.Date):
			v.Add(field+".activity_id", "is not dated in the audited year "+a.Start.String()+" to "+a.End.String())
		case seen[e.ActivityID]:
			v.Add(field+".activity_id", "is listed twice")
		}
		seen[e.ActivityID] = true
		if ref := strings.TrimSpace(e.EvidenceRef); ref == "" {
			v.Add(field+".evidence_ref", "is required")
		} else if utf8.RuneCountInString(e.EvidenceRef) > register.MaxEvidenceRef {
			v.Add(field+".evidence_ref", "must be at most 200 characters")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	before := *a.CPDAudit
	for _, e := range evidence {
		if _, err := tx.Exec(`INSERT INTO cpd_audit_evidence (audit_id, activity_id, evidence_ref) VALUES (?, ?, ?)`, a.ID, e.ActivityID, e.EvidenceRef); err != nil {
			return nil, FormatError(err)
		}
	}
	now := tx.now
	a.State, a.Submitted, a.Evidence = register.AuditSubmitted, &now, evidence
	if _, err := tx.Exec(`UPDATE cpd_audits SET state = ?, submitted_at = ? WHERE id = ?`, string(a.State), formatTime(now), a.ID); err != nil {
		return nil, err
	}
	if err := tx.audit("cpd_audit.submit", "cpd_audit", strconv.FormatInt(a.ID, 10), &before, a.CPDAudit); err != nil {
		return nil, err
	}
	return a.CPDAudit, tx.Commit()
}

// decideAudit passes or fails an audit in one transaction; failing also
// refuses the pending renewal of the audited year.
func (s *RenewalService) decideAudit(ctx context.Context, id int64, to register.CPDAuditState, reason string) (*register.CPDAudit, error) {
	if err := checkReason(reason, to == register.AuditFailed); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	a, err := findAudit(tx, `u.id = ?`, id)
	if err == sql.ErrNoRows {
		return nil, auditNotFound(id)
	} else if err != nil {
		return nil, err
	}
	switch {
	case to == register.AuditPassed && a.State == register.AuditSelected:
		return nil, register.Errorf(register.ECONFLICT, "CPD audit %d cannot pass: no evidence has been submitted.", id)
	case !a.State.Open():
		return nil, register.Errorf(register.ECONFLICT, "CPD audit %d is already %s.", id, a.State)
	}
	before := *a.CPDAudit
	now := tx.now
	a.State, a.Reason, a.Decided = to, reason, &now
	if _, err := tx.Exec(`UPDATE cpd_audits SET state = ?, reason = ?, decided_at = ?, decided_by = ? WHERE id = ?`,
		string(to), reason, formatTime(now), actorUser(tx), id); err != nil {
		return nil, err
	}
	action := "cpd_audit.pass"
	if to == register.AuditFailed {
		action = "cpd_audit.fail"
	}
	if err := tx.audit(action, "cpd_audit", strconv.FormatInt(id, 10), &before, a.CPDAudit); err != nil {
		return nil, err
	}
	if to == register.AuditFailed {
		n, err := scanRenewal(tx.QueryRow(`SELECT `+renewalColumns+renewalFrom+` WHERE n.registrant_id = ? AND n.cycle_end = ? AND n.state = 'pending'`,
			a.registrantID, a.End.String()))
		if err == nil {
			err = refuse(tx, n, "CPD audit failed: "+reason)
		}
		if err != nil && err != sql.ErrNoRows {
			return nil, err
		}
	}
	return a.CPDAudit, tx.Commit()
}

// PassCPDAudit passes a submitted audit.
func (s *RenewalService) PassCPDAudit(ctx context.Context, id int64, reason string) (*register.CPDAudit, error) {
	return s.decideAudit(ctx, id, register.AuditPassed, reason)
}

// FailCPDAudit fails an open audit and refuses the pending renewal of its year.
func (s *RenewalService) FailCPDAudit(ctx context.Context, id int64, reason string) (*register.CPDAudit, error) {
	return s.decideAudit(ctx, id, register.AuditFailed, reason)
}
