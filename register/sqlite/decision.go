package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/probation-register/register/register"
)

const decisionColumns = `d.id, d.case_id, d.kind, d.state, d.conditions, d.months, d.registered_until, d.public_summary,
	d.reasons, d.immediate, COALESCE(d.proposed_by, 0), d.proposed_at, d.decided_at, d.takes_effect_at,
	COALESCE(d.varies, 0), d.appeal_result, d.appeal_result_at`

func scanDecision(row interface{ Scan(...any) error }) (*register.Decision, error) {
	var d register.Decision
	var kind, state, conditions, until, proposed, result string
	var decided, effect, resultAt sql.NullString
	if err := row.Scan(&d.ID, &d.CaseID, &kind, &state, &conditions, &d.Months, &until, &d.PublicSummary,
		&d.Reasons, &d.Immediate, &d.ProposedBy, &proposed, &decided, &effect, &d.Varies, &result, &resultAt); err != nil {
		return nil, err
	}
	var err error
	if d.Conditions, err = unmarshalConditions(conditions); err != nil {
		return nil, err
	}
	d.Kind, d.State, d.RegisteredUntil, d.AppealResult = register.DecisionKind(kind), register.DecisionState(state), parseDate(until), register.AppealResult(result)
	d.ProposedAt, d.DecidedAt, d.TakesEffectAt, d.AppealResultAt = parseTime(proposed), scanNullTime(decided), scanNullTime(effect), scanNullTime(resultAt)
	return &d, nil
}

// loadDecisions reads the decisions matching where (over alias d), with their votes.
func loadDecisions(tx *Tx, where string, arg any) ([]*register.Decision, error) {
	rows, err := tx.Query(`SELECT `+decisionColumns+` FROM decisions d WHERE `+where+` ORDER BY d.id`, arg)
	if err != nil {
		return nil, err
	}
	out := []*register.Decision{}
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, d := range out {
		if d.Votes, err = loadVotes(tx, d.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func loadVotes(tx *Tx, decisionID int64) ([]*register.Vote, error) {
	rows, err := tx.Query(`SELECT user_id, vote, at FROM votes WHERE decision_id = ? ORDER BY at, user_id`, decisionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*register.Vote{}
	for rows.Next() {
		var v register.Vote
		var at string
		if err := rows.Scan(&v.UserID, &v.Vote, &at); err != nil {
			return nil, err
		}
		v.At = parseTime(at)
		out = append(out, &v)
	}
	return out, rows.Err()
}

func findDecision(tx *Tx, id int64) (*register.Decision, error) {
	ds, err := loadDecisions(tx, `d.id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, register.Errorf(register.ENOTFOUND, "No decision %d.", id)
	}
	return ds[0], nil
}

func insertDecision(tx *Tx, d *register.Decision) error {
	if d.Conditions == nil {
		d.Conditions = []register.Condition{}
	}
	if d.Votes == nil {
		d.Votes = []*register.Vote{}
	}
	var proposedBy, varies any
	if d.ProposedBy != 0 {
		proposedBy = d.ProposedBy
	}
	if d.Varies != 0 {
		varies = d.Varies
	}
	res, err := tx.Exec(`INSERT INTO decisions (case_id, kind, state, conditions, months, registered_until, public_summary, reasons,
		immediate, proposed_by, proposed_at, decided_at, takes_effect_at, varies) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.CaseID, string(d.Kind), string(d.State), marshalConditions(d.Conditions), d.Months, d.RegisteredUntil.String(), d.PublicSummary,
		d.Reasons, d.Immediate, proposedBy, formatTime(d.ProposedAt), nullTime(d.DecidedAt), nullTime(d.TakesEffectAt), varies)
	if isUnique(err) {
		return register.Errorf(register.ECONFLICT, "A decision is already proposed on case %d and awaiting votes.", d.CaseID)
	} else if err != nil {
		return FormatError(err)
	}
	d.ID, _ = res.LastInsertId()
	return nil
}

// firstInterim is when the case's first interim order began; zero if none.
func firstInterim(tx *Tx, caseID int64) (time.Time, error) {
	var first sql.NullString
	err := tx.QueryRow(`SELECT MIN(valid_from) FROM orders WHERE case_id = ? AND kind IN ('interim_suspension', 'interim_conditions')`, caseID).Scan(&first)
	if err != nil || !first.Valid {
		return time.Time{}, err
	}
	return parseTime(first.String), nil
}

// ProposeDecision records a proposal by a member of the case's panel.
func (s *CaseService) ProposeDecision(ctx context.Context, caseID int64, d *register.Decision) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	c, err := findCase(tx, caseID)
	if err != nil {
		return err
	}
	if !c.Sits(tx.actor.UserID) {
		return register.Errorf(register.EFORBIDDEN, "Only members of the panel of case %d may propose its decisions.", caseID)
	}
	if err := d.Validate(register.DateOf(tx.now)); err != nil {
		return err
	}
	rec, err := loadRecord(tx, c.Number)
	if err != nil {
		return err
	}
	if err := c.CheckDecision(d.Kind, rec, tx.now); err != nil {
		return err
	}
	first, err := firstInterim(tx, c.ID)
	if err != nil {
		return err
	}
	if err := d.CheckInterimLimit(tx.now, first); err != nil {
		return err
	}
	d.CaseID, d.State, d.ProposedBy, d.ProposedAt = c.ID, register.DecisionProposed, tx.actor.UserID, tx.now
	d.DecidedAt, d.TakesEffectAt, d.Varies, d.AppealResult, d.AppealResultAt = nil, nil, 0, "", nil
	if err := insertDecision(tx, d); err != nil {
		return err
	}
	if err := tx.audit("decision.propose", "decision", register.FormatID(d.ID), nil, d); err != nil {
		return err
	}
	return tx.Commit()
}

// Vote records a panel member's vote and settles the proposal when a
// majority of the sitting panel agrees or can no longer agree.
func (s *CaseService) Vote(ctx context.Context, decisionID int64, vote string) (*register.Decision, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	d, err := findDecision(tx, decisionID)
	if err != nil {
		return nil, err
	}
	c, err := findCase(tx, d.CaseID)
	if err != nil {
		return nil, err
	}
	if !c.Sits(tx.actor.UserID) {
		return nil, register.Errorf(register.EFORBIDDEN, "Only members of the panel of case %d may vote on its decisions.", c.ID)
	}
	if vote != register.VoteAgree && vote != register.VoteDisagree {
		return nil, register.FieldError("vote", "must be agree or disagree")
	}
	if d.State != register.DecisionProposed {
		return nil, register.Errorf(register.ECONFLICT, "Decision %d is already %s: votes are closed.", d.ID, d.State)
	}
	v := &register.Vote{UserID: tx.actor.UserID, Vote: vote, At: tx.now}
	if _, err := tx.Exec(`INSERT INTO votes (decision_id, user_id, vote, at) VALUES (?, ?, ?, ?)`, d.ID, v.UserID, v.Vote, formatTime(tx.now)); isUnique(err) {
		return nil, register.Errorf(register.ECONFLICT, "You have already voted on decision %d.", d.ID)
	} else if err != nil {
		return nil, err
	}
	d.Votes = append(d.Votes, v)
	if err := tx.audit("decision.vote", "decision", register.FormatID(d.ID), nil, v); err != nil {
		return nil, err
	}
	var agree, disagree int
	for _, v := range d.Votes {
		if v.Vote == register.VoteAgree {
			agree++
		} else {
			disagree++
		}
	}
	switch register.Tally(len(c.Panel), agree, disagree) {
	case register.DecisionMade:
		if err := makeDecision(tx, c, d); err != nil {
			return nil, err
		}
	case register.DecisionRejected:
		if _, err := tx.Exec(`UPDATE decisions SET state = 'rejected' WHERE id = ?`, d.ID); err != nil {
			return nil, err
		}
		if err := tx.audit("decision.reject", "decision", register.FormatID(d.ID), stateOf(register.DecisionProposed), stateOf(register.DecisionRejected)); err != nil {
			return nil, err
		}
	}
	if d, err = findDecision(tx, d.ID); err != nil {
		return nil, err
	}
	return d, tx.Commit()
}

type decisionState struct {
	State register.DecisionState `json:"state"`
}

func stateOf(s register.DecisionState) decisionState { return decisionState{State: s} }

// makeDecision makes a proposal the panel's decision and lays its effects:
// an interim order at once (replacing the case's earlier one); a final
// decision when the appeal period ends, or at once if immediate, ending the
// case's interim orders then; a restoration at once, ending the removal
// with a new registration period.
func makeDecision(tx *Tx, c *register.Case, d *register.Decision) error {
	rec, err := loadRecord(tx, c.Number)
	if err != nil {
		return err
	}
	// The rules are asked again at the deciding vote, not only at the
	// proposal: for a restoration, the registrant must still be removed,
	// and its registered_until still ahead.
	if err := c.CheckMake(d, rec, tx.now); err != nil {
		return err
	}
	now := tx.now
	effect := now
	reason := fmt.Sprintf("panel decision %d: %s", d.ID, d.Kind)
	switch {
	case c.Kind == register.CaseRestoration:
		if err := setStage(tx, c, register.StageFinal, reason); err != nil {
			return err
		}
	case d.Kind.Final():
		if !d.Immediate {
			effect = register.AppealEnds(now)
		}
		if _, err := tx.Exec(`UPDATE cases SET decided_at = ?, appeal_ends_at = ? WHERE id = ?`,
			formatTime(now), formatTime(register.AppealEnds(now)), c.ID); err != nil {
			return err
		}
		ends := register.AppealEnds(now)
		c.DecidedAt, c.AppealEndsAt = &now, &ends
		if err := setStage(tx, c, register.StageDecided, reason); err != nil {
			return err
		}
	}
	first, err := firstInterim(tx, c.ID)
	if err != nil {
		return err
	}
	if err := changeOrders(tx, c.Number, func(rec *register.Record) error {
		switch {
		case d.Kind == register.DecisionRestoration:
			removal, _ := rec.RestorationFrom(now)
			if err := reshapeOrder(tx, removal, &now); err != nil {
				return err
			}
			// Read again: the removal now ends here, so the period
			// startPeriod closes is the registration beneath it.
			rec, err := loadRecord(tx, c.Number)
			if err != nil {
				return err
			}
			return startPeriod(tx, rec, register.StatusRegistered, d.RegisteredUntil, fmt.Sprintf("restored by panel decision %d on case %d", d.ID, c.ID))
		case d.Kind.Interim():
			// A new interim order (a review) replaces the case's earlier one.
			if err := endInterim(tx, rec, c.ID, now); err != nil {
				return err
			}
		default:
			if err := endInterim(tx, rec, c.ID, effect); err != nil {
				return err
			}
		}
		return layOrders(tx, rec, d.Orders(effect, first))
	}); err != nil {
		return err
	}
	if _, err := tx.Exec(`UPDATE decisions SET state = 'made', decided_at = ?, takes_effect_at = ? WHERE id = ?`,
		formatTime(now), formatTime(effect), d.ID); err != nil {
		return err
	}
	d.State, d.DecidedAt, d.TakesEffectAt = register.DecisionMade, &now, &effect
	return tx.audit("decision.make", "decision", register.FormatID(d.ID), stateOf(register.DecisionProposed), d)
}

// registrationChange is what the audit log keeps of a change to a registration's orders.
type registrationChange struct {
	Standing *register.Standing `json:"standing"`
	Orders   []*register.Order  `json:"orders"`
}

// changeOrders runs change on the registrant's record, then stores the
// new standing and audits the orders and standing before and after.
func changeOrders(tx *Tx, number string, change func(rec *register.Record) error) error {
	rec, err := loadRecord(tx, number)
	if err != nil {
		return err
	}
	before := registrationChange{Standing: rec.StandingAt(tx.now), Orders: rec.Orders}
	if err := change(rec); err != nil {
		return err
	}
	if rec, err = loadRecord(tx, number); err != nil {
		return err
	}
	after := registrationChange{Standing: rec.StandingAt(tx.now), Orders: rec.Orders}
	if err := storeStanding(tx, rec); err != nil {
		return err
	}
	if snapshot(before) == snapshot(after) {
		return nil
	}
	return tx.audit("registration.orders", "registration", number, before, after)
}

// loadOrders reads the orders in the registrant's history (superseded ones are kept but not read).
func loadOrders(tx *Tx, registrantID int64) ([]*register.Order, error) {
	rows, err := tx.Query(`SELECT id, case_id, decision_id, kind, valid_from, valid_to, ends_at, review_by, conditions,
		public_summary, COALESCE(period_id, 0) FROM orders WHERE registrant_id = ? AND superseded_at IS NULL ORDER BY valid_from, id`, registrantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*register.Order
	for rows.Next() {
		var o register.Order
		var kind, from, conditions string
		var to, ends, review sql.NullString
		if err := rows.Scan(&o.ID, &o.CaseID, &o.DecisionID, &kind, &from, &to, &ends, &review, &conditions, &o.PublicSummary, &o.PeriodID); err != nil {
			return nil, err
		}
		if o.Conditions, err = unmarshalConditions(conditions); err != nil {
			return nil, err
		}
		o.Kind, o.From, o.To, o.EndsAt, o.ReviewBy = register.OrderKind(kind), parseTime(from), scanNullTime(to), scanNullTime(ends), scanNullTime(review)
		out = append(out, &o)
	}
	return out, rows.Err()
}

// layOrders writes new orders; one that sets a status gets its own period
// over the registration, keeping the registration's renewal date.
func layOrders(tx *Tx, rec *register.Record, orders []*register.Order) error {
	until := rec.StandingAt(tx.now).RegisteredUntil
	for _, o := range orders {
		var periodID any
		if st := o.Kind.Status(); st != "" {
			res, err := tx.Exec(`INSERT INTO registration_periods (registrant_id, status, valid_from, valid_to, registered_until, reason, recorded_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, rec.Registrant.ID, string(st), formatTime(o.From), nullTime(o.To), until.String(),
				fmt.Sprintf("%s by panel decision %d on case %d", o.Kind, o.DecisionID, o.CaseID), formatTime(tx.now))
			if err != nil {
				return err
			}
			o.PeriodID, _ = res.LastInsertId()
			periodID = o.PeriodID
		}
		res, err := tx.Exec(`INSERT INTO orders (registrant_id, case_id, decision_id, kind, valid_from, valid_to, ends_at, review_by,
			conditions, public_summary, period_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.Registrant.ID, o.CaseID, o.DecisionID, string(o.Kind), formatTime(o.From), nullTime(o.To), nullTime(o.EndsAt),
			nullTime(o.ReviewBy), marshalConditions(o.Conditions), o.PublicSummary, periodID, formatTime(tx.now))
		if err != nil {
			return err
		}
		o.ID, _ = res.LastInsertId()
	}
	return nil
}

// reshapeOrder gives an order a new end without rewriting history: the
// row (and its period) is superseded now and, unless the order is
// withdrawn before it began, a copy with the new end replaces it. Every
// new end is now or later, so no answer about the past changes.
func reshapeOrder(tx *Tx, o *register.Order, to *time.Time) error {
	if (o.To == nil && to == nil) || (o.To != nil && to != nil && o.To.Equal(*to)) {
		return nil
	}
	now := formatTime(tx.now)
	if _, err := tx.Exec(`UPDATE orders SET superseded_at = ? WHERE id = ?`, now, o.ID); err != nil {
		return err
	}
	if o.PeriodID != 0 {
		if _, err := tx.Exec(`UPDATE registration_periods SET superseded_at = ? WHERE id = ?`, now, o.PeriodID); err != nil {
			return err
		}
	}
	if to != nil && !to.After(o.From) {
		return nil
	}
	var periodID any
	if o.PeriodID != 0 {
		res, err := tx.Exec(`INSERT INTO registration_periods (registrant_id, status, valid_from, valid_to, registered_until, reason, recorded_at)
			SELECT registrant_id, status, valid_from, ?, registered_until, reason, ? FROM registration_periods WHERE id = ?`, nullTime(to), now, o.PeriodID)
		if err != nil {
			return err
		}
		periodID, _ = res.LastInsertId()
	}
	_, err := tx.Exec(`INSERT INTO orders (registrant_id, case_id, decision_id, kind, valid_from, valid_to, ends_at, review_by,
		conditions, public_summary, period_id, recorded_at)
		SELECT registrant_id, case_id, decision_id, kind, valid_from, ?, ends_at, review_by, conditions, public_summary, ?, ?
		FROM orders WHERE id = ?`, nullTime(to), periodID, now, o.ID)
	return err
}

// cutOrders ends a decision's orders at at: those not yet begun are withdrawn.
func cutOrders(tx *Tx, rec *register.Record, decisionID int64, at time.Time) error {
	for _, o := range rec.Orders {
		if o.DecisionID == decisionID && (o.To == nil || o.To.After(at)) {
			if err := reshapeOrder(tx, o, &at); err != nil {
				return err
			}
		}
	}
	return nil
}

// endInterim ends a case's interim orders at at, if they run past it.
func endInterim(tx *Tx, rec *register.Record, caseID int64, at time.Time) error {
	for _, o := range rec.Orders {
		if o.CaseID == caseID && o.Kind.Interim() && (o.To == nil || o.To.After(at)) {
			if err := reshapeOrder(tx, o, &at); err != nil {
				return err
			}
		}
	}
	return nil
}

// restoreInterim lets a case's interim orders that were cut short for a
// final decision not yet in effect run on to their own end.
func restoreInterim(tx *Tx, rec *register.Record, caseID int64) error {
	for _, o := range rec.Orders {
		if o.CaseID == caseID && o.Kind.Interim() && o.To != nil && o.To.After(tx.now) && o.EndsAt != nil && o.To.Before(*o.EndsAt) {
			if err := reshapeOrder(tx, o, o.EndsAt); err != nil {
				return err
			}
		}
	}
	return nil
}
