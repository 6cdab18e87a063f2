package register

import "time"

// ImportRow is one registrant as a bulk import (or synthetic data) brings
// them: the person, their qualifications, and their registration as the
// source knew it. Its history is dated as the source had it, so that as-at
// answers about the time before the import are right too.
type ImportRow struct {
	Registrant Registrant
	// Qualifications may be verified: checked before the import.
	Qualifications []*Qualification
	// Status is StatusApplicant or a registration status.
	Status          Status
	RegisteredUntil Date
	// AdmittedOn is the day of first admission; zero when the source does not know it.
	AdmittedOn Date
	// StatusFrom is the day the current status began: the admission for
	// StatusRegistered. Zero means the import day, except for a lapse by
	// date (StatusLapsed with RegisteredUntil past), which began when
	// RegisteredUntil passed.
	StatusFrom Date
	// Reason says why the registration is lapsed, suspended or removed.
	Reason string
}

// qualificationColumns maps Qualification.Validate's field names to the
// import's column names; the registrant's fields keep their own names.
var qualificationColumns = map[string]string{
	"level": "qualification_level", "title": "qualification_title", "state": "qualification_state",
	"awarding_body": "awarding_body", "awarded_on": "awarded_on", "certificate_ref": "certificate_ref",
}

// Validate checks a row as at now with the API's rules for registrants and
// qualifications, plus the rules that make its history consistent.
func (r *ImportRow) Validate(now time.Time) error {
	today := DateOf(now)
	v := Validation{}
	for f, reason := range ErrorFields(r.Registrant.Validate(today)) {
		v.Add(f, reason)
	}
	for _, q := range r.Qualifications {
		// Verification before the import is what the row records, so a
		// verified qualification is checked as the claim it once was.
		c := *q
		if c.State == QualificationVerified {
			c.State = QualificationClaimed
		}
		for f, reason := range ErrorFields(c.Validate(today)) {
			v.Add(qualificationColumns[f], reason)
		}
	}
	for _, d := range []struct {
		column string
		date   Date
	}{{"admitted_on", r.AdmittedOn}, {"status_from", r.StatusFrom}} {
		if d.date.After(today) {
			v.Add(d.column, "must not be in the future")
		} else if !d.date.IsZero() && d.date.Before(today.AddDate(-100, 0, 0)) {
			v.Add(d.column, "must be within the last 100 years")
		}
	}
	if len(r.Reason) > 1000 {
		v.Add("reason", "is too long")
	}
	switch r.Status {
	case StatusApplicant:
		for column, d := range map[string]Date{"registered_until": r.RegisteredUntil, "admitted_on": r.AdmittedOn, "status_from": r.StatusFrom} {
			if !d.IsZero() {
				v.Add(column, "must be empty for an applicant")
			}
		}
		return v.Err()
	case StatusRegistered:
		// The same rule as admitting through the API.
		if err := TransitionAdmit.Check(&Standing{Status: StatusNotRegistered}, now, r.RegisteredUntil, ""); err != nil {
			for f, reason := range ErrorFields(err) {
				v.Add(f, reason)
			}
		}
		if !r.AdmittedOn.IsZero() && !r.StatusFrom.IsZero() && r.AdmittedOn.After(r.StatusFrom) {
			v.Add("admitted_on", "must not be after status_from")
		}
	case StatusLapsed, StatusSuspended, StatusRemoved:
		if r.RegisteredUntil.IsZero() {
			v.Add("registered_until", "is required")
		} else if r.RegisteredUntil.After(today.AddDate(MaxRegistrationYears, 0, 0)) {
			v.Add("registered_until", "must be within 3 years")
		}
		if !r.AdmittedOn.IsZero() {
			if !r.StatusFrom.IsZero() && !r.AdmittedOn.Before(r.StatusFrom) {
				v.Add("admitted_on", "must be before status_from")
			} else if r.StatusFrom.IsZero() && !r.AdmittedOn.Before(today) {
				v.Add("admitted_on", "must be before today")
			}
		}
	default:
		v.Add("status", "must be one of applicant, registered, lapsed, suspended, removed")
		return v.Err()
	}
	if !r.AdmittedOn.IsZero() && !r.RegisteredUntil.IsZero() && r.AdmittedOn.After(r.RegisteredUntil) {
		v.Add("admitted_on", "must not be after registered_until")
	}
	return v.Err()
}

// lapsedByDate reports whether a lapsed row lapsed because registered_until
// passed, rather than by a decision on a stated day.
func (r *ImportRow) lapsedByDate(today Date) bool {
	return r.Status == StatusLapsed && r.StatusFrom.IsZero() && r.RegisteredUntil.Before(today)
}

// Record is the history the row stands for, recorded at now: a registered
// period from admission, and the current status from the day it began. When
// the source does not know the admission of someone no longer registered,
// the history starts with their current status: the register claims no more
// than it was told. Qualifications count from the start of the history, and
// a verified one from when it was awarded if that is later.
func (r *ImportRow) Record(now time.Time) *Record {
	rec := &Record{Registrant: &r.Registrant, Qualifications: r.Qualifications}
	dayOr := func(d Date, t time.Time) time.Time {
		if d.IsZero() {
			return t
		}
		return d.Start()
	}
	switch {
	case r.Status == StatusApplicant:
	case r.Status == StatusRegistered:
		from := dayOr(r.AdmittedOn, dayOr(r.StatusFrom, now))
		rec.Periods = []*Period{{Status: StatusRegistered, From: from, RegisteredUntil: r.RegisteredUntil}}
	case r.lapsedByDate(DateOf(now)):
		// The lapse is read from registered_until; nothing is written for it.
		from := dayOr(r.AdmittedOn, now)
		rec.Periods = []*Period{{Status: StatusRegistered, From: from, RegisteredUntil: r.RegisteredUntil}}
	default:
		from := dayOr(r.StatusFrom, now)
		if !r.AdmittedOn.IsZero() {
			// A lapse ends the registration; a suspension or removal lies
			// over it, as a panel's order does.
			base := &Period{Status: StatusRegistered, From: r.AdmittedOn.Start(), RegisteredUntil: r.RegisteredUntil}
			if r.Status == StatusLapsed {
				base.To = &from
			}
			rec.Periods = append(rec.Periods, base)
		}
		rec.Periods = append(rec.Periods, &Period{Status: r.Status, From: from, RegisteredUntil: r.RegisteredUntil, Reason: r.Reason})
	}
	start := now
	if len(rec.Periods) > 0 {
		start = rec.Periods[0].From
	}
	for _, q := range r.Qualifications {
		q.Created = start
		q.InitialState = q.State
		if q.State == QualificationVerified {
			q.InitialState = QualificationClaimed
			at := start
			if awarded := q.AwardedOn.Start(); awarded.After(at) {
				at = awarded
			}
			q.VerifiedAt = &at
		}
	}
	return rec
}
