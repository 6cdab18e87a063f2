package register

import (
	"context"
	"time"
)

// ActivationTTL is how long a registrant's activation code stays usable.
const ActivationTTL = 7 * 24 * time.Hour

// Activation is a newly issued activation code. The code itself is shown
// once, to the registrar who issued it; the register keeps only its hash.
type Activation struct {
	Code    string    `json:"activation_code"`
	Expires time.Time `json:"expires_at"`
}

// AccountService links sign-in accounts to registrants: a registrant
// account is a user with role registrant and the registrant's email.
type AccountService interface {
	// IssueActivation stores the hash of a new single-use code for the
	// registrant, withdrawing any earlier unused one, and returns its
	// expiry. ENOTFOUND; ECONFLICT if the registrant already has an
	// account or another user has their email.
	IssueActivation(ctx context.Context, number, codeHash string) (time.Time, error)
	// ActivationEmail returns the email of the account a usable code will
	// create. EUNAUTHORIZED if the code is unknown, used or expired.
	ActivationEmail(ctx context.Context, codeHash string) (string, error)
	// Activate uses the code and creates the registrant's account with the
	// password hash. EUNAUTHORIZED as for ActivationEmail; ECONFLICT if an
	// account exists by now.
	Activate(ctx context.Context, codeHash, passwordHash string) (*User, error)
}

// ErrActivationCode is the one answer for an unknown, used or expired code,
// so that the answer does not tell which.
func ErrActivationCode() error {
	return Errorf(EUNAUTHORIZED, "The activation code is not valid: it may be mistyped, already used or expired.")
}
