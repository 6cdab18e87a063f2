package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/probation-register/register/register"
)

// Web sessions are the signed-in browsers of the HTML pages. They belong
// with the other sessions of an account, so UserService keeps them.

// CreateWebSession stores a browser session by the hash of its cookie
// value, with the CSRF token its forms must echo. Sessions that have
// expired are deleted in the same transaction, so the table holds only
// live ones and as many as were signed in within one lifetime.
func (s *UserService) CreateWebSession(ctx context.Context, tokenHash string, userID int64, csrf string, expires time.Time) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.Exec(`DELETE FROM web_sessions WHERE expires_at <= ?`, formatTime(tx.now))
	if err != nil {
		return err
	}
	purged, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO web_sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		tokenHash, userID, csrf, formatTime(tx.now), formatTime(expires)); err != nil {
		return FormatError(err)
	}
	if err := tx.audit("web_session.create", "web_session", sessionRef(tokenHash), nil,
		map[string]any{"user_id": userID, "expires_at": formatTime(expires), "expired_deleted": purged}); err != nil {
		return err
	}
	return tx.Commit()
}

// FindWebSession returns the user, CSRF token and expiry of a live browser
// session. ENOTFOUND if the hash is unknown or the session has expired.
func (s *UserService) FindWebSession(ctx context.Context, tokenHash string) (userID int64, csrf string, expires time.Time, err error) {
	var exp string
	err = s.db.reader.QueryRowContext(ctx, `SELECT user_id, csrf, expires_at FROM web_sessions WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, formatTime(s.db.now())).Scan(&userID, &csrf, &exp)
	if err == sql.ErrNoRows {
		return 0, "", time.Time{}, register.Errorf(register.ENOTFOUND, "The session has ended. Sign in again.")
	} else if err != nil {
		return 0, "", time.Time{}, err
	}
	return userID, csrf, parseTime(exp), nil
}

// DeleteWebSession ends a browser session (sign-out, or a disabled user).
// Unknown hashes are ignored, so signing out twice is harmless.
func (s *UserService) DeleteWebSession(ctx context.Context, tokenHash string) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var userID int64
	err = tx.QueryRow(`SELECT user_id FROM web_sessions WHERE token_hash = ?`, tokenHash).Scan(&userID)
	if err == sql.ErrNoRows {
		return nil
	} else if err != nil {
		return err
	}
	if _, err := tx.Exec(`DELETE FROM web_sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return err
	}
	if err := tx.audit("web_session.delete", "web_session", sessionRef(tokenHash), nil, map[string]any{"user_id": userID}); err != nil {
		return err
	}
	return tx.Commit()
}

// sessionRef names a session in the audit log by the start of its hash:
// enough to follow one session, too little to look it up.
func sessionRef(tokenHash string) string {
	if len(tokenHash) > 12 {
		return tokenHash[:12]
	}
	return tokenHash
}
