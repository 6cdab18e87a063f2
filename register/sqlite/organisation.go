package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/mattn/go-sqlite3"

	"github.com/probation-register/register/register"
)

// OrganisationService keeps organisations, their API keys, engagements and checks.
type OrganisationService struct{ db *DB }

// NewOrganisationService returns the organisation store.
func NewOrganisationService(db *DB) *OrganisationService { return &OrganisationService{db: db} }

var _ register.OrganisationService = (*OrganisationService)(nil)

func isForeignKey(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey
}

func orgNotFound() error { return register.Errorf(register.ENOTFOUND, "Organisation not found.") }

// CreateOrganisation adds an organisation.
func (s *OrganisationService) CreateOrganisation(ctx context.Context, o *register.Organisation) error {
	if err := o.Validate(); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	o.Created = tx.now
	res, err := tx.Exec(`INSERT INTO organisations (name, kind, created_at) VALUES (?, ?, ?)`, o.Name, string(o.Kind), formatTime(tx.now))
	if err != nil {
		return err
	}
	o.ID, _ = res.LastInsertId()
	if err := tx.audit("organisation.create", "organisation", register.FormatID(o.ID), nil, o); err != nil {
		return err
	}
	return tx.Commit()
}

func findOrganisation(q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, ctx context.Context, id int64) (*register.Organisation, error) {
	var o register.Organisation
	var kind, created string
	err := q.QueryRowContext(ctx, `SELECT id, name, kind, created_at FROM organisations WHERE id = ?`, id).Scan(&o.ID, &o.Name, &kind, &created)
	if err == sql.ErrNoRows {
		return nil, orgNotFound()
	} else if err != nil {
		return nil, err
	}
	o.Kind, o.Created = register.OrgKind(kind), parseTime(created)
	return &o, nil
}

// FindOrganisation returns one organisation.
func (s *OrganisationService) FindOrganisation(ctx context.Context, id int64) (*register.Organisation, error) {
	return findOrganisation(s.db.reader, ctx, id)
}

// CreateAPIKey stores a new key by its hash.
func (s *OrganisationService) CreateAPIKey(ctx context.Context, orgID int64, name, prefix, hash string) (*register.APIKey, error) {
	if len(name) > 100 {
		return nil, register.FieldError("name", "must be at most 100 characters")
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := findOrganisation(tx, ctx, orgID); err != nil {
		return nil, err
	}
	k := &register.APIKey{OrganisationID: orgID, Prefix: prefix, Name: name, Created: tx.now}
	res, err := tx.Exec(`INSERT INTO api_keys (organisation_id, prefix, key_hash, name, created_at) VALUES (?, ?, ?, ?, ?)`,
		orgID, prefix, hash, name, formatTime(tx.now))
	if err != nil {
		return nil, err
	}
	k.ID, _ = res.LastInsertId()
	if err := tx.audit("api_key.create", "api_key", register.FormatID(k.ID), nil, k); err != nil {
		return nil, err
	}
	return k, tx.Commit()
}

const apiKeyColumns = `id, organisation_id, prefix, name, created_at, revoked_at`

func scanAPIKey(row interface{ Scan(...any) error }) (*register.APIKey, error) {
	var k register.APIKey
	var created string
	var revoked sql.NullString
	if err := row.Scan(&k.ID, &k.OrganisationID, &k.Prefix, &k.Name, &created, &revoked); err != nil {
		return nil, err
	}
	k.Created, k.Revoked = parseTime(created), scanNullTime(revoked)
	return &k, nil
}

// FindAPIKeys lists an organisation's keys.
func (s *OrganisationService) FindAPIKeys(ctx context.Context, orgID int64) ([]*register.APIKey, error) {
	rows, err := s.db.reader.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE organisation_id = ? ORDER BY id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*register.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes one of the organisation's keys; revoking twice keeps the first instant.
func (s *OrganisationService) RevokeAPIKey(ctx context.Context, orgID, keyID int64) (*register.APIKey, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	k, err := scanAPIKey(tx.QueryRow(`SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ? AND organisation_id = ?`, keyID, orgID))
	if err == sql.ErrNoRows {
		return nil, register.Errorf(register.ENOTFOUND, "API key not found.")
	} else if err != nil {
		return nil, err
	}
	if k.Revoked != nil {
		return k, nil
	}
	before := *k
	now := tx.now
	k.Revoked = &now
	if _, err := tx.Exec(`UPDATE api_keys SET revoked_at = ? WHERE id = ?`, formatTime(now), keyID); err != nil {
		return nil, err
	}
	if err := tx.audit("api_key.revoke", "api_key", register.FormatID(k.ID), before, k); err != nil {
		return nil, err
	}
	return k, tx.Commit()
}

// AuthenticateAPIKey finds the organisation of an unrevoked key.
func (s *OrganisationService) AuthenticateAPIKey(ctx context.Context, hash string) (*register.OrgPrincipal, error) {
	var id, orgID int64
	var kind string
	err := s.db.reader.QueryRowContext(ctx, `SELECT k.id, k.organisation_id, o.kind FROM api_keys k JOIN organisations o ON o.id = k.organisation_id
		WHERE k.key_hash = ? AND k.revoked_at IS NULL`, hash).Scan(&id, &orgID, &kind)
	if err == sql.ErrNoRows {
		return nil, register.Errorf(register.EUNAUTHORIZED, "A valid access token or API key is required.")
	} else if err != nil {
		return nil, err
	}
	return &register.OrgPrincipal{OrganisationID: orgID, Kind: register.OrgKind(kind),
		Actor: register.Actor{Role: register.Role(kind), Name: "api_key:" + strconv.FormatInt(id, 10)}}, nil
}
