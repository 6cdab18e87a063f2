package register

import (
	"context"
	"encoding/json"
	"time"
)

// CheckPurpose is why an organisation checks the register.
type CheckPurpose string

// Check purposes.
const (
	PurposePreEmployment CheckPurpose = "pre_employment"
	PurposePlacement     CheckPurpose = "placement"
	PurposePeriodic      CheckPurpose = "periodic"
)

// Valid reports whether p is a known purpose.
func (p CheckPurpose) Valid() bool {
	return p == PurposePreEmployment || p == PurposePlacement || p == PurposePeriodic
}

// MaxCheckItems bounds one bulk check.
const MaxCheckItems = 1000

// CheckItem is one person to check; FamilyName and DateOfBirth, when given,
// are compared with the record without revealing it.
type CheckItem struct {
	Number      string
	FamilyName  *string
	DateOfBirth *Date
	// Err, when set, is why the item was malformed; it is answered, not looked up.
	Err error
}

// CheckResult is the answer for one item: the public answer and whether
// the identity matched (nil when not asked), or the item's error.
type CheckResult struct {
	Number        string          `json:"register_number"`
	Result        json.RawMessage `json:"result,omitempty"`
	IdentityMatch *bool           `json:"identity_match"`
	Err           error           `json:"-"`
}

// Verification is one record of a check of someone's record: who, when,
// how and why.
type Verification struct {
	ID             int64        `json:"id"`
	Number         string       `json:"register_number"`
	OrganisationID int64        `json:"-"`
	Organisation   string       `json:"organisation"`
	Method         string       `json:"method"`
	Purpose        CheckPurpose `json:"purpose"`
	CheckedAt      time.Time    `json:"checked_at"`
	AsAt           time.Time    `json:"as_at"`
}

// CheckService answers bulk checks.
type CheckService interface {
	// Check answers every item in order as at the instant (nil: now) and
	// records one verification per item for the organisation.
	Check(ctx context.Context, orgID int64, purpose CheckPurpose, at *time.Time, items []CheckItem) ([]CheckResult, time.Time, error)
	// FindVerifications lists the checks of a registrant's record, newest
	// first, at most MaxVerifications.
	FindVerifications(ctx context.Context, registrantID int64) ([]*Verification, error)
}

// MaxVerifications bounds the "who checked me" list.
const MaxVerifications = 500
