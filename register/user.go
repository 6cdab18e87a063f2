package register

import (
	"context"
	"strconv"
	"time"
)

// Role is what a signed-in principal may do.
type Role string

// Roles, as in DESIGN.md section 1.
const (
	RoleAdmin       Role = "admin"
	RoleRegistrar   Role = "registrar"
	RolePanelMember Role = "panel_member"
	RoleEmployer    Role = "employer"
	RoleAgency      Role = "agency"
	RoleRegistrant  Role = "registrant"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleRegistrar, RolePanelMember, RoleEmployer, RoleAgency, RoleRegistrant}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if v == r {
			return true
		}
	}
	return false
}

// User is an account that can sign in.
type User struct {
	ID       int64     `json:"id"`
	Email    string    `json:"email"`
	Role     Role      `json:"role"`
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created_at"`
	Updated  time.Time `json:"updated_at"`
	// RegistrantID links a registrant's own account to their record; 0
	// for staff. Ownership is always read from here, never from a request.
	RegistrantID int64 `json:"-"`
	// OrganisationID binds an employer or agency user (or a panel member,
	// for conflicts of interest) to one organisation; 0 for none.
	OrganisationID int64 `json:"organisation_id,omitempty"`
}

// Validate checks a new user's fields.
func (u *User) Validate() error {
	v := Validation{}
	if !validEmail(u.Email) {
		v.Add("email", "must be an email address")
	}
	if !u.Role.Valid() {
		v.Add("role", "must be one of admin, registrar, panel_member, employer, agency, registrant")
	}
	return v.Err()
}

// UserUpdate holds the changes an admin may make to a user.
type UserUpdate struct {
	Role     *Role
	Disabled *bool
}

// UserFilter selects users to list.
type UserFilter struct {
	Role  Role
	Limit int
	After int64
}

// UserService manages accounts.
type UserService interface {
	// CreateUser adds a user with an already hashed password.
	// EINVALID for bad fields, ECONFLICT if the email is taken.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// FindUserByID returns a user. ENOTFOUND if there is none.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByEmail returns a user and its password hash. ENOTFOUND if none.
	FindUserByEmail(ctx context.Context, email string) (*User, string, error)
	// FindUsers lists users in id order after filter.After.
	FindUsers(ctx context.Context, filter UserFilter) ([]*User, error)
	// UpdateUser changes a user's role or disabled flag. ENOTFOUND.
	UpdateUser(ctx context.Context, id int64, upd UserUpdate) (*User, error)
}

// SessionService keeps refresh-token families: a login and its rotations.
type SessionService interface {
	// CreateSession stores a new refresh token (by its hash) for a user.
	CreateSession(ctx context.Context, userID int64, tokenHash string, expires time.Time) error
	// RotateSession swaps a refresh token for a new one in the same family
	// and returns its user. EUNAUTHORIZED if the old token is unknown,
	// expired or revoked, or the user is disabled; presenting an already
	// rotated token revokes its whole family.
	RotateSession(ctx context.Context, oldHash, newHash string, expires time.Time) (*User, error)
	// RevokeSession revokes the family of a refresh token. Unknown tokens are ignored.
	RevokeSession(ctx context.Context, tokenHash string) error
	// RecordLogin audits a login attempt.
	RecordLogin(ctx context.Context, email string, userID int64, ok bool, addr string) error
}

// Actor names who is acting, for the audit log.
type Actor struct {
	UserID int64
	Role   Role
	// Name is "user:ID", "cli" or "system".
	Name string
	Addr string
}

// UserActor is the actor for a signed-in user.
func UserActor(u *User, addr string) Actor {
	return Actor{UserID: u.ID, Role: u.Role, Name: "user:" + strconv.FormatInt(u.ID, 10), Addr: addr}
}

// SystemActor is the register acting on its own (jobs, demo data).
var SystemActor = Actor{Name: "system"}

// CLIActor is an operator at the command line.
var CLIActor = Actor{Name: "cli", Role: RoleAdmin}

type actorKey struct{}

// NewContextWithActor returns ctx carrying the acting principal.
func NewContextWithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFromContext returns the acting principal, or SystemActor.
func ActorFromContext(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return SystemActor
}
