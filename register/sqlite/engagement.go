package sqlite

import (
	"context"
	"database/sql"

	"github.com/probation-register/register/register"
)

var _ register.EngagementService = (*OrganisationService)(nil)

// CreateEngagement records an engagement after checking, in the same
// transaction, that the registrant may practise in the role on its first day.
func (s *OrganisationService) CreateEngagement(ctx context.Context, orgID int64, e *register.Engagement) error {
	if err := e.Validate(); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rec, err := loadRecord(tx, e.Number)
	if register.ErrorCode(err) == register.ENOTFOUND {
		return register.FieldError("register_number", "is not on the register")
	} else if err != nil {
		return err
	}
	// On its first day: from the start of that day, or from now if that is today.
	at := e.From.Start()
	if register.DateOf(tx.now) == e.From {
		at = tx.now
	}
	if why := register.AuthorisedOn(rec.StandingAt(at), e.Role); why != "" {
		return register.Errorf(register.EUNPROCESSABLE, "%s may not be engaged as %s on %s. %s", e.Number, e.Role, e.From, why)
	}
	e.OrganisationID, e.Created = orgID, tx.now
	var until any
	if e.Until != nil {
		until = e.Until.String()
	}
	res, err := tx.Exec(`INSERT INTO engagements (organisation_id, registrant_id, role, type, valid_from, valid_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		orgID, rec.Registrant.ID, e.Role, string(e.Type), e.From.String(), until, formatTime(tx.now))
	if err != nil {
		return err
	}
	e.ID, _ = res.LastInsertId()
	if err := tx.audit("engagement.create", "engagement", register.FormatID(e.ID), nil, e); err != nil {
		return err
	}
	return tx.Commit()
}

const engagementColumns = `e.id, e.organisation_id, r.register_number, e.role, e.type, e.valid_from, e.valid_until, e.ended_at, e.created_at
	FROM engagements e JOIN registrants r ON r.id = e.registrant_id`

func scanEngagement(row interface{ Scan(...any) error }) (*register.Engagement, error) {
	var e register.Engagement
	var typ, from, created string
	var until, ended sql.NullString
	if err := row.Scan(&e.ID, &e.OrganisationID, &e.Number, &e.Role, &typ, &from, &until, &ended, &created); err != nil {
		return nil, err
	}
	e.Type, e.From, e.Ended, e.Created = register.EngagementType(typ), parseDate(from), scanNullTime(ended), parseTime(created)
	if until.Valid {
		d := parseDate(until.String)
		e.Until = &d
	}
	return &e, nil
}

// FindEngagements lists the organisation's engagements.
func (s *OrganisationService) FindEngagements(ctx context.Context, orgID int64) ([]*register.Engagement, error) {
	rows, err := s.db.reader.QueryContext(ctx, `SELECT `+engagementColumns+` WHERE e.organisation_id = ? ORDER BY e.id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*register.Engagement{}
	for rows.Next() {
		e, err := scanEngagement(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func engagementNotFound() error { return register.Errorf(register.ENOTFOUND, "Engagement not found.") }

func findEngagement(q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, ctx context.Context, orgID, id int64) (*register.Engagement, error) {
	e, err := scanEngagement(q.QueryRowContext(ctx, `SELECT `+engagementColumns+` WHERE e.id = ? AND e.organisation_id = ?`, id, orgID))
	if err == sql.ErrNoRows {
		return nil, engagementNotFound()
	}
	return e, err
}

// FindEngagement returns one of the organisation's engagements; another's answers as missing.
func (s *OrganisationService) FindEngagement(ctx context.Context, orgID, id int64) (*register.Engagement, error) {
	return findEngagement(s.db.reader, ctx, orgID, id)
}

// EndEngagement sets the last day of an engagement.
func (s *OrganisationService) EndEngagement(ctx context.Context, orgID, id int64, until register.Date) (*register.Engagement, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	e, err := findEngagement(tx, ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if e.Ended != nil {
		return nil, register.Errorf(register.ECONFLICT, "The engagement has already ended.")
	}
	if until.Before(e.From) {
		return nil, register.FieldError("until", "must not be before the engagement's from date")
	}
	before := *e
	now := tx.now
	e.Until, e.Ended = &until, &now
	if _, err := tx.Exec(`UPDATE engagements SET valid_until = ?, ended_at = ? WHERE id = ?`, until.String(), formatTime(now), id); err != nil {
		return nil, err
	}
	if err := tx.audit("engagement.end", "engagement", register.FormatID(id), before, e); err != nil {
		return nil, err
	}
	return e, tx.Commit()
}

// checkPanelOrganisations is the panel's conflict-of-interest rule: no
// member may work for an organisation that engages, or has engaged, the
// registrant (a member's organisation is users.organisation_id).
func checkPanelOrganisations(tx *Tx, members []*register.PanelMember, users map[int64]*register.User, registrantID int64) error {
	for _, m := range members {
		u := users[m.UserID]
		if u == nil || u.OrganisationID == 0 {
			continue
		}
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM engagements WHERE organisation_id = ? AND registrant_id = ?`, u.OrganisationID, registrantID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return register.Errorf(register.EUNPROCESSABLE, "Panel member %s works for an organisation that engages the registrant: a conflict of interest.", u.Email)
		}
	}
	return nil
}

var _ register.ReferralService = (*CaseService)(nil)

// CreateReferral opens a fitness-to-practise case from an organisation
// about someone it engages or has engaged, checked in the case's transaction.
func (s *CaseService) CreateReferral(ctx context.Context, orgID int64, c *register.Case) error {
	c.Kind, c.Source = register.CaseReferral, register.SourceEmployer
	return s.createCase(ctx, c, func(tx *Tx, rec *register.Record) error {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM engagements WHERE organisation_id = ? AND registrant_id = ?`, orgID, rec.Registrant.ID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return register.Errorf(register.EUNPROCESSABLE, "Your organisation has no engagement of %s: refer through the regulator's public route instead.", c.Number)
		}
		return nil
	})
}
