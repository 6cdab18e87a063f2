package register

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// ConditionCode is a condition of practice in machine-readable form, from a
// controlled list, so that employers' allocation systems can act on it.
type ConditionCode string

// The controlled list of condition codes. "other" carries its meaning in the text only.
const (
	ConditionSupervisedByPO         ConditionCode = "supervised_by_po"
	ConditionNoHighRiskCases        ConditionCode = "no_high_risk_cases"
	ConditionNoSoleWorking          ConditionCode = "no_sole_working"
	ConditionNoSexualOffenceCases   ConditionCode = "no_sexual_offence_cases"
	ConditionReportToRegulatorMonth ConditionCode = "report_to_regulator_monthly"
	ConditionOther                  ConditionCode = "other"
)

// ConditionCodes lists every condition code, in the order documented.
var ConditionCodes = []ConditionCode{ConditionSupervisedByPO, ConditionNoHighRiskCases, ConditionNoSoleWorking,
	ConditionNoSexualOffenceCases, ConditionReportToRegulatorMonth, ConditionOther}

// Valid reports whether c is on the controlled list.
func (c ConditionCode) Valid() bool {
	for _, v := range ConditionCodes {
		if v == c {
			return true
		}
	}
	return false
}

// Condition is one condition of practice: its code and its public text.
type Condition struct {
	Code ConditionCode `json:"code"`
	Text string        `json:"text"`
}

// MaxConditions bounds how many conditions one order may carry.
const MaxConditions = 10

func checkConditions(v Validation, cs []Condition) {
	if len(cs) > MaxConditions {
		v.Add("conditions", "must have at most "+strconv.Itoa(MaxConditions)+" items")
	}
	var codes []string
	for _, c := range ConditionCodes {
		codes = append(codes, string(c))
	}
	for i, c := range cs {
		f := "conditions[" + strconv.Itoa(i) + "]"
		if !c.Code.Valid() {
			v.Add(f+".code", "must be one of "+strings.Join(codes, ", "))
		}
		checkText(v, f+".text", c.Text, 500)
	}
}

// OrderKind is what an order does to a registration while it is in force.
type OrderKind string

// Orders a panel decision lays on a registration. Advice and "no further
// action" lay none: they are never published.
const (
	OrderInterimSuspension OrderKind = "interim_suspension"
	OrderInterimConditions OrderKind = "interim_conditions"
	OrderWarning           OrderKind = "warning"
	OrderConditions        OrderKind = "conditions"
	OrderSuspension        OrderKind = "suspension"
	OrderRemoval           OrderKind = "removal"
)

// Interim reports whether the order is made pending the final decision.
func (k OrderKind) Interim() bool { return k == OrderInterimSuspension || k == OrderInterimConditions }

// Status is the registration status the order imposes while in force, or
// "" when it leaves the status alone (conditions and warnings do).
func (k OrderKind) Status() Status {
	switch k {
	case OrderInterimSuspension, OrderSuspension:
		return StatusSuspended
	case OrderRemoval:
		return StatusRemoved
	}
	return ""
}

// Order is one dated effect of a decision on a registration: [From, To).
// A removal has no end until a restoration ends it.
type Order struct {
	ID         int64     `json:"id"`
	CaseID     int64     `json:"case_id"`
	DecisionID int64     `json:"decision_id"`
	Kind       OrderKind `json:"kind"`
	From       time.Time `json:"from"`
	// To is when the order stops: its own end, or earlier when a later
	// decision (the final one, a review, an appeal) cut it short.
	To *time.Time `json:"until"`
	// EndsAt is the end the decision itself set, kept so that an order cut
	// short for a final decision can run again if that decision is appealed.
	EndsAt        *time.Time  `json:"ends_at,omitempty"`
	ReviewBy      *time.Time  `json:"review_by,omitempty"`
	Conditions    []Condition `json:"conditions"`
	PublicSummary string      `json:"public_summary"`
	// PeriodID is the status period the order owns, for those that set a status.
	PeriodID int64 `json:"-"`
}

// InForce reports whether the order applies at t.
func (o *Order) InForce(t time.Time) bool {
	return !t.Before(o.From) && (o.To == nil || t.Before(*o.To))
}

// publish adds to s what the public may see of the orders in force at t,
// and the instants at which that changes to next. The publication rules:
// conditions in force (interim or final) with their code, text and end;
// warnings for their months; conditions, suspensions and removals as
// sanctions while in force; an interim order's existence and kind. Advice
// and "no further action" lay no order, so are never published.
func publish(orders []*Order, t time.Time, s *Standing, next *[]time.Time) {
	for _, o := range orders {
		if o.From.After(t) {
			*next = append(*next, o.From)
			continue
		}
		if !o.InForce(t) {
			continue
		}
		if o.To != nil {
			*next = append(*next, *o.To)
		}
		for _, c := range o.Conditions {
			s.Conditions = append(s.Conditions, PublicCondition{Code: c.Code, Text: c.Text, Interim: o.Kind.Interim(), From: o.From, Until: o.To})
		}
		if o.Kind.Interim() {
			// Suspension is the stronger order: show it when both are in force.
			if s.InterimOrder == nil || o.Kind == OrderInterimSuspension {
				s.InterimOrder = &PublicInterimOrder{Kind: o.Kind, From: o.From, Until: o.To}
			}
			continue
		}
		s.Sanctions = append(s.Sanctions, PublicSanction{Kind: o.Kind, From: o.From, Until: o.To, PublicSummary: o.PublicSummary})
	}
	sort.SliceStable(s.Conditions, func(i, j int) bool { return s.Conditions[i].From.Before(s.Conditions[j].From) })
	sort.SliceStable(s.Sanctions, func(i, j int) bool { return s.Sanctions[i].From.Before(s.Sanctions[j].From) })
}

// Durations the rules set.
const (
	AppealDays          = 28 // a final decision takes effect when the appeal period ends
	MaxInterimMonths    = 18 // interim orders on one case, from the first
	InterimReviewMonths = 6  // an interim order is reviewed at least this often
	MinWarningMonths    = 12
	MaxWarningMonths    = 60
	MaxConditionsMonths = 36
	MaxSuspensionMonths = 12
	RestorationYears    = 5 // a removed registrant may apply for restoration after this
)

// AppealEnds is the end of the appeal period of a decision made at t.
func AppealEnds(t time.Time) time.Time { return t.AddDate(0, 0, AppealDays) }

// RestorationFrom returns the removal in force at t and the first instant a
// restoration may be applied for, or nil when no removal is in force.
func (r *Record) RestorationFrom(t time.Time) (*Order, time.Time) {
	for _, o := range r.Orders {
		if o.Kind == OrderRemoval && o.InForce(t) {
			return o, o.From.AddDate(RestorationYears, 0, 0)
		}
	}
	return nil, time.Time{}
}
