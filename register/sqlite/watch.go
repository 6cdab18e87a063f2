package sqlite

import (
	"context"

	"github.com/probation-register/register/register"
)

var _ register.WatchService = (*OrganisationService)(nil)

// AddWatch adds a registrant who is on the register; adding twice is one watch.
func (s *OrganisationService) AddWatch(ctx context.Context, orgID int64, number string) (*register.Watch, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var registrantID int64
	if err := tx.QueryRow(`SELECT registrant_id FROM registrations WHERE register_number = ?`, number).Scan(&registrantID); err != nil {
		return nil, notOnRegister(number)
	}
	res, err := tx.Exec(`INSERT INTO watches (organisation_id, registrant_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, orgID, registrantID, formatTime(tx.now))
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		if err := tx.audit("watch.add", "organisation", register.FormatID(orgID), nil, map[string]string{"register_number": number}); err != nil {
			return nil, err
		}
	}
	w, err := findWatch(tx, orgID, registrantID, number)
	if err != nil {
		return nil, err
	}
	return w, tx.Commit()
}

func findWatch(tx *Tx, orgID, registrantID int64, number string) (*register.Watch, error) {
	w := &register.Watch{Number: number}
	err := tx.QueryRow(`SELECT EXISTS (SELECT 1 FROM engagements e WHERE organisation_id = ?1 AND registrant_id = ?2`+engagedOn+`),
		EXISTS (SELECT 1 FROM watches WHERE organisation_id = ?1 AND registrant_id = ?2)`, orgID, registrantID, register.DateOf(tx.now).String()).Scan(&w.Engaged, &w.Added)
	return w, err
}

// RemoveWatch removes an added registrant; those engaged stay watched.
func (s *OrganisationService) RemoveWatch(ctx context.Context, orgID int64, number string) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.Exec(`DELETE FROM watches WHERE organisation_id = ? AND registrant_id = (SELECT id FROM registrants WHERE register_number = ?)`, orgID, number)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return register.Errorf(register.ENOTFOUND, "%s is not on your watch list.", number)
	}
	if err := tx.audit("watch.remove", "organisation", register.FormatID(orgID), map[string]string{"register_number": number}, nil); err != nil {
		return err
	}
	return tx.Commit()
}

// FindWatches lists the organisation's watch list.
func (s *OrganisationService) FindWatches(ctx context.Context, orgID int64) ([]*register.Watch, error) {
	rows, err := s.db.reader.QueryContext(ctx, `SELECT r.register_number,
		EXISTS (SELECT 1 FROM engagements e WHERE e.organisation_id = ?1 AND e.registrant_id = r.id`+engagedOn+`),
		EXISTS (SELECT 1 FROM watches w WHERE w.organisation_id = ?1 AND w.registrant_id = r.id)
		FROM registrants r WHERE r.id IN (SELECT registrant_id FROM engagements e WHERE organisation_id = ?1`+engagedOn+`
			UNION SELECT registrant_id FROM watches WHERE organisation_id = ?1)
		ORDER BY r.register_number`, orgID, nil, register.DateOf(s.db.now()).String())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*register.Watch{}
	for rows.Next() {
		var w register.Watch
		if err := rows.Scan(&w.Number, &w.Engaged, &w.Added); err != nil {
			return nil, err
		}
		out = append(out, &w)
	}
	return out, rows.Err()
}
