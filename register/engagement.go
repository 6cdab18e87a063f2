package register

import (
	"context"
	"slices"
	"time"
)

// EngagementType is how an organisation engages a practitioner.
type EngagementType string

// Engagement types.
const (
	EngagementEmployed   EngagementType = "employed"
	EngagementPlacement  EngagementType = "agency_placement"
	EngagementSecondment EngagementType = "secondment"
)

// Engagement records that an organisation engages a registrant in a role.
type Engagement struct {
	ID             int64          `json:"id"`
	OrganisationID int64          `json:"-"`
	Number         string         `json:"register_number"`
	Role           string         `json:"role"`
	Type           EngagementType `json:"type"`
	From           Date           `json:"from"`
	Until          *Date          `json:"until"`
	Ended          *time.Time     `json:"ended_at"`
	Created        time.Time      `json:"created_at"`
}

// Validate checks a new engagement's fields.
func (e *Engagement) Validate() error {
	v := Validation{}
	if n, err := ParseNumber(e.Number); err != nil {
		v.Add("register_number", "must be a register number")
	} else {
		e.Number = n
	}
	if e.Role != PracticePSO && e.Role != PracticePO {
		v.Add("role", "must be PSO or PO")
	}
	if !slices.Contains([]EngagementType{EngagementEmployed, EngagementPlacement, EngagementSecondment}, e.Type) {
		v.Add("type", "must be employed, agency_placement or secondment")
	}
	if e.From.IsZero() {
		v.Add("from", "is required")
	}
	if e.Until != nil && !e.From.IsZero() && e.Until.Before(e.From) {
		v.Add("until", "must not be before from")
	}
	return v.Err()
}

// AuthorisedOn returns why a standing does not allow a role, or "" if it does.
func AuthorisedOn(s *Standing, role string) string {
	if slices.Contains(s.AuthorisedRoles, role) {
		return ""
	}
	if s.Status != StatusRegistered {
		return Summary(s)
	}
	return "Not authorised to practise as " + role + ": " + Summary(s)
}

// EngagementService keeps organisations' engagements, always scoped by organisation.
type EngagementService interface {
	// CreateEngagement records an engagement. EINVALID for bad fields;
	// EUNPROCESSABLE if the registrant may not practise in the role on From.
	CreateEngagement(ctx context.Context, orgID int64, e *Engagement) error
	// FindEngagements lists the organisation's engagements in id order.
	FindEngagements(ctx context.Context, orgID int64) ([]*Engagement, error)
	// FindEngagement returns one of the organisation's engagements. ENOTFOUND.
	FindEngagement(ctx context.Context, orgID, id int64) (*Engagement, error)
	// EndEngagement ends an engagement on a date. ENOTFOUND; EINVALID.
	EndEngagement(ctx context.Context, orgID, id int64, until Date) (*Engagement, error)
}

// ReferralService lets an organisation open a fitness-to-practise case.
type ReferralService interface {
	// CreateReferral opens a referral case (source employer) about someone
	// the organisation engages or has engaged. EUNPROCESSABLE otherwise.
	CreateReferral(ctx context.Context, orgID int64, c *Case) error
}
