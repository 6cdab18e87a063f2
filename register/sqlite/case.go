package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/probation-register/register/register"
)

// CaseService keeps fitness-to-practise cases, panels and decisions, and
// lays the decisions' orders on the register.
type CaseService struct{ db *DB }

// NewCaseService returns the case store.
func NewCaseService(db *DB) *CaseService { return &CaseService{db: db} }

var _ register.CaseService = (*CaseService)(nil)

// CreateCase opens a case at stage received.
func (s *CaseService) CreateCase(ctx context.Context, c *register.Case) error {
	return s.createCase(ctx, c, nil)
}

// createCase opens a case; check, when given, vets the record first in the
// same transaction (an organisation's referral, engagement.go).
func (s *CaseService) createCase(ctx context.Context, c *register.Case, check func(tx *Tx, rec *register.Record) error) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := c.Validate(); err != nil {
		return err
	}
	rec, err := loadRecord(tx, c.Number)
	if err != nil {
		return err
	}
	if check != nil {
		if err := check(tx, rec); err != nil {
			return err
		}
	}
	if err := c.CheckOpen(rec, tx.now); err != nil {
		return err
	}
	if c.Kind == register.CaseRestoration {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM cases WHERE registrant_id = ? AND kind = 'restoration' AND stage NOT IN ('closed_no_case', 'final')`,
			rec.Registrant.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return register.Errorf(register.ECONFLICT, "A restoration application for %s is already open.", c.Number)
		}
	}
	c.RegistrantID, c.StoredStage, c.Opened, c.Updated = rec.Registrant.ID, register.StageReceived, tx.now, tx.now
	res, err := tx.Exec(`INSERT INTO cases (registrant_id, kind, source, category, allegation, stage, opened_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.RegistrantID, string(c.Kind), string(c.Source), string(c.Category), c.Allegation,
		string(c.StoredStage), formatTime(tx.now), formatTime(tx.now))
	if err != nil {
		return FormatError(err)
	}
	c.ID, _ = res.LastInsertId()
	if err := recordStage(tx, c.ID, "", register.StageReceived, "case opened"); err != nil {
		return err
	}
	if err := tx.audit("case.create", "case", register.FormatID(c.ID), nil, c); err != nil {
		return err
	}
	if err := loadCaseDetails(tx, c); err != nil {
		return err
	}
	return tx.Commit()
}

const caseColumns = `c.id, r.register_number, c.registrant_id, c.kind, c.source, c.category, c.allegation, c.stage,
	c.opened_at, c.updated_at, c.decided_at, c.appeal_ends_at, c.appealed_at, c.appeal_reason`

func scanCase(row interface{ Scan(...any) error }) (*register.Case, error) {
	var c register.Case
	var kind, source, category, stage, opened, updated string
	var decided, appealEnds, appealed sql.NullString
	if err := row.Scan(&c.ID, &c.Number, &c.RegistrantID, &kind, &source, &category, &c.Allegation, &stage,
		&opened, &updated, &decided, &appealEnds, &appealed, &c.AppealReason); err != nil {
		return nil, err
	}
	c.Kind, c.Source, c.Category, c.StoredStage = register.CaseKind(kind), register.Source(source), register.Category(category), register.Stage(stage)
	c.Opened, c.Updated = parseTime(opened), parseTime(updated)
	c.DecidedAt, c.AppealEndsAt, c.AppealedAt = scanNullTime(decided), scanNullTime(appealEnds), scanNullTime(appealed)
	return &c, nil
}

// findCase reads a case with its panel, decisions and stage history.
func findCase(tx *Tx, id int64) (*register.Case, error) {
	c, err := scanCase(tx.QueryRow(`SELECT `+caseColumns+` FROM cases c JOIN registrants r ON r.id = c.registrant_id WHERE c.id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, register.Errorf(register.ENOTFOUND, "No case %d.", id)
	} else if err != nil {
		return nil, err
	}
	return c, loadCaseDetails(tx, c)
}

func loadCaseDetails(tx *Tx, c *register.Case) error {
	c.Stage = c.StageAt(tx.now)
	rows, err := tx.Query(`SELECT p.user_id, p.seat, u.email FROM panel_members p JOIN users u ON u.id = p.user_id
		WHERE p.case_id = ? ORDER BY CASE p.seat WHEN 'chair' THEN 0 ELSE 1 END, p.user_id`, c.ID)
	if err != nil {
		return err
	}
	c.Panel = []*register.PanelMember{}
	for rows.Next() {
		var m register.PanelMember
		var seat string
		if err := rows.Scan(&m.UserID, &seat, &m.Email); err != nil {
			rows.Close()
			return err
		}
		m.Seat = register.Seat(seat)
		c.Panel = append(c.Panel, &m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if c.Decisions, err = loadDecisions(tx, `d.case_id = ?`, c.ID); err != nil {
		return err
	}
	rows, err = tx.Query(`SELECT from_stage, to_stage, reason, at, actor FROM case_stages WHERE case_id = ? ORDER BY id`, c.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	c.History = []*register.StageMove{}
	for rows.Next() {
		var m register.StageMove
		var from, to, at string
		if err := rows.Scan(&from, &to, &m.Reason, &at, &m.Actor); err != nil {
			return err
		}
		m.From, m.To, m.At = register.Stage(from), register.Stage(to), parseTime(at)
		c.History = append(c.History, &m)
	}
	return rows.Err()
}

// FindCase returns a case; a panel member sees only the cases they sit on.
func (s *CaseService) FindCase(ctx context.Context, id int64) (*register.Case, error) {
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	c, err := findCase(tx, id)
	if err != nil {
		return nil, err
	}
	if a := register.ActorFromContext(ctx); a.Role == register.RolePanelMember && !c.Sits(a.UserID) {
		return nil, register.Errorf(register.EFORBIDDEN, "You do not sit on the panel of case %d.", id)
	}
	return c, nil
}

// FindCases lists cases; a panel member's list holds only the cases they sit on.
func (s *CaseService) FindCases(ctx context.Context, f register.CaseFilter) ([]*register.Case, int64, error) {
	switch a := register.ActorFromContext(ctx); {
	case a.Role == register.RolePanelMember:
		f.PanelUserID = a.UserID
	case a.Role == register.RoleRegistrant && f.RegistrantID == 0:
		return nil, 0, register.Errorf(register.EFORBIDDEN, "A registrant sees only their own cases.")
	}
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	where, args := []string{"c.id > ?"}, []any{f.After}
	if f.Number != "" {
		where, args = append(where, "r.register_number = ?"), append(args, f.Number)
	}
	if f.RegistrantID != 0 {
		where, args = append(where, "c.registrant_id = ?"), append(args, f.RegistrantID)
	}
	if f.PanelUserID != 0 {
		where, args = append(where, "EXISTS (SELECT 1 FROM panel_members p WHERE p.case_id = c.id AND p.user_id = ?)"), append(args, f.PanelUserID)
	}
	// A decided case reads as final once its appeal period has ended.
	switch now := formatTime(tx.now); f.Stage {
	case "":
	case register.StageFinal:
		where, args = append(where, "(c.stage = 'final' OR (c.stage = 'decided' AND c.appeal_ends_at <= ?))"), append(args, now)
	case register.StageDecided:
		where, args = append(where, "c.stage = 'decided' AND c.appeal_ends_at > ?"), append(args, now)
	default:
		where, args = append(where, "c.stage = ?"), append(args, string(f.Stage))
	}
	rows, err := tx.Query(`SELECT `+caseColumns+` FROM cases c JOIN registrants r ON r.id = c.registrant_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY c.id LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, 0, err
	}
	out := []*register.Case{}
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[f.Limit-1].ID
	}
	for _, c := range out {
		if err := loadCaseDetails(tx, c); err != nil {
			return nil, 0, err
		}
	}
	return out, next, nil
}

// recordStage appends a step to a case's stage history.
func recordStage(tx *Tx, caseID int64, from, to register.Stage, reason string) error {
	_, err := tx.Exec(`INSERT INTO case_stages (case_id, from_stage, to_stage, reason, at, actor) VALUES (?, ?, ?, ?, ?, ?)`,
		caseID, string(from), string(to), reason, formatTime(tx.now), tx.actor.Name)
	return err
}

// setStage moves a case to a stage and records the step.
func setStage(tx *Tx, c *register.Case, to register.Stage, reason string) error {
	from := c.StageAt(tx.now)
	if _, err := tx.Exec(`UPDATE cases SET stage = ?, updated_at = ? WHERE id = ?`, string(to), formatTime(tx.now), c.ID); err != nil {
		return err
	}
	c.StoredStage, c.Stage, c.Updated = to, to, tx.now
	return recordStage(tx, c.ID, from, to, reason)
}

type stageChange struct {
	Stage  register.Stage `json:"stage"`
	Reason string         `json:"reason,omitempty"`
}

// MoveStage moves a case along the stage graph; moving a decided case to
// appealed lodges an appeal.
func (s *CaseService) MoveStage(ctx context.Context, id int64, to register.Stage, reason string) (*register.Case, error) {
	return s.write(ctx, id, func(tx *Tx, c *register.Case) error {
		if err := c.CheckMove(to, tx.now); err != nil {
			return err
		}
		if to == register.StageAppealed {
			return appeal(tx, c, reason)
		}
		from := c.StageAt(tx.now)
		if err := setStage(tx, c, to, reason); err != nil {
			return err
		}
		if to == register.StageClosedNoCase {
			// Interim orders end with the case.
			if err := changeOrders(tx, c.Number, func(rec *register.Record) error {
				return endInterim(tx, rec, c.ID, tx.now)
			}); err != nil {
				return err
			}
		}
		return tx.audit("case.stage", "case", register.FormatID(c.ID), stageChange{Stage: from}, stageChange{Stage: to, Reason: reason})
	})
}

// write runs change on a case in one write transaction and returns the case as it then is.
func (s *CaseService) write(ctx context.Context, id int64, change func(tx *Tx, c *register.Case) error) (*register.Case, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	c, err := findCase(tx, id)
	if err != nil {
		return nil, err
	}
	if err := change(tx, c); err != nil {
		return nil, err
	}
	if c, err = findCase(tx, id); err != nil {
		return nil, err
	}
	return c, tx.Commit()
}

// SetPanel replaces a case's panel.
func (s *CaseService) SetPanel(ctx context.Context, id int64, members []*register.PanelMember) (*register.Case, error) {
	return s.write(ctx, id, func(tx *Tx, c *register.Case) error {
		if err := c.CheckPanelChange(tx.now); err != nil {
			return err
		}
		users := map[int64]*register.User{}
		for _, m := range members {
			u, err := scanUser(tx.QueryRow(`SELECT `+userColumns+` FROM users WHERE id = ?`, m.UserID))
			if err == sql.ErrNoRows {
				continue
			} else if err != nil {
				return err
			}
			users[u.ID] = u
		}
		if err := register.CheckPanel(members, users, c.RegistrantID); err != nil {
			return err
		}
		if err := checkPanelOrganisations(tx, members, users, c.RegistrantID); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM panel_members WHERE case_id = ?`, c.ID); err != nil {
			return err
		}
		for _, m := range members {
			if _, err := tx.Exec(`INSERT INTO panel_members (case_id, user_id, seat) VALUES (?, ?, ?)`, c.ID, m.UserID, string(m.Seat)); err != nil {
				return FormatError(err)
			}
			m.Email = users[m.UserID].Email
		}
		return tx.audit("case.panel", "case", register.FormatID(c.ID), c.Panel, members)
	})
}

// Appeal lodges an appeal against the case's final decision.
func (s *CaseService) Appeal(ctx context.Context, id int64, reason string) (*register.Case, error) {
	return s.write(ctx, id, func(tx *Tx, c *register.Case) error {
		if err := c.CheckAppeal(tx.now); err != nil {
			return err
		}
		return appeal(tx, c, reason)
	})
}

// appeal moves a decided case to appealed. A decision not yet in effect
// waits for the outcome: its scheduled orders are withdrawn, and interim
// orders it would have ended run on to their own end.
func appeal(tx *Tx, c *register.Case, reason string) error {
	d := c.FinalDecision()
	if d == nil {
		return register.Errorf(register.ECONFLICT, "Case %d has no final decision to appeal.", c.ID)
	}
	if _, err := tx.Exec(`UPDATE cases SET appealed_at = ?, appeal_reason = ? WHERE id = ?`, formatTime(tx.now), reason, c.ID); err != nil {
		return err
	}
	if err := setStage(tx, c, register.StageAppealed, reason); err != nil {
		return err
	}
	if !d.Immediate {
		if _, err := tx.Exec(`UPDATE decisions SET takes_effect_at = NULL WHERE id = ?`, d.ID); err != nil {
			return err
		}
		if err := changeOrders(tx, c.Number, func(rec *register.Record) error {
			if err := cutOrders(tx, rec, d.ID, tx.now); err != nil {
				return err
			}
			return restoreInterim(tx, rec, c.ID)
		}); err != nil {
			return err
		}
	}
	return tx.audit("case.appeal", "case", register.FormatID(c.ID), stageChange{Stage: register.StageDecided}, stageChange{Stage: register.StageAppealed, Reason: reason})
}

type appealOutcome struct {
	Decision  int64                 `json:"decision_id"`
	Result    register.AppealResult `json:"result"`
	Variation *register.Decision    `json:"variation,omitempty"`
}

// DecideAppeal records an appeal's outcome and its effect from now:
// upheld, the decision takes effect (if it had not); varied, the variation
// replaces it; quashed, its effects end. Interim orders end; the case is final.
func (s *CaseService) DecideAppeal(ctx context.Context, id int64, result register.AppealResult, variation *register.Decision) (*register.Case, error) {
	return s.write(ctx, id, func(tx *Tx, c *register.Case) error {
		if st := c.StageAt(tx.now); st != register.StageAppealed {
			return register.Errorf(register.ECONFLICT, "Only an appealed case has an appeal outcome; case %d is %s.", c.ID, st)
		}
		d := c.FinalDecision()
		switch result {
		case register.AppealVaried:
			if variation == nil {
				return register.FieldError("decision", "is required when the result is varied")
			}
			if !variation.Kind.Final() {
				return register.FieldError("decision.kind", "must be a final outcome: no_further_action, advice, warning, conditions, suspension or removal")
			}
			if err := variation.Validate(register.DateOf(tx.now)); err != nil {
				return prefixFields(err, "decision.")
			}
		case register.AppealUpheld, register.AppealQuashed:
			if variation != nil {
				return register.FieldError("decision", "applies only when the result is varied")
			}
		default:
			return register.FieldError("result", "must be upheld, varied or quashed")
		}
		now := tx.now
		if result == register.AppealVaried {
			variation.CaseID, variation.State, variation.Varies, variation.Immediate = c.ID, register.DecisionMade, d.ID, true
			variation.ProposedAt, variation.DecidedAt, variation.TakesEffectAt = now, &now, &now
			if err := insertDecision(tx, variation); err != nil {
				return err
			}
		}
		if err := changeOrders(tx, c.Number, func(rec *register.Record) error {
			if err := endInterim(tx, rec, c.ID, now); err != nil {
				return err
			}
			switch {
			case result == register.AppealUpheld && !d.Immediate:
				if _, err := tx.Exec(`UPDATE decisions SET takes_effect_at = ? WHERE id = ?`, formatTime(now), d.ID); err != nil {
					return err
				}
				return layOrders(tx, rec, d.Orders(now, time.Time{}))
			case result == register.AppealVaried:
				if err := cutOrders(tx, rec, d.ID, now); err != nil {
					return err
				}
				return layOrders(tx, rec, variation.Orders(now, time.Time{}))
			case result == register.AppealQuashed:
				return cutOrders(tx, rec, d.ID, now)
			}
			return nil
		}); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE decisions SET appeal_result = ?, appeal_result_at = ? WHERE id = ?`, string(result), formatTime(now), d.ID); err != nil {
			return err
		}
		if err := setStage(tx, c, register.StageFinal, "appeal "+string(result)); err != nil {
			return err
		}
		return tx.audit("case.appeal_outcome", "case", register.FormatID(c.ID), stageChange{Stage: register.StageAppealed},
			appealOutcome{Decision: d.ID, Result: result, Variation: variation})
	})
}

// prefixFields names a nested request's failing fields by their full path.
func prefixFields(err error, prefix string) error {
	fields := register.ErrorFields(err)
	if fields == nil {
		return err
	}
	v := register.Validation{}
	for f, r := range fields {
		v.Add(prefix+f, r)
	}
	return v.Err()
}

// DueReviews lists interim orders in force now whose review date has passed.
func (s *CaseService) DueReviews(ctx context.Context) ([]*register.DueReview, error) {
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := formatTime(tx.now)
	rows, err := tx.Query(`SELECT o.case_id, r.register_number, o.kind, o.valid_from, o.review_by, o.valid_to
		FROM orders o JOIN registrants r ON r.id = o.registrant_id
		WHERE o.review_by IS NOT NULL AND o.superseded_at IS NULL AND o.review_by <= ?
			AND o.valid_from <= ? AND (o.valid_to IS NULL OR o.valid_to > ?)
		ORDER BY o.review_by, o.id`, now, now, now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*register.DueReview{}
	for rows.Next() {
		var d register.DueReview
		var kind, from, review string
		var until sql.NullString
		if err := rows.Scan(&d.CaseID, &d.Number, &kind, &from, &review, &until); err != nil {
			return nil, err
		}
		d.Kind, d.From, d.ReviewBy, d.Until = register.OrderKind(kind), parseTime(from), parseTime(review), scanNullTime(until)
		out = append(out, &d)
	}
	return out, rows.Err()
}

// caseOpen reports whether the registrant has a case not yet closed or final.
func caseOpen(tx *Tx, registrantID int64) (bool, error) {
	var id int64
	err := tx.QueryRow(`SELECT id FROM cases WHERE registrant_id = ? AND stage NOT IN ('closed_no_case', 'final')
		AND NOT (stage = 'decided' AND appeal_ends_at <= ?) LIMIT 1`, registrantID, formatTime(tx.now)).Scan(&id)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, err
}

func marshalConditions(cs []register.Condition) string {
	if cs == nil {
		cs = []register.Condition{}
	}
	b, _ := json.Marshal(cs) // codes and text always marshal
	return string(b)
}

func unmarshalConditions(s string) ([]register.Condition, error) {
	out := []register.Condition{}
	return out, json.Unmarshal([]byte(s), &out)
}
