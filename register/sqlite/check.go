package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/probation-register/register/register"
)

var _ register.CheckService = (*OrganisationService)(nil)

// checkRow is what a bulk check reads about one registrant.
type checkRow struct {
	id          int64
	familyName  string
	dateOfBirth string
	body        []byte
	changesAt   sql.NullString
}

// Check answers all items from one read snapshot, then records one
// verification per item in one write transaction. The stored public answer
// serves each item when it still holds at the instant asked (one indexed
// read); otherwise the answer is derived from the history.
func (s *OrganisationService) Check(ctx context.Context, orgID int64, purpose register.CheckPurpose, at *time.Time, items []register.CheckItem) ([]register.CheckResult, time.Time, error) {
	rtx, err := s.db.ReadTx(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer rtx.Rollback()
	now := rtx.now
	asAt := now
	if at != nil {
		asAt = *at
	}
	stmt, err := rtx.PrepareContext(ctx, `SELECT r.id, r.family_name, r.date_of_birth, g.public_json, g.changes_at
		FROM registrants r JOIN registrations g ON g.registrant_id = r.id WHERE r.register_number = ?`)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer stmt.Close()
	out := make([]register.CheckResult, len(items))
	ids := make([]any, len(items))
	for i, it := range items {
		res := &out[i]
		res.Number = it.Number
		if it.Err != nil {
			res.Err = it.Err
			continue
		}
		var row checkRow
		err := stmt.QueryRowContext(ctx, it.Number).Scan(&row.id, &row.familyName, &row.dateOfBirth, &row.body, &row.changesAt)
		if err == sql.ErrNoRows {
			res.Err = notOnRegister(it.Number)
			continue
		} else if err != nil {
			return nil, time.Time{}, err
		}
		ids[i] = row.id
		body := row.body
		stored := !asAt.Before(now) && (!row.changesAt.Valid || row.changesAt.String > formatTime(asAt))
		if !stored {
			rec, err := loadRecord(rtx, it.Number)
			if err != nil {
				return nil, time.Time{}, err
			}
			st := rec.StandingAt(asAt)
			if !st.OnRegister() {
				res.Err = notOnRegister(it.Number)
				continue
			}
			if body, err = register.MarshalPublic(register.NewPublicRecord(rec.Registrant, st)); err != nil {
				return nil, time.Time{}, err
			}
		}
		a := register.PublicAnswer{Body: body, AsAt: asAt}
		res.Result = a.AppendJSON(make([]byte, 0, len(body)+64), now)
		res.IdentityMatch = identityMatch(it, row)
	}
	if err := rtx.Rollback(); err != nil {
		return nil, time.Time{}, err
	}

	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO verifications (registrant_id, register_number, organisation_id, method, purpose, checked_at, as_at) VALUES (?, ?, ?, 'bulk_check', ?, ?, ?)`)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer ins.Close()
	checked, asAtText := formatTime(now), formatTime(asAt)
	for i, it := range items {
		n := it.Number
		if len(n) > 20 {
			n = n[:20]
		}
		if _, err := ins.ExecContext(ctx, ids[i], n, orgID, string(purpose), checked, asAtText); err != nil {
			return nil, time.Time{}, err
		}
	}
	summary := map[string]any{"purpose": purpose, "items": len(items), "as_at": asAt}
	if err := tx.audit("check.bulk", "organisation", register.FormatID(orgID), nil, summary); err != nil {
		return nil, time.Time{}, err
	}
	return out, now, tx.Commit()
}

// identityMatch compares the asked family name (accents, case and spacing
// aside) and date of birth with the record: nil when neither was asked.
func identityMatch(it register.CheckItem, row checkRow) *bool {
	if it.FamilyName == nil && it.DateOfBirth == nil {
		return nil
	}
	ok := true
	if it.FamilyName != nil {
		ok = strings.Join(nameTokens(*it.FamilyName), " ") == strings.Join(nameTokens(row.familyName), " ")
	}
	if it.DateOfBirth != nil {
		ok = ok && it.DateOfBirth.String() == row.dateOfBirth
	}
	return &ok
}

// FindVerifications lists who checked a registrant's record.
func (s *OrganisationService) FindVerifications(ctx context.Context, registrantID int64) ([]*register.Verification, error) {
	rows, err := s.db.reader.QueryContext(ctx, `SELECT v.id, v.register_number, COALESCE(v.organisation_id, 0), COALESCE(o.name, ''), v.method, v.purpose, v.checked_at, v.as_at
		FROM verifications v LEFT JOIN organisations o ON o.id = v.organisation_id
		WHERE v.registrant_id = ? ORDER BY v.id DESC LIMIT ?`, registrantID, register.MaxVerifications)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*register.Verification{}
	for rows.Next() {
		var v register.Verification
		var purpose, checked, asAt string
		if err := rows.Scan(&v.ID, &v.Number, &v.OrganisationID, &v.Organisation, &v.Method, &purpose, &checked, &asAt); err != nil {
			return nil, err
		}
		v.Purpose, v.CheckedAt, v.AsAt = register.CheckPurpose(purpose), parseTime(checked), parseTime(asAt)
		out = append(out, &v)
	}
	return out, rows.Err()
}
