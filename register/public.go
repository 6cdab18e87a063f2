package register

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// PublicRecord is what anyone may see about a registrant. It is its own type
// so that a private field can never reach a public answer by accident.
type PublicRecord struct {
	Number          string                  `json:"register_number"`
	FamilyName      string                  `json:"family_name"`
	GivenNames      string                  `json:"given_names"`
	Status          Status                  `json:"status"`
	Summary         string                  `json:"summary"`
	AuthorisedRoles []string                `json:"authorised_roles"`
	Qualifications  []QualificationStanding `json:"qualifications"`
	Conditions      []PublicCondition       `json:"conditions"`
	Sanctions       []PublicSanction        `json:"sanctions"`
	InterimOrder    *PublicInterimOrder     `json:"interim_order"`
	RegisteredUntil *Date                   `json:"registered_until"`
}

// PublicCondition is a condition of practice in force, as published.
type PublicCondition struct {
	Code    ConditionCode `json:"code"`
	Text    string        `json:"text"`
	Interim bool          `json:"interim"`
	From    time.Time     `json:"from"`
	Until   *time.Time    `json:"until"`
}

// PublicSanction is a final sanction while it is published: a warning for
// its months; conditions, a suspension or a removal while in force.
type PublicSanction struct {
	Kind          OrderKind  `json:"kind"`
	From          time.Time  `json:"from"`
	Until         *time.Time `json:"until"`
	PublicSummary string     `json:"public_summary"`
}

// PublicInterimOrder says that an interim order is in force, and which.
type PublicInterimOrder struct {
	Kind  OrderKind  `json:"kind"`
	From  time.Time  `json:"from"`
	Until *time.Time `json:"until"`
}

// NewPublicRecord builds the public view of a registrant's standing.
func NewPublicRecord(r *Registrant, s *Standing) *PublicRecord {
	p := &PublicRecord{
		Number:          r.Number,
		FamilyName:      r.FamilyName,
		GivenNames:      r.GivenNames,
		Status:          s.Status,
		Summary:         Summary(s),
		AuthorisedRoles: s.AuthorisedRoles,
		Qualifications:  s.Qualifications,
		Conditions:      s.Conditions,
		Sanctions:       s.Sanctions,
		InterimOrder:    s.InterimOrder,
	}
	if !s.RegisteredUntil.IsZero() {
		d := s.RegisteredUntil
		p.RegisteredUntil = &d
	}
	return p
}

// Summary says in words what the standing allows.
func Summary(s *Standing) string {
	if s.Status == StatusRegistered && len(s.AuthorisedRoles) > 0 && len(s.Conditions) > 0 {
		return summary(s) + " Conditions of practice apply."
	}
	return summary(s)
}

func summary(s *Standing) string {
	switch s.Status {
	case StatusRegistered:
		switch len(s.AuthorisedRoles) {
		case 2:
			return "Registered: may practise as a Probation Officer or Probation Services Officer."
		case 1:
			return "Registered: may practise as a Probation Services Officer."
		}
		return "Registered, but holds no verified qualification: may not practise."
	case StatusSuspended:
		if s.InterimOrder != nil && s.InterimOrder.Kind == OrderInterimSuspension {
			return "Suspended by an interim order: may not practise."
		}
		return "Suspended: may not practise."
	case StatusLapsed:
		return "Registration lapsed: may not practise."
	case StatusRemoved:
		return "Removed from the register: may not practise."
	}
	return "Not on the register at this time: may not practise."
}

// PublicAnswer is a public record already encoded, with the instant it describes.
type PublicAnswer struct {
	Body []byte // JSON object of a PublicRecord
	AsAt time.Time
}

// MarshalPublic encodes a public record for storage and serving.
func MarshalPublic(p *PublicRecord) ([]byte, error) { return json.Marshal(p) }

// AppendJSON writes the answer as one JSON object, with as_at and checked_at
// first, without decoding the stored body.
func (a *PublicAnswer) AppendJSON(dst []byte, checkedAt time.Time) []byte {
	dst = append(dst, `{"as_at":"`...)
	dst = a.AsAt.UTC().AppendFormat(dst, time.RFC3339)
	dst = append(dst, `","checked_at":"`...)
	dst = checkedAt.UTC().AppendFormat(dst, time.RFC3339)
	dst = append(dst, `",`...)
	return append(dst, a.Body[1:]...)
}

// PublicService answers public questions about the register.
type PublicService interface {
	// PublicRecord returns the public answer for a register number now
	// (at nil) or at an instant. ENOTFOUND if the number is unknown or the
	// registrant has never been admitted.
	PublicRecord(ctx context.Context, number string, at *time.Time) (*PublicAnswer, error)
	// SearchPublic finds registrants on the register by a prefix of any word
	// of their names (previous names included), at most limit.
	SearchPublic(ctx context.Context, name string, limit int) ([]*PublicAnswer, error)
}

// AuditService checks the audit chain.
type AuditService interface {
	// VerifyAudit walks the chain and returns how many entries it checked,
	// and an error naming the first broken entry, if any.
	VerifyAudit(ctx context.Context) (int, error)
}

// FormatID is the API's form of an internal id.
func FormatID(id int64) string { return strconv.FormatInt(id, 10) }
