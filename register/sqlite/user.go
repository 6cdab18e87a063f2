package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/probation-register/register/register"
)

// UserService keeps accounts and their sessions.
type UserService struct{ db *DB }

// NewUserService returns the account store.
func NewUserService(db *DB) *UserService { return &UserService{db: db} }

var (
	_ register.UserService    = (*UserService)(nil)
	_ register.SessionService = (*UserService)(nil)
)

// CreateUser adds a user whose password is already hashed.
func (s *UserService) CreateUser(ctx context.Context, u *register.User, passwordHash string) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := createUser(tx, u, passwordHash); err != nil {
		return err
	}
	return tx.Commit()
}

func createUser(tx *Tx, u *register.User, passwordHash string) error {
	if err := u.Validate(); err != nil {
		return err
	}
	u.Created, u.Updated = tx.now, tx.now
	var registrantID any
	if u.RegistrantID != 0 {
		registrantID = u.RegistrantID
	}
	var orgID any
	if u.OrganisationID != 0 {
		orgID = u.OrganisationID
	}
	res, err := tx.Exec(`INSERT INTO users (email, password_hash, role, disabled, created_at, updated_at, registrant_id, organisation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		u.Email, passwordHash, string(u.Role), u.Disabled, formatTime(tx.now), formatTime(tx.now), registrantID, orgID)
	if isForeignKey(err) {
		return register.FieldError("organisation_id", "no such organisation")
	} else if isUnique(err) {
		return register.Errorf(register.ECONFLICT, "A user with email %s already exists.", u.Email)
	} else if err != nil {
		return err
	}
	u.ID, _ = res.LastInsertId()
	return tx.audit("user.create", "user", strconv.FormatInt(u.ID, 10), nil, u)
}

const userColumns = `id, email, role, disabled, created_at, updated_at, COALESCE(registrant_id, 0), COALESCE(organisation_id, 0)`

func scanUser(row interface{ Scan(...any) error }, extra ...any) (*register.User, error) {
	var u register.User
	var role, created, updated string
	if err := row.Scan(append([]any{&u.ID, &u.Email, &role, &u.Disabled, &created, &updated, &u.RegistrantID, &u.OrganisationID}, extra...)...); err != nil {
		return nil, err
	}
	u.Role, u.Created, u.Updated = register.Role(role), parseTime(created), parseTime(updated)
	return &u, nil
}

func userNotFound() error { return register.Errorf(register.ENOTFOUND, "User not found.") }

// FindUserByID returns a user.
func (s *UserService) FindUserByID(ctx context.Context, id int64) (*register.User, error) {
	u, err := scanUser(s.db.reader.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, userNotFound()
	}
	return u, err
}

// FindUserByEmail returns a user and its password hash.
func (s *UserService) FindUserByEmail(ctx context.Context, email string) (*register.User, string, error) {
	var hash string
	u, err := scanUser(s.db.reader.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = ?`, email), &hash)
	if err == sql.ErrNoRows {
		return nil, "", userNotFound()
	}
	return u, hash, err
}

// FindUsers lists users in id order.
func (s *UserService) FindUsers(ctx context.Context, f register.UserFilter) ([]*register.User, error) {
	q, args := `SELECT `+userColumns+` FROM users WHERE id > ?`, []any{f.After}
	if f.Role != "" {
		q += ` AND role = ?`
		args = append(args, string(f.Role))
	}
	rows, err := s.db.reader.QueryContext(ctx, q+` ORDER BY id LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*register.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UpdateUser changes a user's role or disabled flag. Disabling revokes
// every refresh token; access tokens stop working because every request
// reads the user afresh.
func (s *UserService) UpdateUser(ctx context.Context, id int64, upd register.UserUpdate) (*register.User, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	u, err := scanUser(tx.QueryRow(`SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, userNotFound()
	} else if err != nil {
		return nil, err
	}
	before := *u
	if upd.Role != nil {
		if !upd.Role.Valid() {
			return nil, register.FieldError("role", "must be one of admin, registrar, panel_member, employer, agency, registrant")
		}
		u.Role = *upd.Role
	}
	if upd.Disabled != nil {
		u.Disabled = *upd.Disabled
	}
	if before.Role == register.RoleAdmin && !before.Disabled && (u.Disabled || u.Role != register.RoleAdmin) {
		var others int
		if err := tx.QueryRow(`SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id != ?`, id).Scan(&others); err != nil {
			return nil, err
		}
		if others == 0 {
			return nil, register.Errorf(register.ECONFLICT, "This is the last active admin: add another admin first.")
		}
	}
	u.Updated = tx.now
	if _, err := tx.Exec(`UPDATE users SET role = ?, disabled = ?, updated_at = ? WHERE id = ?`, string(u.Role), u.Disabled, formatTime(tx.now), id); err != nil {
		return nil, err
	}
	if u.Disabled || u.Role != before.Role {
		if _, err := tx.Exec(`UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, formatTime(tx.now), id); err != nil {
			return nil, err
		}
	}
	if err := tx.audit("user.update", "user", strconv.FormatInt(id, 10), &before, u); err != nil {
		return nil, err
	}
	return u, tx.Commit()
}

// CreateSession stores a new refresh-token family for a user.
func (s *UserService) CreateSession(ctx context.Context, userID int64, tokenHash string, expires time.Time) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	family := newFamily()
	if _, err := tx.Exec(`INSERT INTO sessions (family, user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		family, userID, tokenHash, formatTime(tx.now), formatTime(expires)); err != nil {
		return err
	}
	if err := tx.audit("session.create", "session", family, nil, map[string]any{"user_id": userID}); err != nil {
		return err
	}
	return tx.Commit()
}

func newFamily() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func invalidRefresh() error {
	return register.Errorf(register.EUNAUTHORIZED, "The refresh token is not valid.")
}

// RotateSession swaps a refresh token for a new one in the same family.
func (s *UserService) RotateSession(ctx context.Context, oldHash, newHash string, expires time.Time) (*register.User, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var id, userID int64
	var family, exp string
	var rotated, revoked sql.NullString
	err = tx.QueryRow(`SELECT id, family, user_id, expires_at, rotated_at, revoked_at FROM sessions WHERE token_hash = ?`, oldHash).
		Scan(&id, &family, &userID, &exp, &rotated, &revoked)
	if err == sql.ErrNoRows {
		return nil, invalidRefresh()
	} else if err != nil {
		return nil, err
	}
	if rotated.Valid && !revoked.Valid {
		// A rotated token came back: someone holds a copy. End the family.
		if _, err := tx.Exec(`UPDATE sessions SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL`, formatTime(tx.now), family); err != nil {
			return nil, err
		}
		if err := tx.audit("session.reuse_detected", "session", family, nil, map[string]any{"user_id": userID}); err != nil {
			return nil, err
		}
		if err := tx.Commit(); err != nil {
			return nil, err
		}
		return nil, invalidRefresh()
	}
	if revoked.Valid || rotated.Valid || exp <= formatTime(tx.now) {
		return nil, invalidRefresh()
	}
	u, err := scanUser(tx.QueryRow(`SELECT `+userColumns+` FROM users WHERE id = ?`, userID))
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, invalidRefresh()
	}
	if _, err := tx.Exec(`UPDATE sessions SET rotated_at = ? WHERE id = ?`, formatTime(tx.now), id); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(`INSERT INTO sessions (family, user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		family, userID, newHash, formatTime(tx.now), formatTime(expires)); err != nil {
		return nil, err
	}
	if err := tx.audit("session.rotate", "session", family, nil, map[string]any{"user_id": userID}); err != nil {
		return nil, err
	}
	return u, tx.Commit()
}

// RevokeSession ends the family of a refresh token.
func (s *UserService) RevokeSession(ctx context.Context, tokenHash string) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var family string
	var userID int64
	err = tx.QueryRow(`SELECT family, user_id FROM sessions WHERE token_hash = ?`, tokenHash).Scan(&family, &userID)
	if err == sql.ErrNoRows {
		return nil
	} else if err != nil {
		return err
	}
	if _, err := tx.Exec(`UPDATE sessions SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL`, formatTime(tx.now), family); err != nil {
		return err
	}
	if err := tx.audit("session.revoke", "session", family, nil, map[string]any{"user_id": userID}); err != nil {
		return err
	}
	return tx.Commit()
}

// RecordLogin audits a login attempt, successful or not. The email is kept
// only for failures against unknown accounts, where there is no user id.
func (s *UserService) RecordLogin(ctx context.Context, email string, userID int64, ok bool, addr string) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	tx.actor.Addr = addr
	action, id := "login.fail", "unknown"
	if ok {
		action = "login.ok"
	}
	if userID != 0 {
		id = strconv.FormatInt(userID, 10)
	}
	if err := tx.audit(action, "user", id, nil, map[string]any{"email": email}); err != nil {
		return err
	}
	return tx.Commit()
}
