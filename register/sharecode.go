package register

import (
	"context"
	"time"
)

// ShareCodeAlphabet has no characters that read alike (0/O, 1/I/L).
const ShareCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// ShareCodeLength is the number of characters in a share code.
const ShareCodeLength = 9

// ShareCode is a registrant's code as listed: the secret itself is shown
// only when issued (Code), and kept hashed.
type ShareCode struct {
	ID      int64      `json:"id"`
	Code    string     `json:"code,omitempty"`
	Hint    string     `json:"hint"`
	Created time.Time  `json:"created_at"`
	Expires time.Time  `json:"expires_at"`
	Revoked *time.Time `json:"revoked_at"`
}

// SharedEngagement is an engagement as a share-code holder sees it.
type SharedEngagement struct {
	Organisation string         `json:"organisation"`
	Role         string         `json:"role"`
	Type         EngagementType `json:"type"`
	From         Date           `json:"from"`
	Until        *Date          `json:"until"`
}

// SharedQualification is a qualification's detail for a share-code holder.
type SharedQualification struct {
	Level        int                `json:"level"`
	Title        string             `json:"title"`
	AwardingBody string             `json:"awarding_body"`
	AwardedOn    *Date              `json:"awarded_on"`
	State        QualificationState `json:"state"`
}

// SharedView is the fuller view a share code shows: the public record, the
// qualifications' detail, CPD compliance for this and last registration
// year (totals only, never reflections) and engagements.
type SharedView struct {
	Record         *PublicRecord         `json:"record"`
	Qualifications []SharedQualification `json:"qualifications"`
	CPD            []*CPDSummary         `json:"cpd"`
	Engagements    []SharedEngagement    `json:"engagements"`
}

// ShareCodeService issues share codes and answers them.
type ShareCodeService interface {
	// CreateShareCode stores a code (by its hash) valid for days days.
	CreateShareCode(ctx context.Context, registrantID int64, hash, hint string, days int) (*ShareCode, error)
	// FindShareCodes lists a registrant's codes, newest first.
	FindShareCodes(ctx context.Context, registrantID int64) ([]*ShareCode, error)
	// RevokeShareCode revokes one of the registrant's codes. ENOTFOUND.
	RevokeShareCode(ctx context.Context, registrantID, id int64) (*ShareCode, error)
	// UseShareCode answers a code whose holder knows the family name, and
	// logs the use. ENOTFOUND for an unknown, expired or revoked code or a
	// wrong name, alike.
	UseShareCode(ctx context.Context, hash, familyName string) (*SharedView, error)
}
