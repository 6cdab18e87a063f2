package http

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

type createCaseRequest struct {
	RegisterNumber string `json:"register_number" validate:"required"`
	Kind           string `json:"kind" validate:"omitempty,oneof=referral restoration"`
	Source         string `json:"source" validate:"required,oneof=employer public self police regulator"`
	Category       string `json:"category" validate:"omitempty,oneof=misconduct lack_of_competence conviction health dismissal_for_malpractice"`
	Allegation     string `json:"allegation" validate:"required,max=20000"`
}

func (s *Server) createCase(c *gin.Context) {
	var req createCaseRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	n, err := register.ParseNumber(req.RegisterNumber)
	if err != nil {
		s.Error(c, err)
		return
	}
	k := &register.Case{Number: n, Kind: register.CaseKind(req.Kind), Source: register.Source(req.Source),
		Category: register.Category(req.Category), Allegation: req.Allegation}
	if k.Kind == "" {
		k.Kind = register.CaseReferral
	}
	if err := s.Cases.CreateCase(c.Request.Context(), k); err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, k)
}

func (s *Server) listCases(c *gin.Context) {
	limit, after, err := page(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	f := register.CaseFilter{Stage: register.Stage(c.Query("stage")), Limit: limit, After: after}
	if f.Stage != "" && !f.Stage.Valid() {
		s.Error(c, register.FieldError("stage", "must be one of received, investigation, closed_no_case, referred_to_panel, hearing, decided, appealed, final"))
		return
	}
	if v := c.Query("register_number"); v != "" {
		if f.Number, err = register.ParseNumber(v); err != nil {
			s.Error(c, err)
			return
		}
	}
	cases, next, err := s.Cases.FindCases(c.Request.Context(), f)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(cases, next))
}

func (s *Server) getCase(c *gin.Context) {
	id, err := pathID(c, "case")
	if err != nil {
		s.Error(c, err)
		return
	}
	k, err := s.Cases.FindCase(c.Request.Context(), id)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, k)
}

type stageRequest struct {
	To     string `json:"to" validate:"required"`
	Reason string `json:"reason" validate:"max=1000"`
}

func (s *Server) moveCaseStage(c *gin.Context) {
	id, err := pathID(c, "case")
	if err != nil {
		s.Error(c, err)
		return
	}
	var req stageRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	k, err := s.Cases.MoveStage(c.Request.Context(), id, register.Stage(req.To), req.Reason)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, k)
}

type panelRequest struct {
	Members []panelMemberRequest `json:"members" validate:"required,max=20,dive"`
}

type panelMemberRequest struct {
	UserID int64  `json:"user_id" validate:"required,gt=0"`
	Seat   string `json:"seat" validate:"required,oneof=chair lay registrant"`
}

func (s *Server) setPanel(c *gin.Context) {
	id, err := pathID(c, "case")
	if err != nil {
		s.Error(c, err)
		return
	}
	var req panelRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	members := make([]*register.PanelMember, len(req.Members))
	for i, m := range req.Members {
		members[i] = &register.PanelMember{UserID: m.UserID, Seat: register.Seat(m.Seat)}
	}
	k, err := s.Cases.SetPanel(c.Request.Context(), id, members)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, k)
}

type decisionRequest struct {
	Kind            string             `json:"kind" validate:"required"`
	Conditions      []conditionRequest `json:"conditions" validate:"max=10,dive"`
	Months          int                `json:"months" validate:"gte=0,lte=60"`
	PublicSummary   string             `json:"public_summary" validate:"required,max=2000"`
	Reasons         string             `json:"reasons" validate:"required,max=20000"`
	Immediate       bool               `json:"immediate"`
	RegisteredUntil string             `json:"registered_until" validate:"omitempty,datetime=2006-01-02"`
}

type conditionRequest struct {
	Code string `json:"code" validate:"required"`
	Text string `json:"text" validate:"required,max=500"`
}

func (r *decisionRequest) decision() *register.Decision {
	d := &register.Decision{Kind: register.DecisionKind(r.Kind), Months: r.Months, PublicSummary: r.PublicSummary,
		Reasons: r.Reasons, Immediate: r.Immediate, Conditions: make([]register.Condition, len(r.Conditions))}
	for i, c := range r.Conditions {
		d.Conditions[i] = register.Condition{Code: register.ConditionCode(c.Code), Text: c.Text}
	}
	if r.RegisteredUntil != "" {
		d.RegisteredUntil = register.MustDate(r.RegisteredUntil)
	}
	return d
}

func (s *Server) proposeDecision(c *gin.Context) {
	id, err := pathID(c, "case")
	if err != nil {
		s.Error(c, err)
		return
	}
	var req decisionRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	d := req.decision()
	if err := s.Cases.ProposeDecision(c.Request.Context(), id, d); err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, d)
}

type voteRequest struct {
	Vote string `json:"vote" validate:"required,oneof=agree disagree"`
}

func (s *Server) vote(c *gin.Context) {
	id, err := pathID(c, "decision")
	if err != nil {
		s.Error(c, err)
		return
	}
	var req voteRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	d, err := s.Cases.Vote(c.Request.Context(), id, req.Vote)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, d)
}

type appealRequest struct {
	Reason string `json:"reason" validate:"max=1000"`
}

func (s *Server) appealCase(c *gin.Context) {
	id, err := pathID(c, "case")
	if err != nil {
		s.Error(c, err)
		return
	}
	var req appealRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	k, err := s.Cases.Appeal(c.Request.Context(), id, req.Reason)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, k)
}

type appealOutcomeRequest struct {
	Result   string           `json:"result" validate:"required,oneof=upheld varied quashed"`
	Decision *decisionRequest `json:"decision"`
}

func (s *Server) appealOutcome(c *gin.Context) {
	id, err := pathID(c, "case")
	if err != nil {
		s.Error(c, err)
		return
	}
	var req appealOutcomeRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	var variation *register.Decision
	if req.Decision != nil {
		variation = req.Decision.decision()
	}
	k, err := s.Cases.DecideAppeal(c.Request.Context(), id, register.AppealResult(req.Result), variation)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, k)
}

// myCase is a case as the registrant it concerns sees it: the allegation
// and the decisions made, without the referral's source, the panel, or
// the panel's deliberation (proposals not made, votes).
type myCase struct {
	ID           int64             `json:"id"`
	Kind         register.CaseKind `json:"kind"`
	Category     register.Category `json:"category,omitempty"`
	Allegation   string            `json:"allegation"`
	Stage        register.Stage    `json:"stage"`
	Opened       time.Time         `json:"opened_at"`
	DecidedAt    *time.Time        `json:"decided_at,omitempty"`
	AppealEndsAt *time.Time        `json:"appeal_ends_at,omitempty"`
	AppealedAt   *time.Time        `json:"appealed_at,omitempty"`
	Decisions    []myDecision      `json:"decisions"`
}

type myDecision struct {
	ID              int64                 `json:"id"`
	Kind            register.DecisionKind `json:"kind"`
	Conditions      []register.Condition  `json:"conditions"`
	Months          int                   `json:"months,omitempty"`
	RegisteredUntil register.Date         `json:"registered_until,omitzero"`
	PublicSummary   string                `json:"public_summary"`
	Reasons         string                `json:"reasons"`
	Immediate       bool                  `json:"immediate"`
	DecidedAt       *time.Time            `json:"decided_at"`
	TakesEffectAt   *time.Time            `json:"takes_effect_at"`
	Varies          int64                 `json:"varies,omitempty"`
	AppealResult    register.AppealResult `json:"appeal_result,omitempty"`
}

func newMyCase(k *register.Case) myCase {
	v := myCase{ID: k.ID, Kind: k.Kind, Category: k.Category, Allegation: k.Allegation, Stage: k.Stage, Opened: k.Opened,
		DecidedAt: k.DecidedAt, AppealEndsAt: k.AppealEndsAt, AppealedAt: k.AppealedAt, Decisions: []myDecision{}}
	for _, d := range k.Decisions {
		if d.State != register.DecisionMade {
			continue
		}
		v.Decisions = append(v.Decisions, myDecision{ID: d.ID, Kind: d.Kind, Conditions: d.Conditions, Months: d.Months,
			RegisteredUntil: d.RegisteredUntil, PublicSummary: d.PublicSummary, Reasons: d.Reasons, Immediate: d.Immediate,
			DecidedAt: d.DecidedAt, TakesEffectAt: d.TakesEffectAt, Varies: d.Varies, AppealResult: d.AppealResult})
	}
	return v
}

func (s *Server) myCases(c *gin.Context) {
	id, err := me(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	limit, after, err := page(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	cases, next, err := s.Cases.FindCases(c.Request.Context(), register.CaseFilter{RegistrantID: id, Limit: limit, After: after})
	if err != nil {
		s.Error(c, err)
		return
	}
	items := make([]myCase, len(cases))
	for i, k := range cases {
		items[i] = newMyCase(k)
	}
	c.JSON(http.StatusOK, newList(items, next))
}
