package register

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// CPDCategory says how an activity was learned.
type CPDCategory string

// CPD categories.
const (
	CPDParticipatory CPDCategory = "participatory" // learning with others
	CPDSelfDirected  CPDCategory = "self_directed"
)

// Valid reports whether c is a known category.
func (c CPDCategory) Valid() bool { return c == CPDParticipatory || c == CPDSelfDirected }

// Hours is a length of time in quarter hours. CPD is counted in whole
// quarters so that sums are exact: adding floats would drift.
type Hours int

// Limits of one CPD activity.
const (
	MinActivityHours Hours = 1      // a quarter of an hour
	MaxActivityHours Hours = 24 * 4 // a day
)

// HoursOf converts decimal hours to quarters; false unless h is a whole
// number of quarter hours. Quarters are exact in binary, so h*4 is exact.
func HoursOf(h float64) (Hours, bool) {
	q := h * 4
	if math.IsNaN(q) || math.IsInf(q, 0) || q != math.Trunc(q) || math.Abs(q) > 1e9 {
		return 0, false
	}
	return Hours(q), true
}

// WholeHours is n hours.
func WholeHours(n int) Hours { return Hours(n * 4) }

// String formats the hours as a decimal: 7 quarters is "1.75".
func (h Hours) String() string { return strconv.FormatFloat(float64(h)/4, 'f', -1, 64) }

// MarshalJSON writes the hours as a JSON number of hours.
func (h Hours) MarshalJSON() ([]byte, error) { return []byte(h.String()), nil }

// CPDActivity is one piece of continuing professional development logged
// by a registrant. The reflection is private to the registrant and the
// regulator: it never appears in a public answer or a log line.
type CPDActivity struct {
	ID          int64       `json:"id"`
	Date        Date        `json:"date"`
	Title       string      `json:"title"`
	Category    CPDCategory `json:"category"`
	Hours       Hours       `json:"hours"`
	Reflection  string      `json:"reflection"`
	EvidenceRef string      `json:"evidence_ref"`
	// Locked is true once the entry belongs to a submitted renewal or falls
	// in the year of an open CPD audit: it can then be neither edited nor deleted.
	Locked  bool      `json:"locked"`
	Created time.Time `json:"created_at"`
	Updated time.Time `json:"updated_at"`
}

// Limits of a CPD activity's text.
const (
	MaxCPDTitle      = 200
	MinCPDTitle      = 3
	MaxCPDReflection = 10_000
	MaxEvidenceRef   = 200
)

// Validate checks an activity as at today for a registrant first admitted
// on firstAdmitted (zero if never admitted).
func (a *CPDActivity) Validate(today, firstAdmitted Date) error {
	v := Validation{}
	switch {
	case a.Date.IsZero():
		v.Add("date", "is required")
	case a.Date.After(today):
		v.Add("date", "must not be in the future")
	case firstAdmitted.IsZero():
		v.Add("date", "cannot be logged before you are admitted to the register")
	case a.Date.Before(firstAdmitted):
		v.Add("date", "must not be before your first admission on "+firstAdmitted.String())
	}
	title := strings.TrimSpace(a.Title)
	switch n := utf8.RuneCountInString(title); {
	case n < MinCPDTitle:
		v.Add("title", "must be at least 3 characters")
	case n > MaxCPDTitle:
		v.Add("title", "must be at most 200 characters")
	case strings.IndexFunc(a.Title, unicode.IsControl) >= 0:
		v.Add("title", "has characters that are not allowed")
	}
	if !a.Category.Valid() {
		v.Add("category", "must be one of participatory, self_directed")
	}
	if a.Hours < MinActivityHours || a.Hours > MaxActivityHours {
		v.Add("hours", "must be between 0.25 and 24 in quarter hours")
	}
	if utf8.RuneCountInString(a.Reflection) > MaxCPDReflection {
		v.Add("reflection", "must be at most 10000 characters")
	}
	if utf8.RuneCountInString(a.EvidenceRef) > MaxEvidenceRef {
		v.Add("evidence_ref", "must be at most 200 characters")
	} else if strings.IndexFunc(a.EvidenceRef, unicode.IsControl) >= 0 {
		v.Add("evidence_ref", "has characters that are not allowed")
	}
	return v.Err()
}

// CPDUpdate holds the changes a registrant may make to an unlocked entry.
type CPDUpdate struct {
	Date        *Date
	Title       *string
	Category    *CPDCategory
	Hours       *Hours
	Reflection  *string
	EvidenceRef *string
}

// Apply changes a in place.
func (u CPDUpdate) Apply(a *CPDActivity) {
	if u.Date != nil {
		a.Date = *u.Date
	}
	if u.Title != nil {
		a.Title = *u.Title
	}
	if u.Category != nil {
		a.Category = *u.Category
	}
	if u.Hours != nil {
		a.Hours = *u.Hours
	}
	if u.Reflection != nil {
		a.Reflection = *u.Reflection
	}
	if u.EvidenceRef != nil {
		a.EvidenceRef = *u.EvidenceRef
	}
}

// CPDFilter selects a registrant's activities: dated From to To inclusive
// (either may be zero), in id order after the cursor After.
type CPDFilter struct {
	From, To Date
	Limit    int
	After    int64
}

// Cycle is one registration year: the year ending at a registered_until
// date, both ends included.
type Cycle struct {
	Start Date `json:"cycle_start"`
	End   Date `json:"cycle_end"`
}

// CycleEnding is the registration year that ends on end. It starts the day
// after the same date a year before, computed from the day after end so that
// a year ending on 29 February starts on 1 March.
func CycleEnding(end Date) Cycle {
	return Cycle{Start: end.AddDate(0, 0, 1).AddDate(-1, 0, 0), End: end}
}

// Contains reports whether d falls in the cycle.
func (c Cycle) Contains(d Date) bool { return !d.Before(c.Start) && !d.After(c.End) }

// Next is the registered_until a renewal of this year moves to: the end of
// the following year, so that years follow one another without a gap.
func (c Cycle) Next() Date { return c.End.AddDate(0, 0, 1).AddDate(1, 0, -1) }

// Requirement is the CPD a registrant must log in each registration year.
type Requirement struct {
	Hours         Hours
	Participatory Hours
}

// DefaultRequirement is 30 hours a year, of which 10 participatory.
var DefaultRequirement = Requirement{Hours: WholeHours(30), Participatory: WholeHours(10)}

// Validate checks a configured requirement.
func (r Requirement) Validate() error {
	v := Validation{}
	if r.Hours < 0 || r.Hours > WholeHours(1000) {
		v.Add("required_hours", "must be between 0 and 1000")
	}
	if r.Participatory < 0 || r.Participatory > r.Hours {
		v.Add("required_participatory_hours", "must be between 0 and required_hours")
	}
	return v.Err()
}

// CPDSummary is a registrant's progress against the requirement in one
// registration year.
type CPDSummary struct {
	Cycle
	Hours                      Hours `json:"hours"`
	ParticipatoryHours         Hours `json:"participatory_hours"`
	RequiredHours              Hours `json:"required_hours"`
	RequiredParticipatoryHours Hours `json:"required_participatory_hours"`
	Compliant                  bool  `json:"compliant"`
	// RemainingHours and RemainingParticipatoryHours are still to log, by DueBy.
	RemainingHours              Hours `json:"remaining_hours"`
	RemainingParticipatoryHours Hours `json:"remaining_participatory_hours"`
	DueBy                       Date  `json:"due_by"`
	// DaysLeft counts the days from today to DueBy inclusive; 0 once past.
	DaysLeft int `json:"days_left"`
}

// Summarise totals the activities dated in the cycle against the requirement.
func (r Requirement) Summarise(c Cycle, activities []*CPDActivity, today Date) *CPDSummary {
	s := &CPDSummary{Cycle: c, RequiredHours: r.Hours, RequiredParticipatoryHours: r.Participatory, DueBy: c.End}
	for _, a := range activities {
		if !c.Contains(a.Date) {
			continue
		}
		s.Hours += a.Hours
		if a.Category == CPDParticipatory {
			s.ParticipatoryHours += a.Hours
		}
	}
	s.RemainingHours = max(0, r.Hours-s.Hours)
	s.RemainingParticipatoryHours = max(0, r.Participatory-s.ParticipatoryHours)
	s.Compliant = s.RemainingHours == 0 && s.RemainingParticipatoryHours == 0
	if !today.After(c.End) {
		s.DaysLeft = int(c.End.Start().Sub(today.Start())/(24*time.Hour)) + 1
	}
	return s
}

// CPDService keeps registrants' CPD logs. Methods taking registrantID act
// for the signed-in registrant, whose id comes from their user record.
type CPDService interface {
	// CreateCPD logs an activity. EINVALID for bad fields.
	CreateCPD(ctx context.Context, registrantID int64, a *CPDActivity) error
	// FindCPD returns one of the registrant's activities. ENOTFOUND if it
	// does not exist or belongs to someone else.
	FindCPD(ctx context.Context, registrantID, id int64) (*CPDActivity, error)
	// FindCPDs lists the registrant's activities; the second result is the
	// cursor of the next page, 0 when there is none.
	FindCPDs(ctx context.Context, registrantID int64, f CPDFilter) ([]*CPDActivity, int64, error)
	// UpdateCPD changes an activity. ENOTFOUND, EINVALID, ECONFLICT if locked.
	UpdateCPD(ctx context.Context, registrantID, id int64, upd CPDUpdate) (*CPDActivity, error)
	// DeleteCPD removes an activity. ENOTFOUND, ECONFLICT if locked.
	DeleteCPD(ctx context.Context, registrantID, id int64) error
	// SummariseCPD totals the registration year ending at cycleEnd, or the
	// current one when cycleEnd is zero. ECONFLICT if never admitted.
	SummariseCPD(ctx context.Context, registrantID int64, cycleEnd Date) (*CPDSummary, error)
	// RegistrantCPD lists any registrant's activities for the regulator. ENOTFOUND.
	RegistrantCPD(ctx context.Context, number string, f CPDFilter) ([]*CPDActivity, int64, error)
}
