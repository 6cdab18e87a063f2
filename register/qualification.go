package register

import (
	"strings"
	"time"
)

// QualificationState says how far the register trusts a qualification.
type QualificationState string

// Qualification states. Only verified qualifications authorise.
const (
	QualificationClaimed    QualificationState = "claimed"
	QualificationVerified   QualificationState = "verified"
	QualificationInTraining QualificationState = "in_training"
)

// Qualification levels.
const (
	LevelPSO = 3 // Probation Services Officer
	LevelPO  = 5 // Probation Officer, PQiP
)

// Qualification is a level 3 or 5 qualification held by a registrant.
type Qualification struct {
	ID             int64              `json:"id"`
	Level          int                `json:"level"`
	Title          string             `json:"title"`
	AwardingBody   string             `json:"awarding_body"`
	AwardedOn      Date               `json:"awarded_on"`
	CertificateRef string             `json:"certificate_ref"`
	State          QualificationState `json:"state"`
	// InitialState is the state recorded before any verification.
	InitialState QualificationState `json:"-"`
	VerifiedBy   int64              `json:"verified_by,omitempty"`
	VerifiedAt   *time.Time         `json:"verified_at,omitempty"`
	Created      time.Time          `json:"created_at"`
}

// Validate checks a new qualification as at today.
func (q *Qualification) Validate(today Date) error {
	v := Validation{}
	if q.Level != LevelPSO && q.Level != LevelPO {
		v.Add("level", "must be 3 or 5")
	}
	checkText(v, "title", q.Title, 200)
	checkText(v, "awarding_body", q.AwardingBody, 200)
	checkText(v, "certificate_ref", q.CertificateRef, 100)
	switch q.State {
	case QualificationClaimed, QualificationInTraining:
	case QualificationVerified:
		v.Add("state", "must be claimed or in_training: verification is a separate step")
	default:
		v.Add("state", "must be claimed or in_training")
	}
	if q.State == QualificationInTraining && q.Level != LevelPO {
		v.Add("state", "in_training applies to level 5 only")
	}
	if q.State != QualificationInTraining {
		if q.AwardedOn.IsZero() {
			v.Add("awarded_on", "is required")
		}
	}
	if !q.AwardedOn.IsZero() && q.AwardedOn.After(today) {
		v.Add("awarded_on", "must not be in the future")
	}
	return v.Err()
}

func checkText(v Validation, field, s string, max int) {
	if strings.TrimSpace(s) == "" {
		v.Add(field, "is required")
	} else if len([]rune(s)) > max {
		v.Add(field, "is too long")
	}
}

// StateAt is the qualification's state at t, and false if it was not yet recorded.
func (q *Qualification) StateAt(t time.Time) (QualificationState, bool) {
	if t.Before(q.Created) {
		return "", false
	}
	if q.VerifiedAt != nil && !t.Before(*q.VerifiedAt) {
		return QualificationVerified, true
	}
	return q.InitialState, true
}
