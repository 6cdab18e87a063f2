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
	Periods        []*Period // ordered by From
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
	// ChangesAt is the next instant at which the standing changes by the
	// passage of time alone; nil if none is known.
	ChangesAt *time.Time `json:"changes_at,omitempty"`
}

// OnRegister reports whether the registrant had been admitted by the instant.
func (s *Standing) OnRegister() bool { return s.Status != StatusNotRegistered }

// StandingAt derives the standing at t from the history alone.
func (r *Record) StandingAt(t time.Time) *Standing {
	s := &Standing{At: t, Status: StatusNotRegistered, AuthorisedRoles: []string{}, Qualifications: []QualificationStanding{}}
	var next []time.Time
	for _, p := range r.Periods {
		if p.From.After(t) {
			next = append(next, p.From)
			continue
		}
		if !p.covers(t) {
			continue
		}
		s.Status = p.Status
		s.RegisteredUntil = p.RegisteredUntil
		if p.To != nil {
			next = append(next, *p.To)
		}
		if p.Status == StatusRegistered {
			if end := p.RegisteredUntil.End(); !t.Before(end) {
				s.Status = StatusLapsed
			} else {
				next = append(next, end)
			}
		}
	}

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
	for _, p := range r.Periods {
		if p.covers(t) {
			return p
		}
	}
	return nil
}

// Timeline is the history as a reader sees it: written periods, with a
// registered period split where its registered_until passed into a derived lapse.
func (r *Record) Timeline(now time.Time) []*Period {
	out := make([]*Period, 0, len(r.Periods)+1)
	for _, p := range r.Periods {
		if p.Status != StatusRegistered {
			out = append(out, p)
			continue
		}
		end := p.RegisteredUntil.End()
		stop := now
		if p.To != nil {
			stop = *p.To
		}
		if !end.Before(stop) {
			out = append(out, p)
			continue
		}
		if end.After(p.From) {
			head := *p
			head.To = &end
			out = append(out, &head)
		}
		from := end
		if from.Before(p.From) {
			from = p.From
		}
		out = append(out, &Period{Status: StatusLapsed, From: from, To: p.To, RegisteredUntil: p.RegisteredUntil,
			Reason: "registration not renewed by " + p.RegisteredUntil.String(), Derived: true})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].From.Before(out[j].From) })
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
			return Errorf(ECONFLICT, "Already admitted: the registration is %s. Use renew or restore instead.", s.Status)
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
