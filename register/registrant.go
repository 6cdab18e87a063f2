package register

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Registrant is a person known to the register: an applicant until admitted.
type Registrant struct {
	ID            int64     `json:"-"`
	Number        string    `json:"register_number"`
	FamilyName    string    `json:"family_name"`
	GivenNames    string    `json:"given_names"`
	PreviousNames []string  `json:"previous_names"`
	DateOfBirth   Date      `json:"date_of_birth"`
	Email         string    `json:"email"`
	Created       time.Time `json:"created_at"`
	Updated       time.Time `json:"updated_at"`

	// Filled by FindRegistrant: the current standing and qualifications.
	Standing       *Standing        `json:"registration,omitempty"`
	Qualifications []*Qualification `json:"qualifications,omitempty"`
}

// FullName is given names then family name.
func (r *Registrant) FullName() string { return r.GivenNames + " " + r.FamilyName }

// Validate checks a registrant's own fields as at today.
func (r *Registrant) Validate(today Date) error {
	v := Validation{}
	checkName(v, "family_name", r.FamilyName, 100)
	checkName(v, "given_names", r.GivenNames, 200)
	for _, p := range r.PreviousNames {
		checkName(v, "previous_names", p, 300)
	}
	if len(r.PreviousNames) > 20 {
		v.Add("previous_names", "must have at most 20 entries")
	}
	if r.DateOfBirth.IsZero() {
		v.Add("date_of_birth", "is required")
	} else if r.DateOfBirth.After(today.AddDate(-16, 0, 0)) {
		v.Add("date_of_birth", "must be at least 16 years ago")
	} else if r.DateOfBirth.Before(today.AddDate(-100, 0, 0)) {
		v.Add("date_of_birth", "must be within the last 100 years")
	}
	if !validEmail(r.Email) {
		v.Add("email", "must be an email address")
	}
	return v.Err()
}

func checkName(v Validation, field, s string, max int) {
	n := utf8.RuneCountInString(s)
	switch {
	case strings.TrimSpace(s) == "":
		v.Add(field, "is required")
	case n > max:
		v.Add(field, "is too long")
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.Add(field, "has characters that are not allowed")
	}
}

func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && len(s) <= 254 && !strings.ContainsAny(s, " \t\r\n<>") &&
		strings.Contains(s[at:], ".")
}

// RegistrantUpdate holds the changes a registrar may make. A change of name
// keeps the old full name in PreviousNames.
type RegistrantUpdate struct {
	FamilyName  *string
	GivenNames  *string
	DateOfBirth *Date
	Email       *string
}

// Apply changes r in place.
func (u RegistrantUpdate) Apply(r *Registrant) {
	old := r.FullName()
	if u.FamilyName != nil {
		r.FamilyName = *u.FamilyName
	}
	if u.GivenNames != nil {
		r.GivenNames = *u.GivenNames
	}
	if r.FullName() != old {
		r.PreviousNames = append(r.PreviousNames, old)
	}
	if u.DateOfBirth != nil {
		r.DateOfBirth = *u.DateOfBirth
	}
	if u.Email != nil {
		r.Email = *u.Email
	}
}

// RegistrantFilter selects registrants for the registrar's list.
type RegistrantFilter struct {
	Name   string // prefix of any word of any name
	Status Status // a current status, or StatusApplicant
	Limit  int
	After  int64 // cursor: the internal id of the last row seen
}

// RegistrantService keeps registrants and their qualifications.
type RegistrantService interface {
	// CreateRegistrant adds an applicant and assigns a register number. EINVALID.
	CreateRegistrant(ctx context.Context, r *Registrant) error
	// FindRegistrant returns the full record with standing and qualifications. ENOTFOUND.
	FindRegistrant(ctx context.Context, number string) (*Registrant, error)
	// FindRegistrants lists registrants in internal id order; the second
	// result is the cursor for the next page, 0 when there is none.
	FindRegistrants(ctx context.Context, filter RegistrantFilter) ([]*Registrant, int64, error)
	// UpdateRegistrant changes a registrant. ENOTFOUND, EINVALID.
	UpdateRegistrant(ctx context.Context, number string, upd RegistrantUpdate) (*Registrant, error)
	// AddQualification records a qualification. ENOTFOUND, EINVALID.
	AddQualification(ctx context.Context, number string, q *Qualification) error
	// VerifyQualification marks a qualification verified by the acting user.
	// ENOTFOUND, ECONFLICT if already verified.
	VerifyQualification(ctx context.Context, number string, id int64) (*Qualification, error)
}
