package register

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// CaseKind says what a fitness-to-practise case is about.
type CaseKind string

// Case kinds: a referral of a concern, or a removed registrant's
// application to be restored to the register.
const (
	CaseReferral    CaseKind = "referral"
	CaseRestoration CaseKind = "restoration"
)

// Source is who referred a concern.
type Source string

// Referral sources.
const (
	SourceEmployer  Source = "employer"
	SourcePublic    Source = "public"
	SourceSelf      Source = "self"
	SourcePolice    Source = "police"
	SourceRegulator Source = "regulator"
)

// Category is what a referral alleges.
type Category string

// Referral categories.
const (
	CategoryMisconduct              Category = "misconduct"
	CategoryLackOfCompetence        Category = "lack_of_competence"
	CategoryConviction              Category = "conviction"
	CategoryHealth                  Category = "health"
	CategoryDismissalForMalpractice Category = "dismissal_for_malpractice"
)

// Stage is how far a case has gone.
type Stage string

// Stages, in order: received → investigation → closed_no_case |
// referred_to_panel → hearing → decided → (appealed) → final.
const (
	StageReceived        Stage = "received"
	StageInvestigation   Stage = "investigation"
	StageClosedNoCase    Stage = "closed_no_case"
	StageReferredToPanel Stage = "referred_to_panel"
	StageHearing         Stage = "hearing"
	StageDecided         Stage = "decided"
	StageAppealed        Stage = "appealed"
	StageFinal           Stage = "final"
)

// Stages lists every stage in order.
var Stages = []Stage{StageReceived, StageInvestigation, StageClosedNoCase, StageReferredToPanel,
	StageHearing, StageDecided, StageAppealed, StageFinal}

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool {
	for _, v := range Stages {
		if v == s {
			return true
		}
	}
	return false
}

// Closed reports whether nothing more can happen on a case at this stage.
func (s Stage) Closed() bool { return s == StageClosedNoCase || s == StageFinal }

// stageMoves is the stage graph: where each stage may go next.
var stageMoves = map[Stage][]Stage{
	StageReceived:        {StageInvestigation},
	StageInvestigation:   {StageClosedNoCase, StageReferredToPanel},
	StageReferredToPanel: {StageHearing},
	StageHearing:         {StageDecided},
	StageDecided:         {StageAppealed, StageFinal},
	StageAppealed:        {StageFinal},
}

// Case is a fitness-to-practise case: a referral or a restoration
// application. Allegation, source, reasons and votes are never public.
type Case struct {
	ID         int64    `json:"id"`
	Number     string   `json:"register_number"`
	Kind       CaseKind `json:"kind"`
	Source     Source   `json:"source"`
	Category   Category `json:"category,omitempty"`
	Allegation string   `json:"allegation"`
	// Stage is the stage as at the reading: a decided case whose appeal
	// period ended without an appeal reads as final.
	Stage        Stage      `json:"stage"`
	Opened       time.Time  `json:"opened_at"`
	Updated      time.Time  `json:"updated_at"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	AppealEndsAt *time.Time `json:"appeal_ends_at,omitempty"`
	AppealedAt   *time.Time `json:"appealed_at,omitempty"`
	AppealReason string     `json:"appeal_reason,omitempty"`

	RegistrantID int64          `json:"-"`
	StoredStage  Stage          `json:"-"`
	Panel        []*PanelMember `json:"panel"`
	Decisions    []*Decision    `json:"decisions"`
	History      []*StageMove   `json:"stages"`
}

// StageMove is one step of a case's history.
type StageMove struct {
	From   Stage     `json:"from,omitempty"`
	To     Stage     `json:"to"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
}

// MaxAllegation bounds the allegation (or restoration grounds) text.
const MaxAllegation = 20000

// Validate checks a new case's fields. A restoration application has no
// category; its allegation field holds the applicant's grounds.
func (c *Case) Validate() error {
	v := Validation{}
	switch c.Kind {
	case CaseReferral:
		switch c.Category {
		case CategoryMisconduct, CategoryLackOfCompetence, CategoryConviction, CategoryHealth, CategoryDismissalForMalpractice:
		case "":
			v.Add("category", "is required")
		default:
			v.Add("category", "must be one of misconduct, lack_of_competence, conviction, health, dismissal_for_malpractice")
		}
	case CaseRestoration:
		if c.Category != "" {
			v.Add("category", "does not apply to a restoration application")
		}
	default:
		v.Add("kind", "must be referral or restoration")
	}
	switch c.Source {
	case SourceEmployer, SourcePublic, SourceSelf, SourcePolice, SourceRegulator:
	case "":
		v.Add("source", "is required")
	default:
		v.Add("source", "must be one of employer, public, self, police, regulator")
	}
	checkText(v, "allegation", c.Allegation, MaxAllegation)
	return v.Err()
}

// CheckOpen decides whether a case may be opened against the record at now:
// the registrant must have been admitted; a restoration needs a removal in
// force for at least RestorationYears. ECONFLICT otherwise.
func (c *Case) CheckOpen(rec *Record, now time.Time) error {
	if len(rec.Periods) == 0 {
		return Errorf(ECONFLICT, "%s has never been admitted to the register: a case concerns a registrant.", rec.Registrant.Number)
	}
	if c.Kind == CaseRestoration {
		return checkRestoration(rec, now)
	}
	return nil
}

func checkRestoration(rec *Record, now time.Time) error {
	removal, from := rec.RestorationFrom(now)
	if removal == nil {
		return Errorf(ECONFLICT, "%s is not removed from the register: restoration follows a removal.", rec.Registrant.Number)
	}
	if now.Before(from) {
		return Errorf(ECONFLICT, "Restoration may be applied for no earlier than 5 years after the removal took effect: from %s.", from.Format(time.RFC3339))
	}
	return nil
}

// StageAt is the case's stage at t: the stored stage, except that a decided
// case reads as final once its appeal period has ended without an appeal.
func (c *Case) StageAt(t time.Time) Stage {
	if c.StoredStage == StageDecided && c.AppealEndsAt != nil && !t.Before(*c.AppealEndsAt) {
		return StageFinal
	}
	return c.StoredStage
}

// OpenProposal returns the decision proposed and not yet made or rejected, if any.
func (c *Case) OpenProposal() *Decision {
	for _, d := range c.Decisions {
		if d.State == DecisionProposed {
			return d
		}
	}
	return nil
}

// FinalDecision returns the panel's final decision on the case, if made.
func (c *Case) FinalDecision() *Decision {
	for _, d := range c.Decisions {
		if d.State == DecisionMade && d.Kind.Final() && d.Varies == 0 {
			return d
		}
	}
	return nil
}

// CheckMove decides whether the registrar may move the case to stage to at
// now. Every move off the stage graph is ECONFLICT; so are moves along it
// that only something else may make (a panel's decision, an appeal outcome,
// the end of the appeal period).
func (c *Case) CheckMove(to Stage, now time.Time) error {
	from := c.StageAt(now)
	if !to.Valid() {
		return FieldError("to", "must be one of "+joinStages(Stages))
	}
	legal := false
	for _, s := range stageMoves[from] {
		legal = legal || s == to
	}
	if !legal {
		if next := stageMoves[from]; len(next) > 0 {
			return Errorf(ECONFLICT, "Cannot move a case from %s to %s: from %s it may go to %s.", from, to, from, joinStages(next))
		}
		return Errorf(ECONFLICT, "Cannot move a case from %s to %s: the case is closed.", from, to)
	}
	if c.OpenProposal() != nil {
		return Errorf(ECONFLICT, "A decision is proposed and awaiting votes: the stage cannot move until it is made or rejected.")
	}
	switch to {
	case StageHearing:
		if len(c.Panel) == 0 {
			return Errorf(ECONFLICT, "Cannot move to hearing: the case has no panel yet.")
		}
	case StageDecided:
		return Errorf(ECONFLICT, "A case is decided only by its panel's final decision.")
	case StageFinal:
		if from == StageAppealed {
			return Errorf(ECONFLICT, "An appealed case becomes final with the appeal outcome.")
		}
		return Errorf(ECONFLICT, "A decided case becomes final when its appeal period ends, at %s.", c.AppealEndsAt.Format(time.RFC3339))
	case StageAppealed:
		return c.CheckAppeal(now)
	}
	return nil
}

// CheckAppeal decides whether an appeal may be lodged at now: the case is
// decided and its appeal period has not ended. ECONFLICT otherwise.
func (c *Case) CheckAppeal(now time.Time) error {
	switch st := c.StageAt(now); {
	case st == StageDecided:
		return nil
	case st == StageFinal && c.StoredStage == StageDecided:
		return Errorf(ECONFLICT, "The appeal period ended at %s.", c.AppealEndsAt.Format(time.RFC3339))
	default:
		return Errorf(ECONFLICT, "Only a decided case can be appealed; this case is %s.", st)
	}
}

func joinStages(ss []Stage) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

// Seat is a panel member's place on the panel.
type Seat string

// Panel seats.
const (
	SeatChair      Seat = "chair"
	SeatLay        Seat = "lay"
	SeatRegistrant Seat = "registrant"
)

// PanelMember is one member sitting on a case's panel.
type PanelMember struct {
	UserID int64  `json:"user_id"`
	Seat   Seat   `json:"seat"`
	Email  string `json:"email,omitempty"`
}

// Panel size bounds.
const (
	MinPanel = 3
	MaxPanel = 9
)

// panelRule is a broken panel rule: 422, naming the rule.
func panelRule(rule, reason string) error {
	return &Error{Code: EUNPROCESSABLE, Message: "Panel rule broken (" + rule + "): " + reason, Fields: map[string]string{"members": reason}}
}

// CheckPanel decides whether members may sit as a panel on a case about
// the registrant with id registrantID. users holds the accounts found for
// the members' user ids. Each broken rule is EUNPROCESSABLE naming it.
// (The rule that no member shares an organisation with the registrant
// comes with organisations and engagements.)
func CheckPanel(members []*PanelMember, users map[int64]*User, registrantID int64) error {
	seen := map[int64]bool{}
	seats := map[Seat]int{}
	for _, m := range members {
		switch m.Seat {
		case SeatChair, SeatLay, SeatRegistrant:
		default:
			return FieldError("members", "seat must be chair, lay or registrant")
		}
		if seen[m.UserID] {
			return panelRule("one_seat_each", "user "+strconv.FormatInt(m.UserID, 10)+" appears more than once")
		}
		seen[m.UserID] = true
		seats[m.Seat]++
		u := users[m.UserID]
		if u == nil {
			return panelRule("panel_member_role", "user "+strconv.FormatInt(m.UserID, 10)+" does not exist")
		}
		if u.RegistrantID != 0 && u.RegistrantID == registrantID {
			return panelRule("not_the_registrant", "user "+strconv.FormatInt(m.UserID, 10)+" is the registrant the case is about")
		}
		if u.Role != RolePanelMember || u.Disabled {
			return panelRule("panel_member_role", "user "+strconv.FormatInt(m.UserID, 10)+" is not an active panel member")
		}
	}
	switch {
	case len(members) < MinPanel:
		return panelRule("at_least_three", "a panel has at least 3 members")
	case len(members) > MaxPanel:
		return panelRule("at_most_nine", "a panel has at most 9 members")
	case seats[SeatChair] != 1:
		return panelRule("one_chair", "a panel has exactly one chair")
	case seats[SeatLay] < 1:
		return panelRule("lay_member", "a panel has at least one lay member")
	case seats[SeatRegistrant] < 1:
		return panelRule("registrant_member", "a panel has at least one registrant member")
	}
	return nil
}

// CheckPanelChange decides whether the panel may be set at now: not once
// the case is closed or decided, nor while a proposal awaits votes.
func (c *Case) CheckPanelChange(now time.Time) error {
	switch st := c.StageAt(now); st {
	case StageDecided, StageAppealed, StageFinal, StageClosedNoCase:
		return Errorf(ECONFLICT, "The panel cannot change: the case is %s.", st)
	}
	if c.OpenProposal() != nil {
		return Errorf(ECONFLICT, "The panel cannot change while a decision is proposed and awaiting votes.")
	}
	return nil
}

// Sits reports whether the user sits on the case's panel.
func (c *Case) Sits(userID int64) bool {
	for _, m := range c.Panel {
		if m.UserID == userID {
			return true
		}
	}
	return false
}

// DecisionKind is what a panel decides.
type DecisionKind string

// Decision kinds: interim orders, final outcomes, and restoration.
const (
	DecisionInterimSuspension DecisionKind = "interim_suspension"
	DecisionInterimConditions DecisionKind = "interim_conditions"
	DecisionNoFurtherAction   DecisionKind = "no_further_action"
	DecisionAdvice            DecisionKind = "advice"
	DecisionWarning           DecisionKind = "warning"
	DecisionConditions        DecisionKind = "conditions"
	DecisionSuspension        DecisionKind = "suspension"
	DecisionRemoval           DecisionKind = "removal"
	DecisionRestoration       DecisionKind = "restoration"
)

// DecisionKinds lists every kind.
var DecisionKinds = []DecisionKind{DecisionInterimSuspension, DecisionInterimConditions, DecisionNoFurtherAction,
	DecisionAdvice, DecisionWarning, DecisionConditions, DecisionSuspension, DecisionRemoval, DecisionRestoration}

// Valid reports whether k is a known kind.
func (k DecisionKind) Valid() bool {
	for _, v := range DecisionKinds {
		if v == k {
			return true
		}
	}
	return false
}

// Interim reports whether k is an interim order.
func (k DecisionKind) Interim() bool {
	return k == DecisionInterimSuspension || k == DecisionInterimConditions
}

// Final reports whether k is a final outcome of a referral.
func (k DecisionKind) Final() bool {
	switch k {
	case DecisionNoFurtherAction, DecisionAdvice, DecisionWarning, DecisionConditions, DecisionSuspension, DecisionRemoval:
		return true
	}
	return false
}

// Order is the order a decision of this kind lays, or "" for none.
func (k DecisionKind) Order() OrderKind {
	switch k {
	case DecisionInterimSuspension:
		return OrderInterimSuspension
	case DecisionInterimConditions:
		return OrderInterimConditions
	case DecisionWarning:
		return OrderWarning
	case DecisionConditions:
		return OrderConditions
	case DecisionSuspension:
		return OrderSuspension
	case DecisionRemoval:
		return OrderRemoval
	}
	return ""
}

// months is the range of months a kind takes; max 0 means it takes none.
func (k DecisionKind) months() (min, max int) {
	switch k {
	case DecisionInterimSuspension, DecisionInterimConditions:
		return 1, MaxInterimMonths
	case DecisionWarning:
		return MinWarningMonths, MaxWarningMonths
	case DecisionConditions:
		return 1, MaxConditionsMonths
	case DecisionSuspension:
		return 1, MaxSuspensionMonths
	}
	return 0, 0
}

// DecisionState is where a proposal stands.
type DecisionState string

// Decision states.
const (
	DecisionProposed DecisionState = "proposed"
	DecisionMade     DecisionState = "made"
	DecisionRejected DecisionState = "rejected"
)

// AppealResult is the outcome of an appeal against a final decision.
type AppealResult string

// Appeal results.
const (
	AppealUpheld  AppealResult = "upheld"
	AppealVaried  AppealResult = "varied"
	AppealQuashed AppealResult = "quashed"
)

// Decision is a panel's proposal and, once a majority agrees, its decision.
// Reasons and votes are private; the public summary is published with the
// order the decision lays.
type Decision struct {
	ID              int64         `json:"id"`
	CaseID          int64         `json:"case_id"`
	Kind            DecisionKind  `json:"kind"`
	State           DecisionState `json:"state"`
	Conditions      []Condition   `json:"conditions"`
	Months          int           `json:"months,omitempty"`
	RegisteredUntil Date          `json:"registered_until,omitzero"`
	PublicSummary   string        `json:"public_summary"`
	Reasons         string        `json:"reasons"`
	Immediate       bool          `json:"immediate"`
	ProposedBy      int64         `json:"proposed_by,omitempty"`
	ProposedAt      time.Time     `json:"proposed_at"`
	DecidedAt       *time.Time    `json:"decided_at,omitempty"`
	// TakesEffectAt is when the decision's orders start: at once for an
	// interim order or an immediate order, else when the appeal period
	// ends; unset while an appeal is pending or after a quash of a
	// decision that had not taken effect.
	TakesEffectAt *time.Time `json:"takes_effect_at,omitempty"`
	// Varies names the decision an appeal varied; this one replaces it.
	Varies         int64        `json:"varies,omitempty"`
	AppealResult   AppealResult `json:"appeal_result,omitempty"`
	AppealResultAt *time.Time   `json:"appeal_result_at,omitempty"`
	Votes          []*Vote      `json:"votes"`
}

// Vote is one panel member's vote on a proposal.
type Vote struct {
	UserID int64     `json:"user_id"`
	Vote   string    `json:"vote"`
	At     time.Time `json:"at"`
}

// Votes.
const (
	VoteAgree    = "agree"
	VoteDisagree = "disagree"
)

// Validate checks a proposed decision's fields as at today.
func (d *Decision) Validate(today Date) error {
	v := Validation{}
	if !d.Kind.Valid() {
		kinds := make([]string, len(DecisionKinds))
		for i, k := range DecisionKinds {
			kinds[i] = string(k)
		}
		v.Add("kind", "must be one of "+strings.Join(kinds, ", "))
		return v.Err()
	}
	checkText(v, "public_summary", d.PublicSummary, 2000)
	checkText(v, "reasons", d.Reasons, MaxAllegation)
	min, max := d.Kind.months()
	switch {
	case max == 0 && d.Months != 0:
		v.Add("months", "does not apply to "+string(d.Kind))
	case max > 0 && (d.Months < min || d.Months > max):
		v.Add("months", "must be between "+strconv.Itoa(min)+" and "+strconv.Itoa(max)+" for "+string(d.Kind))
	}
	wantConditions := d.Kind == DecisionConditions || d.Kind == DecisionInterimConditions
	switch {
	case wantConditions && len(d.Conditions) == 0:
		v.Add("conditions", "are required for "+string(d.Kind))
	case !wantConditions && len(d.Conditions) > 0:
		v.Add("conditions", "apply only to conditions and interim_conditions")
	}
	checkConditions(v, d.Conditions)
	if d.Immediate && !d.Kind.Final() {
		v.Add("immediate", "applies only to final decisions: interim orders and restoration take effect at once")
	}
	if d.Kind == DecisionRestoration {
		switch {
		case d.RegisteredUntil.IsZero():
			v.Add("registered_until", "is required for restoration")
		case !d.RegisteredUntil.After(today):
			v.Add("registered_until", "must be after today")
		case d.RegisteredUntil.After(today.AddDate(MaxRegistrationYears, 0, 0)):
			v.Add("registered_until", "must be within 3 years")
		}
	} else if !d.RegisteredUntil.IsZero() {
		v.Add("registered_until", "applies only to restoration")
	}
	return v.Err()
}

// CheckDecision decides whether a decision of kind k may be proposed or
// made on the case at now, against the registrant's record. ECONFLICT.
func (c *Case) CheckDecision(k DecisionKind, rec *Record, now time.Time) error {
	st := c.StageAt(now)
	switch {
	case k == DecisionRestoration || c.Kind == CaseRestoration:
		if c.Kind != CaseRestoration {
			return Errorf(ECONFLICT, "Restoration is decided on a restoration application, not on a referral.")
		}
		if k != DecisionRestoration && k != DecisionNoFurtherAction {
			return Errorf(ECONFLICT, "A restoration application is decided by restoration or no_further_action.")
		}
		if st != StageHearing {
			return Errorf(ECONFLICT, "A decision on a restoration application is made at the hearing; the case is %s.", st)
		}
		if k == DecisionRestoration {
			return checkRestoration(rec, now)
		}
	case k.Interim():
		switch st {
		case StageReceived, StageInvestigation, StageReferredToPanel, StageHearing, StageAppealed:
		default:
			return Errorf(ECONFLICT, "An interim order is made before the final decision or pending an appeal; the case is %s.", st)
		}
	case st != StageHearing:
		return Errorf(ECONFLICT, "A final decision is made at the hearing; the case is %s.", st)
	}
	return nil
}

// Tally is the state a proposal reaches with these votes from a sitting
// panel of size: made when a majority agrees, rejected once a majority can
// no longer agree, otherwise still proposed.
func Tally(size, agree, disagree int) DecisionState {
	majority := size/2 + 1
	switch {
	case agree >= majority:
		return DecisionMade
	case disagree > size-majority:
		return DecisionRejected
	}
	return DecisionProposed
}

// Orders are the orders the decision lays when it takes effect at from.
// firstInterim is when the case's first interim order began (zero if
// none): interim orders never run past MaxInterimMonths from it.
func (d *Decision) Orders(from, firstInterim time.Time) []*Order {
	kind := d.Kind.Order()
	if kind == "" {
		return nil
	}
	o := &Order{CaseID: d.CaseID, DecisionID: d.ID, Kind: kind, From: from, Conditions: d.Conditions, PublicSummary: d.PublicSummary}
	if o.Conditions == nil {
		o.Conditions = []Condition{}
	}
	if d.Months > 0 {
		end := from.AddDate(0, d.Months, 0)
		if kind.Interim() {
			if firstInterim.IsZero() {
				firstInterim = from
			}
			if limit := firstInterim.AddDate(0, MaxInterimMonths, 0); end.After(limit) {
				end = limit
			}
			review := from.AddDate(0, InterimReviewMonths, 0)
			if review.After(end) {
				review = end
			}
			o.ReviewBy = &review
		}
		o.To, o.EndsAt = &end, &end
	}
	return []*Order{o}
}

// CheckInterimLimit refuses an interim order that would run past
// MaxInterimMonths from the case's first interim order. EINVALID.
func (d *Decision) CheckInterimLimit(now, firstInterim time.Time) error {
	if !d.Kind.Interim() || firstInterim.IsZero() {
		return nil
	}
	limit := firstInterim.AddDate(0, MaxInterimMonths, 0)
	if now.AddDate(0, d.Months, 0).After(limit) {
		return FieldError("months", "must keep the case's interim orders within 18 months of the first, which began "+firstInterim.Format(time.RFC3339))
	}
	return nil
}

// CheckMake decides whether a proposal may become the panel's decision at
// its deciding vote, at now: the record and the calendar may have moved
// since it was proposed. It applies CheckDecision again (for a
// restoration: the removal still in force and at least RestorationYears
// old) and, for a restoration, asks again that its registered_until be
// after the deciding day, as it had to be after the day of the proposal:
// restoring into a registration year that has already ended would put the
// registrant straight back off the register as lapsed. ECONFLICT.
func (c *Case) CheckMake(d *Decision, rec *Record, now time.Time) error {
	if err := c.CheckDecision(d.Kind, rec, now); err != nil {
		return err
	}
	if d.Kind == DecisionRestoration && !d.RegisteredUntil.After(DateOf(now)) {
		return Errorf(ECONFLICT, "Decision %d would restore %s only until %s, which is no longer after today: vote disagree to close it and propose the restoration again with a later registered_until.",
			d.ID, rec.Registrant.Number, d.RegisteredUntil)
	}
	return nil
}

// CaseFilter selects cases to list.
type CaseFilter struct {
	Number string // register number
	Stage  Stage  // stage as at now
	// PanelUserID limits the list to cases on whose panel the user sits.
	PanelUserID int64
	// RegistrantID limits the list to one registrant's cases.
	RegistrantID int64
	Limit        int
	After        int64
}

// DueReview is an interim order in force whose review date has passed.
type DueReview struct {
	CaseID   int64      `json:"case_id"`
	Number   string     `json:"register_number"`
	Kind     OrderKind  `json:"kind"`
	From     time.Time  `json:"from"`
	ReviewBy time.Time  `json:"review_by"`
	Until    *time.Time `json:"until"`
}

// CaseService keeps fitness-to-practise cases, panels and decisions, and
// lays their orders on the register.
type CaseService interface {
	// CreateCase opens a case. ENOTFOUND for an unknown register number,
	// EINVALID, ECONFLICT if the registrant was never admitted or (for a
	// restoration) is not removed or not yet eligible.
	CreateCase(ctx context.Context, c *Case) error
	// FindCase returns a case with its panel, decisions and history.
	// ENOTFOUND; EFORBIDDEN for a panel member not on its panel.
	FindCase(ctx context.Context, id int64) (*Case, error)
	// FindCases lists cases in id order; the second result is the cursor
	// of the next page, 0 when there is none.
	FindCases(ctx context.Context, f CaseFilter) ([]*Case, int64, error)
	// MoveStage moves a case along the stage graph. ENOTFOUND, ECONFLICT.
	MoveStage(ctx context.Context, id int64, to Stage, reason string) (*Case, error)
	// SetPanel replaces a case's panel. ENOTFOUND, ECONFLICT,
	// EUNPROCESSABLE naming a broken panel rule.
	SetPanel(ctx context.Context, id int64, members []*PanelMember) (*Case, error)
	// ProposeDecision records the acting panel member's proposal.
	// ENOTFOUND, EFORBIDDEN if they do not sit on the case's panel,
	// EINVALID, ECONFLICT for the wrong stage or an open proposal.
	ProposeDecision(ctx context.Context, caseID int64, d *Decision) error
	// Vote records the acting panel member's vote and, when it settles
	// the proposal, makes or rejects it with its effects on the register.
	// ENOTFOUND, EFORBIDDEN, ECONFLICT for a second vote or a settled proposal.
	Vote(ctx context.Context, decisionID int64, vote string) (*Decision, error)
	// Appeal lodges an appeal within the appeal period. ENOTFOUND, ECONFLICT.
	Appeal(ctx context.Context, id int64, reason string) (*Case, error)
	// DecideAppeal records an appeal's outcome; variation is the varied
	// decision when the result is varied. ENOTFOUND, EINVALID, ECONFLICT.
	DecideAppeal(ctx context.Context, id int64, result AppealResult, variation *Decision) (*Case, error)
	// DueReviews lists interim orders in force whose review date has passed.
	DueReviews(ctx context.Context) ([]*DueReview, error)
}
