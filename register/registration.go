package register

import (
	"context"
	"sort"
	"time"
)

// Status is a registration's status.
type Status string

// Statuses. An applicant has no registration and is not on the public register.
const (
	StatusRegistered Status = "registered"
	StatusSuspended  Status = "suspended"
	StatusLapsed     Status = "lapsed"
	StatusRemoved    Status = "removed"
	// StatusApplicant is used in filters only: known to the register, never admitted.
	StatusApplicant Status = "applicant"
	// StatusNotRegistered answers as-at questions before first admission.
	StatusNotRegistered Status = "not_registered"
)

// Valid reports whether s may be stored in a period.
func (s Status) Valid() bool {
	switch s {
	case StatusRegistered, StatusSuspended, StatusLapsed, StatusRemoved:
		return true
	}
	return false
}

// Practise roles.
const (
	PracticePSO = "PSO"
	PracticePO  = "PO"
)

// MaxRegistrationYears bounds how far ahead registered_until may be set.
const MaxRegistrationYears = 3

// Period is one dated stretch of a registration's history: [From, To).
type Period struct {
	ID              int64      `json:"-"`
	Status          Status     `json:"status"`
	From            time.Time  `json:"from"`
	To              *time.Time `json:"to"`
	RegisteredUntil Date       `json:"registered_until"`
	Reason          string     `json:"reason,omitempty"`
	// Derived marks a lapse read from dates (registered_until passed), not written.
	Derived bool `json:"derived,omitempty"`
}

// covers reports whether t falls in the period.
func (p *Period) covers(t time.Time) bool {
	return !t.Before(p.From) && (p.To == nil || t.Before(*p.To))
}

// Record is everything the register holds that decides a registrant's standing.
type Record struct {
	Registrant     *Registrant
	Qualifications []*Qualification
	// Periods are ordered by From. They may overlap: a suspension or removal
	// laid by a panel decision lies over the registration it interrupts.
	Periods []*Period
	// Orders are the fitness-to-practise orders laid on the registration, ordered by From.
	Orders []*Order
}

// QualificationStanding is a qualification as the register shows it at an instant.
type QualificationStanding struct {
	Level     int                `json:"level"`
	Title     string             `json:"title"`
	Year      int                `json:"year,omitempty"`
	State     QualificationState `json:"state"`
	Qualified string             `json:"description"`
}

// Standing is the register's answer about one registrant at one instant.
type Standing struct {
	At              time.Time               `json:"as_at"`
	Status          Status                  `json:"status"`
	RegisteredUntil Date                    `json:"registered_until"`
	AuthorisedRoles []string                `json:"authorised_roles"`
	Qualifications  []QualificationStanding `json:"qualifications"`
	Conditions      []PublicCondition       `json:"conditions"`
	Sanctions       []PublicSanction        `json:"sanctions"`
	InterimOrder    *PublicInterimOrder     `json:"interim_order"`
	// ChangesAt is the next instant at which the standing changes by the
	// passage of time alone; nil if none is known.
	ChangesAt *time.Time `json:"changes_at,omitempty"`
}

// OnRegister reports whether the registrant had been admitted by the instant.
func (s *Standing) OnRegister() bool { return s.Status != StatusNotRegistered }

// inForce returns the period that decides the status at t (of those
// covering t, the latest to start: a suspension or removal wins over the
// registration beneath it) and the registration period beneath, which keeps
// registered_until.
func (r *Record) inForce(t time.Time) (top, base *Period) {
	for _, p := range r.Periods {
		if !p.covers(t) {
			continue
		}
		top = p
		if p.Status == StatusRegistered || p.Status == StatusLapsed {
			base = p
		}
	}
	return top, base
}

// statusAt is the status the period top gives at t, with expiry read from dates.
func statusAt(top, base *Period, t time.Time) (Status, Date) {
	until := top.RegisteredUntil
	if top.Status == StatusSuspended && base != nil {
		until = base.RegisteredUntil // a suspension does not move the renewal date
	}
	if top.Status == StatusRegistered && !t.Before(until.End()) {
		return StatusLapsed, until
	}
	return top.Status, until
}

// StandingAt derives the standing at t from the history alone.
func (r *Record) StandingAt(t time.Time) *Standing {
	s := &Standing{At: t, Status: StatusNotRegistered, AuthorisedRoles: []string{}, Qualifications: []QualificationStanding{},
		Conditions: []PublicCondition{}, Sanctions: []PublicSanction{}}
	var next []time.Time
	for _, p := range r.Periods {
		if p.From.After(t) {
			next = append(next, p.From)
		} else if p.covers(t) && p.To != nil {
			next = append(next, *p.To)
		}
	}
	if top, base := r.inForce(t); top != nil {
		s.Status, s.RegisteredUntil = statusAt(top, base, t)
		if s.Status == StatusRegistered {
			next = append(next, s.RegisteredUntil.End())
		}
	}
	publish(r.Orders, t, s, &next)

	var po, pso bool
	for _, q := range r.Qualifications {
		if q.VerifiedAt != nil && q.VerifiedAt.After(t) {
			next = append(next, *q.VerifiedAt)
		}
		st, ok := q.StateAt(t)
		if !ok {
			continue
		}
		if st == QualificationClaimed {
			continue // unverified claims are not shown
		}
		qs := QualificationStanding{Level: q.Level, Title: q.Title, State: st, Qualified: describe(q.Level, st)}
		if !q.AwardedOn.IsZero() {
			qs.Year = q.AwardedOn.Year()
		}
		s.Qualifications = append(s.Qualifications, qs)
		if st == QualificationVerified {
			if q.Level == LevelPO {
				po = true
			}
			pso = true
		}
	}
	if s.Status == StatusRegistered {
		if pso {
			s.AuthorisedRoles = append(s.AuthorisedRoles, PracticePSO)
		}
		if po {
			s.AuthorisedRoles = append(s.AuthorisedRoles, PracticePO)
		}
	}
	for _, n := range next {
		if n.After(t) && (s.ChangesAt == nil || n.Before(*s.ChangesAt)) {
			n := n
			s.ChangesAt = &n
		}
	}
	return s
}

func describe(level int, st QualificationState) string {
	switch {
	case level == LevelPO && st == QualificationInTraining:
		return "trainee Probation Officer"
	case level == LevelPO:
		return "Probation Officer qualification"
	default:
		return "Probation Services Officer qualification"
	}
}

// Current returns the period in force at t, or nil.
func (r *Record) Current(t time.Time) *Period {
	top, _ := r.inForce(t)
	return top
}

// Timeline is the history as a reader sees it: one period after another,
// a suspension or removal cutting into the registration beneath it, and a
// registered period split where its registered_until passed (by now) into
// a derived lapse. Scheduled periods (a decision not yet in effect) are shown.
func (r *Record) Timeline(now time.Time) []*Period {
	var cuts []time.Time
	for _, p := range r.Periods {
		cuts = append(cuts, p.From)
		if p.To != nil {
			cuts = append(cuts, *p.To)
		}
		if end := p.RegisteredUntil.End(); p.Status == StatusRegistered && !end.After(now) {
			cuts = append(cuts, end)
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].Before(cuts[j]) })
	out := make([]*Period, 0, len(cuts))
	for i, c := range cuts {
		if i > 0 && c.Equal(cuts[i-1]) {
			continue
		}
		top, base := r.inForce(c)
		if top == nil {
			continue
		}
		seg := *top
		seg.From, seg.To = c, nil
		for _, n := range cuts[i+1:] {
			if n.After(c) {
				n := n
				seg.To = &n
				break
			}
		}
		seg.Status, seg.RegisteredUntil = statusAt(top, base, c)
		if seg.Status != top.Status {
			seg.Derived, seg.Reason = true, "registration not renewed by "+seg.RegisteredUntil.String()
		}
		if n := len(out); n > 0 {
			prev := out[n-1]
			if prev.ID == seg.ID && prev.Status == seg.Status && prev.To != nil && prev.To.Equal(c) {
				prev.To = seg.To
				continue
			}
		}
		out = append(out, &seg)
	}
	return out
}

// Transition is a registrar's change of registration status.
type Transition string

// Transitions a registrar may make.
const (
	TransitionAdmit   Transition = "admit"
	TransitionRenew   Transition = "renew"
	TransitionLapse   Transition = "lapse"
	TransitionRestore Transition = "restore"
)

// Check decides whether a transition is legal for the standing at now, and
// whether until is acceptable. It returns ECONFLICT for an illegal move and
// EINVALID for a bad date.
func (tr Transition) Check(s *Standing, now time.Time, until Date, reason string) error {
	today := DateOf(now)
	switch tr {
	case TransitionAdmit, TransitionRenew, TransitionRestore:
		if until.IsZero() {
			return FieldError("registered_until", "is required")
		}
		if !until.After(today) {
			return FieldError("registered_until", "must be after today")
		}
		if until.After(today.AddDate(MaxRegistrationYears, 0, 0)) {
			return FieldError("registered_until", "must be within 3 years")
		}
	}
	if (tr == TransitionLapse || tr == TransitionRestore) && len(reason) > 1000 {
		return FieldError("reason", "is too long")
	}
	if tr == TransitionLapse && reason == "" {
		return FieldError("reason", "is required")
	}
	switch tr {
	case TransitionAdmit:
		if s.Status != StatusNotRegistered {
			next := "renew"
			if s.Status == StatusLapsed {
				next = "restore"
			} else if s.Status != StatusRegistered {
				next = "a fitness-to-practise decision"
			}
			return Errorf(ECONFLICT, "Already admitted: the registration is %s. Use %s instead.", s.Status, next)
		}
	case TransitionRenew:
		switch s.Status {
		case StatusRegistered:
			if !until.After(s.RegisteredUntil) {
				return FieldError("registered_until", "must be after the current registered_until "+s.RegisteredUntil.String())
			}
		case StatusLapsed:
			return Errorf(ECONFLICT, "Cannot renew: the registration lapsed. Use restore instead.")
		case StatusNotRegistered:
			return Errorf(ECONFLICT, "Cannot renew: not yet admitted.")
		default:
			return Errorf(ECONFLICT, "Cannot renew a registration that is %s.", s.Status)
		}
	case TransitionLapse:
		if s.Status != StatusRegistered {
			return Errorf(ECONFLICT, "Cannot lapse a registration that is %s.", s.Status)
		}
	case TransitionRestore:
		if s.Status != StatusLapsed {
			if s.Status == StatusRemoved {
				return Errorf(ECONFLICT, "Cannot restore a removed registration: restoration after removal is a panel decision.")
			}
			return Errorf(ECONFLICT, "Cannot restore a registration that is %s: only a lapsed registration can be restored.", s.Status)
		}
	default:
		return Errorf(EINVALID, "Unknown transition.")
	}
	return nil
}

// Result is the status a transition leaves.
func (tr Transition) Result() Status {
	if tr == TransitionLapse {
		return StatusLapsed
	}
	return StatusRegistered
}

// RegistrationService changes and reports registration status.
type RegistrationService interface {
	// Transition applies a registrar's status change now. ENOTFOUND,
	// ECONFLICT for an illegal move, EINVALID for a bad date or reason.
	Transition(ctx context.Context, number string, tr Transition, until Date, reason string) (*Standing, error)
	// History returns the registration's timeline. ENOTFOUND.
	History(ctx context.Context, number string) ([]*Period, error)
}
