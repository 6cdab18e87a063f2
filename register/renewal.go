package register

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// RenewalWindowDays is how long before registered_until a registrant may
// ask to renew.
const RenewalWindowDays = 60

// RenewalState is where a renewal request stands.
type RenewalState string

// Renewal states.
const (
	RenewalPending  RenewalState = "pending"
	RenewalApproved RenewalState = "approved"
	RenewalRefused  RenewalState = "refused"
)

// Valid reports whether s is a known state.
func (s RenewalState) Valid() bool {
	return s == RenewalPending || s == RenewalApproved || s == RenewalRefused
}

// Why a renewal waits for a registrar instead of being approved automatically.
const (
	ReviewCPDNotCompliant = "cpd_not_compliant"
	ReviewCPDAudit        = "cpd_audit"
	ReviewOpenCase        = "open_case"
)

// Renewal is a registrant's request to renew for another year, with the
// CPD totals as they stood when it was made.
type Renewal struct {
	ID                       int64        `json:"id"`
	Number                   string       `json:"register_number"`
	State                    RenewalState `json:"state"`
	CPDDeclaration           bool         `json:"cpd_declaration"`
	GoodCharacterDeclaration bool         `json:"good_character_declaration"`
	Cycle
	Hours              Hours `json:"hours"`
	ParticipatoryHours Hours `json:"participatory_hours"`
	Compliant          bool  `json:"compliant"`
	// Review lists why the request waits for a registrar; empty when it
	// was approved automatically.
	Review    []string `json:"review_reasons"`
	Automatic bool     `json:"automatic"`
	// RegisteredUntil is the new renewal date, once approved.
	RegisteredUntil Date       `json:"registered_until"`
	Reason          string     `json:"reason"`
	Submitted       time.Time  `json:"submitted_at"`
	Decided         *time.Time `json:"decided_at"`
}

// CheckRenewalRequest decides whether a registrant with standing s may ask
// to renew today: only while registered, and only in the window before
// registered_until. ECONFLICT otherwise.
func CheckRenewalRequest(s *Standing, today Date) error {
	switch s.Status {
	case StatusRegistered:
	case StatusNotRegistered:
		return Errorf(ECONFLICT, "Cannot renew: not yet admitted to the register.")
	case StatusLapsed:
		return Errorf(ECONFLICT, "Cannot renew: the registration lapsed on %s. Ask the registrar about restoration.", s.RegisteredUntil.AddDate(0, 0, 1))
	default:
		return Errorf(ECONFLICT, "Cannot renew a registration that is %s.", s.Status)
	}
	if opens := RenewalWindowOpens(s.RegisteredUntil); today.Before(opens) {
		return Errorf(ECONFLICT, "Too early to renew: the renewal window opens on %s, %d days before registered_until %s.",
			opens, RenewalWindowDays, s.RegisteredUntil)
	}
	return nil
}

// RenewalDeclaration is what a registrant declares when asking to renew.
type RenewalDeclaration struct {
	CPD           bool
	GoodCharacter bool
}

// Validate requires both declarations to be made.
func (d RenewalDeclaration) Validate() error {
	v := Validation{}
	if !d.CPD {
		v.Add("cpd_declaration", "must be true: declare that your CPD meets the requirement")
	}
	if !d.GoodCharacter {
		v.Add("good_character_declaration", "must be true: declare your good character")
	}
	return v.Err()
}

// RenewalWindowOpens is the first day a registration ending on until may be renewed.
func RenewalWindowOpens(until Date) Date { return until.AddDate(0, 0, -RenewalWindowDays) }

// RenewalFilter selects renewals for the registrar.
type RenewalFilter struct {
	State RenewalState // "" for every state
	Limit int
	After int64
}

// RenewalService takes renewal requests and the registrar's decisions on them.
type RenewalService interface {
	// RequestRenewal records the registrant's declarations and approves the
	// renewal at once when CPD is compliant, no case is open and no CPD audit
	// is open; otherwise it waits for a registrar. ECONFLICT outside the
	// window, when not registered, when already requested for this year, or
	// when this year's CPD audit failed.
	// EINVALID unless both declarations are made.
	RequestRenewal(ctx context.Context, registrantID int64, d RenewalDeclaration) (*Renewal, error)
	// LatestRenewal returns the registrant's most recent request. ENOTFOUND.
	LatestRenewal(ctx context.Context, registrantID int64) (*Renewal, error)
	// FindRenewals lists requests in id order; the second result is the next cursor.
	FindRenewals(ctx context.Context, f RenewalFilter) ([]*Renewal, int64, error)
	// ApproveRenewal moves registered_until on one year. ENOTFOUND; ECONFLICT
	// unless pending, while a CPD audit is open, or if the registration
	// changed since the request.
	ApproveRenewal(ctx context.Context, id int64) (*Renewal, error)
	// RefuseRenewal refuses a pending request. ENOTFOUND, ECONFLICT, EINVALID.
	RefuseRenewal(ctx context.Context, id int64, reason string) (*Renewal, error)
}

// CPDAuditState is where a CPD audit stands.
type CPDAuditState string

// CPD audit states: selected and submitted are open.
const (
	AuditSelected  CPDAuditState = "selected"
	AuditSubmitted CPDAuditState = "submitted"
	AuditPassed    CPDAuditState = "passed"
	AuditFailed    CPDAuditState = "failed"
)

// Valid reports whether s is a known state.
func (s CPDAuditState) Valid() bool {
	switch s {
	case AuditSelected, AuditSubmitted, AuditPassed, AuditFailed:
		return true
	}
	return false
}

// Open reports whether the audit still awaits evidence or a decision.
func (s CPDAuditState) Open() bool { return s == AuditSelected || s == AuditSubmitted }

// CPDAudit is a check of one registrant's CPD for one registration year.
type CPDAudit struct {
	ID     int64         `json:"id"`
	Number string        `json:"register_number"`
	State  CPDAuditState `json:"state"`
	Cycle
	Seed      uint64         `json:"seed"`
	Evidence  []*CPDEvidence `json:"evidence"`
	Reason    string         `json:"reason"`
	Selected  time.Time      `json:"selected_at"`
	Submitted *time.Time     `json:"submitted_at"`
	Decided   *time.Time     `json:"decided_at"`
}

// CPDEvidence points an audited activity at the evidence for it.
type CPDEvidence struct {
	ActivityID  int64  `json:"activity_id"`
	EvidenceRef string `json:"evidence_ref"`
}

// MaxEvidenceItems bounds one audit submission.
const MaxEvidenceItems = 200

// SampleRequest asks for a CPD audit sample of the registrants whose
// renewal falls before DueBefore.
type SampleRequest struct {
	DueBefore Date
	Rate      float64
	Seed      uint64
}

// Validate checks a sampling request.
func (r SampleRequest) Validate() error {
	v := Validation{}
	if r.DueBefore.IsZero() {
		v.Add("renewals_due_before", "is required")
	}
	if !(r.Rate > 0 && r.Rate <= 1) {
		v.Add("rate", "must be more than 0 and at most 1")
	}
	return v.Err()
}

// Sample is the outcome of a sampling run.
type Sample struct {
	DueBefore Date        `json:"renewals_due_before"`
	Rate      float64     `json:"rate"`
	Seed      uint64      `json:"seed"`
	Due       int         `json:"due"`
	Size      int         `json:"size"`
	Audits    []*CPDAudit `json:"audits"`
}

// SampleSize is ceil(rate × due), at least one when anyone is due. The rate
// is taken in parts per million and the product worked in integers, so
// that 2.5% of 40 is exactly 1, not 1.0000000000000002 rounded up to 2.
func SampleSize(rate float64, due int) int {
	if due <= 0 {
		return 0
	}
	ppm := int64(math.Round(rate * 1e6))
	n := int((ppm*int64(due) + 999_999) / 1_000_000)
	return min(max(n, 1), due)
}

// DrawSample picks size of the register numbers, reproducibly: the
// candidates are sorted by number and shuffled by a PCG seeded with seed,
// so the same seed and the same candidates give the same sample. The
// result is in register-number order.
func DrawSample(numbers []string, size int, seed uint64) []string {
	c := slices.Clone(numbers)
	slices.Sort(c)
	r := rand.New(rand.NewPCG(seed, seed))
	// A partial Fisher–Yates shuffle: the first size places are the sample.
	for i := 0; i < size && i < len(c); i++ {
		j := i + r.IntN(len(c)-i)
		c[i], c[j] = c[j], c[i]
	}
	out := c[:min(size, len(c))]
	slices.Sort(out)
	return out
}

// CPDAuditFilter selects audits for the registrar.
type CPDAuditFilter struct {
	State CPDAuditState
	Limit int
	After int64
}

// CPDAuditService selects, collects and decides CPD audits.
type CPDAuditService interface {
	// SampleCPDAudits selects a reproducible sample of the registrants due
	// to renew before req.DueBefore and opens an audit for each (one that is
	// already open for the same year is kept). EINVALID.
	SampleCPDAudits(ctx context.Context, req SampleRequest) (*Sample, error)
	// FindCPDAudits lists audits in id order; the second result is the next cursor.
	FindCPDAudits(ctx context.Context, f CPDAuditFilter) ([]*CPDAudit, int64, error)
	// LatestCPDAudit returns the registrant's most recent audit. ENOTFOUND.
	LatestCPDAudit(ctx context.Context, registrantID int64) (*CPDAudit, error)
	// SubmitCPDAudit records the registrant's evidence. ENOTFOUND if no
	// audit is open, ECONFLICT once submitted, EINVALID for bad evidence.
	SubmitCPDAudit(ctx context.Context, registrantID int64, evidence []*CPDEvidence) (*CPDAudit, error)
	// PassCPDAudit passes a submitted audit. ENOTFOUND, ECONFLICT.
	PassCPDAudit(ctx context.Context, id int64, reason string) (*CPDAudit, error)
	// FailCPDAudit fails an open audit and refuses the pending renewal of
	// its year. ENOTFOUND, ECONFLICT, EINVALID without a reason.
	FailCPDAudit(ctx context.Context, id int64, reason string) (*CPDAudit, error)
}
