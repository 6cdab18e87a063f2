package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/probation-register/register/register"
)

// AccountService issues activation codes and creates registrants' own accounts.
type AccountService struct{ db *DB }

// NewAccountService returns the registrant account store.
func NewAccountService(db *DB) *AccountService { return &AccountService{db: db} }

var _ register.AccountService = (*AccountService)(nil)

// IssueActivation stores a new code's hash, valid for register.ActivationTTL.
func (s *AccountService) IssueActivation(ctx context.Context, number, codeHash string) (expires time.Time, err error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return expires, err
	}
	defer tx.Rollback()
	r, err := findRegistrant(tx, number)
	if err != nil {
		return expires, err
	}
	if err := checkNoAccount(tx, r); err != nil {
		return expires, err
	}
	// A new code replaces any earlier one, so only the latest code handed out works.
	if _, err := tx.Exec(`UPDATE activation_codes SET withdrawn_at = ? WHERE registrant_id = ? AND used_at IS NULL AND withdrawn_at IS NULL`,
		formatTime(tx.now), r.ID); err != nil {
		return expires, err
	}
	expires = tx.now.Add(register.ActivationTTL)
	res, err := tx.Exec(`INSERT INTO activation_codes (registrant_id, code_hash, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		r.ID, codeHash, formatTime(tx.now), formatTime(expires))
	if err != nil {
		return expires, FormatError(err)
	}
	id, _ := res.LastInsertId()
	if err := tx.audit("account.issue_activation", "activation_code", strconv.FormatInt(id, 10), nil,
		map[string]any{"register_number": r.Number, "expires_at": expires}); err != nil {
		return expires, err
	}
	return expires, tx.Commit()
}

// checkNoAccount refuses a second account for a registrant, and an account
// whose email another user already signs in with.
func checkNoAccount(tx *Tx, r *register.Registrant) error {
	var linked, sameEmail int
	if err := tx.QueryRow(`SELECT COUNT(*) FILTER (WHERE registrant_id = ?), COUNT(*) FILTER (WHERE email = ?) FROM users
		WHERE registrant_id = ? OR email = ?`, r.ID, r.Email, r.ID, r.Email).Scan(&linked, &sameEmail); err != nil {
		return err
	}
	if linked > 0 {
		return register.Errorf(register.ECONFLICT, "Registrant %s already has an account.", r.Number)
	}
	if sameEmail > 0 {
		return register.Errorf(register.ECONFLICT, "Another user already signs in with registrant %s's email address; change one of them first.", r.Number)
	}
	return nil
}

// usableCode finds the registrant a code belongs to, if the code is neither
// used, withdrawn nor expired.
func usableCode(tx *Tx, codeHash string) (codeID int64, r *register.Registrant, err error) {
	var registrantID int64
	var expires string
	var used, withdrawn sql.NullString
	err = tx.QueryRow(`SELECT id, registrant_id, expires_at, used_at, withdrawn_at FROM activation_codes WHERE code_hash = ?`, codeHash).
		Scan(&codeID, &registrantID, &expires, &used, &withdrawn)
	if err == sql.ErrNoRows {
		return 0, nil, register.ErrActivationCode()
	} else if err != nil {
		return 0, nil, err
	}
	if used.Valid || withdrawn.Valid || expires <= formatTime(tx.now) {
		return 0, nil, register.ErrActivationCode()
	}
	r, err = scanRegistrant(tx.QueryRow(`SELECT `+registrantColumns+` FROM registrants r WHERE r.id = ?`, registrantID))
	return codeID, r, err
}

// ActivationEmail returns the email of the account a usable code will create.
func (s *AccountService) ActivationEmail(ctx context.Context, codeHash string) (string, error) {
	tx, err := s.db.ReadTx(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	_, r, err := usableCode(tx, codeHash)
	if err != nil {
		return "", err
	}
	return r.Email, nil
}

// Activate uses the code, once, and creates the registrant's account.
func (s *AccountService) Activate(ctx context.Context, codeHash, passwordHash string) (*register.User, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	codeID, r, err := usableCode(tx, codeHash)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(`UPDATE activation_codes SET used_at = ? WHERE id = ?`, formatTime(tx.now), codeID); err != nil {
		return nil, err
	}
	u, err := createAccount(tx, r, passwordHash)
	if err != nil {
		return nil, err
	}
	if err := tx.audit("account.activate", "activation_code", strconv.FormatInt(codeID, 10), nil,
		map[string]any{"register_number": r.Number, "user_id": u.ID}); err != nil {
		return nil, err
	}
	return u, tx.Commit()
}

// CreateAccount gives the registrant an account with an already hashed
// password, without an activation code: for demo data and operators.
// ENOTFOUND; ECONFLICT as for IssueActivation.
func (s *AccountService) CreateAccount(ctx context.Context, number, passwordHash string) (*register.User, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	r, err := findRegistrant(tx, number)
	if err != nil {
		return nil, err
	}
	u, err := createAccount(tx, r, passwordHash)
	if err != nil {
		return nil, err
	}
	return u, tx.Commit()
}

func createAccount(tx *Tx, r *register.Registrant, passwordHash string) (*register.User, error) {
	if err := checkNoAccount(tx, r); err != nil {
		return nil, err
	}
	u := &register.User{Email: r.Email, Role: register.RoleRegistrant, RegistrantID: r.ID}
	if err := createUser(tx, u, passwordHash); err != nil {
		return nil, err
	}
	return u, tx.audit("account.create", "user", strconv.FormatInt(u.ID, 10), nil,
		map[string]any{"register_number": r.Number, "user_id": u.ID})
}
