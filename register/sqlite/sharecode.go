package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/probation-register/register/register"
)

// ShareCodeService keeps registrants' share codes.
type ShareCodeService struct {
	db  *DB
	req register.Requirement
}

// NewShareCodeService returns the share-code store; req is the CPD requirement shown.
func NewShareCodeService(db *DB, req register.Requirement) *ShareCodeService {
	return &ShareCodeService{db: db, req: req}
}

var _ register.ShareCodeService = (*ShareCodeService)(nil)

// CreateShareCode stores a new code.
func (s *ShareCodeService) CreateShareCode(ctx context.Context, registrantID int64, hash, hint string, days int) (*register.ShareCode, error) {
	if days < 1 || days > 90 {
		return nil, register.FieldError("days", "must be 1 to 90")
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	sc := &register.ShareCode{Hint: hint, Created: tx.now, Expires: tx.now.AddDate(0, 0, days)}
	res, err := tx.Exec(`INSERT INTO share_codes (registrant_id, code_hash, hint, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		registrantID, hash, hint, formatTime(sc.Created), formatTime(sc.Expires))
	if err != nil {
		return nil, err
	}
	sc.ID, _ = res.LastInsertId()
	if err := tx.audit("share_code.create", "share_code", register.FormatID(sc.ID), nil, sc); err != nil {
		return nil, err
	}
	return sc, tx.Commit()
}

const shareCodeColumns = `id, hint, created_at, expires_at, revoked_at`

func scanShareCode(row interface{ Scan(...any) error }) (*register.ShareCode, error) {
	var sc register.ShareCode
	var created, expires string
	var revoked sql.NullString
	if err := row.Scan(&sc.ID, &sc.Hint, &created, &expires, &revoked); err != nil {
		return nil, err
	}
	sc.Created, sc.Expires, sc.Revoked = parseTime(created), parseTime(expires), scanNullTime(revoked)
	return &sc, nil
}

// FindShareCodes lists a registrant's codes.
func (s *ShareCodeService) FindShareCodes(ctx context.Context, registrantID int64) ([]*register.ShareCode, error) {
	rows, err := s.db.reader.QueryContext(ctx, `SELECT `+shareCodeColumns+` FROM share_codes WHERE registrant_id = ? ORDER BY id DESC`, registrantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*register.ShareCode{}
	for rows.Next() {
		sc, err := scanShareCode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// RevokeShareCode revokes a code; revoking twice keeps the first instant.
func (s *ShareCodeService) RevokeShareCode(ctx context.Context, registrantID, id int64) (*register.ShareCode, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	sc, err := scanShareCode(tx.QueryRow(`SELECT `+shareCodeColumns+` FROM share_codes WHERE id = ? AND registrant_id = ?`, id, registrantID))
	if err == sql.ErrNoRows {
		return nil, register.Errorf(register.ENOTFOUND, "Share code not found.")
	} else if err != nil {
		return nil, err
	}
	if sc.Revoked != nil {
		return sc, nil
	}
	before := *sc
	now := tx.now
	sc.Revoked = &now
	if _, err := tx.Exec(`UPDATE share_codes SET revoked_at = ? WHERE id = ?`, formatTime(now), id); err != nil {
		return nil, err
	}
	if err := tx.audit("share_code.revoke", "share_code", register.FormatID(id), before, sc); err != nil {
		return nil, err
	}
	return sc, tx.Commit()
}

// UseShareCode answers a live code and logs the use as a verification, in
// one write transaction so that no use goes unlogged.
func (s *ShareCodeService) UseShareCode(ctx context.Context, hash, familyName string) (*register.SharedView, error) {
	notFound := register.Errorf(register.ENOTFOUND, "No live share code matches that code and family name.")
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var codeID int64
	var number string
	err = tx.QueryRow(`SELECT c.id, r.register_number FROM share_codes c JOIN registrants r ON r.id = c.registrant_id
		WHERE c.code_hash = ? AND c.revoked_at IS NULL AND c.expires_at > ?`, hash, formatTime(tx.now)).Scan(&codeID, &number)
	if err == sql.ErrNoRows {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	rec, err := loadRecord(tx, number)
	if err != nil {
		return nil, err
	}
	if strings.Join(nameTokens(familyName), " ") != strings.Join(nameTokens(rec.Registrant.FamilyName), " ") {
		return nil, notFound
	}
	st := rec.StandingAt(tx.now)
	v := &register.SharedView{Record: register.NewPublicRecord(rec.Registrant, st), Qualifications: []register.SharedQualification{},
		CPD: []*register.CPDSummary{}, Engagements: []register.SharedEngagement{}}
	for _, q := range rec.Qualifications {
		sq := register.SharedQualification{Level: q.Level, Title: q.Title, AwardingBody: q.AwardingBody, State: q.State}
		if !q.AwardedOn.IsZero() {
			d := q.AwardedOn
			sq.AwardedOn = &d
		}
		v.Qualifications = append(v.Qualifications, sq)
	}
	if !st.RegisteredUntil.IsZero() {
		current := register.CycleEnding(st.RegisteredUntil)
		for _, c := range []register.Cycle{current, register.CycleEnding(current.Start.AddDate(0, 0, -1))} {
			sum, err := summarise(tx, s.req, rec.Registrant.ID, c)
			if err != nil {
				return nil, err
			}
			v.CPD = append(v.CPD, sum)
		}
	}
	rows, err := tx.Query(`SELECT o.name, e.role, e.type, e.valid_from, e.valid_until FROM engagements e JOIN organisations o ON o.id = e.organisation_id
		WHERE e.registrant_id = ? ORDER BY e.valid_from, e.id`, rec.Registrant.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e register.SharedEngagement
		var typ, from string
		var until sql.NullString
		if err := rows.Scan(&e.Organisation, &e.Role, &typ, &from, &until); err != nil {
			return nil, err
		}
		e.Type, e.From = register.EngagementType(typ), parseDate(from)
		if until.Valid {
			d := parseDate(until.String)
			e.Until = &d
		}
		v.Engagements = append(v.Engagements, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(`INSERT INTO verifications (registrant_id, register_number, organisation_id, method, purpose, checked_at, as_at) VALUES (?, ?, NULL, 'share_code', 'share_code', ?, ?)`,
		rec.Registrant.ID, number, formatTime(tx.now), formatTime(tx.now)); err != nil {
		return nil, err
	}
	if err := tx.audit("share_code.use", "share_code", register.FormatID(codeID), nil, nil); err != nil {
		return nil, err
	}
	return v, tx.Commit()
}
