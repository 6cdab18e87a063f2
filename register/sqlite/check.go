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
	// standingFrom and historyFrom bound the stored answer's window (public.go).
	standingFrom, historyFrom sql.NullString
}

// checkLookup is how many register numbers one lookup statement asks for:
// a short statement's fixed cost (a cgo call, database/sql's bookkeeping)
// is then paid once per batch instead of once per item. Shorter batches
// repeat their last number, so that every statement has the same text and
// the connection's statement cache keeps it prepared.
const checkLookup = 100

var checkLookupQuery = `SELECT r.register_number, r.id, r.family_name, r.date_of_birth, g.public_json, g.changes_at, g.standing_from, g.history_from
	FROM registrants r JOIN registrations g ON g.registrant_id = r.id WHERE r.register_number IN (?` + strings.Repeat(", ?", checkLookup-1) + `)`

// checkInsert is how many verification rows one INSERT writes.
const checkInsert = 100

// Check answers all items from one read snapshot, then records one
// verification per item in one write transaction. The stored public answer
// serves each item when it holds at the instant asked (numbers are looked
// up a hundred at a time); otherwise the answer is derived from the history.
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
	found, err := lookupChecked(ctx, rtx, items)
	if err != nil {
		return nil, time.Time{}, err
	}
	out := make([]register.CheckResult, len(items))
	ids := make([]any, len(items))
	for i, it := range items {
		res := &out[i]
		res.Number = it.Number
		if it.Err != nil {
			res.Err = it.Err
			continue
		}
		row, ok := found[it.Number]
		if !ok {
			res.Err = notOnRegister(it.Number)
			continue
		}
		ids[i] = row.id
		body := row.body
		switch {
		case storedHolds(asAt, now, row.changesAt, row.standingFrom):
		case row.historyFrom.Valid && formatTime(asAt) < row.historyFrom.String:
			res.Err = notOnRegister(it.Number) // before anything in the history
			continue
		default:
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
		res.IdentityMatch = identityMatch(it, *row)
	}
	if err := rtx.Rollback(); err != nil {
		return nil, time.Time{}, err
	}

	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer tx.Rollback()
	checked, asAtText := formatTime(now), formatTime(asAt)
	const insert = `INSERT INTO verifications (registrant_id, register_number, organisation_id, method, purpose, checked_at, as_at) VALUES `
	const row = `(?, ?, ?, 'bulk_check', ?, ?, ?)`
	var full *sql.Stmt
	args := make([]any, 0, checkInsert*6)
	for i, it := range items {
		n := it.Number
		if len(n) > 20 {
			n = n[:20]
		}
		args = append(args, ids[i], n, orgID, string(purpose), checked, asAtText)
		if len(args) < cap(args) && i < len(items)-1 {
			continue
		}
		rows := len(args) / 6
		q := insert + strings.Repeat(row+", ", rows-1) + row
		if rows == checkInsert {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, q); err != nil {
					return nil, time.Time{}, err
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, q, args...)
		}
		if err != nil {
			return nil, time.Time{}, err
		}
		args = args[:0]
	}
	summary := map[string]any{"purpose": purpose, "items": len(items), "as_at": asAt}
	if err := tx.audit("check.bulk", "organisation", register.FormatID(orgID), nil, summary); err != nil {
		return nil, time.Time{}, err
	}
	return out, now, tx.Commit()
}

// lookupChecked reads the registrants the well-formed items name, by
// register number, checkLookup numbers per statement.
func lookupChecked(ctx context.Context, rtx *Tx, items []register.CheckItem) (map[string]*checkRow, error) {
	found := make(map[string]*checkRow, len(items))
	args := make([]any, 0, checkLookup)
	seen := make(map[string]bool, len(items))
	flush := func() error {
		for len(args) < checkLookup {
			args = append(args, args[len(args)-1])
		}
		rows, err := rtx.QueryContext(ctx, checkLookupQuery, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var number string
			row := &checkRow{}
			if err := rows.Scan(&number, &row.id, &row.familyName, &row.dateOfBirth, &row.body, &row.changesAt, &row.standingFrom, &row.historyFrom); err != nil {
				return err
			}
			found[number] = row
		}
		args = args[:0]
		return rows.Err()
	}
	for _, it := range items {
		if it.Err != nil || seen[it.Number] {
			continue
		}
		seen[it.Number] = true
		if args = append(args, it.Number); len(args) == checkLookup {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if len(args) > 0 {
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return found, nil
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
	rows, err := s.db.reader.QueryContext(ctx, findVerificationsQuery, registrantID, register.MaxVerifications)
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
