package http

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

type renewalRequest struct {
	CPDDeclaration           *bool `json:"cpd_declaration" validate:"required"`
	GoodCharacterDeclaration *bool `json:"good_character_declaration" validate:"required"`
}

// requestRenewal asks to renew the signed-in registrant's registration.
func (s *Server) requestRenewal(c *gin.Context) {
	var req renewalRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	id, err := me(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	d := register.RenewalDeclaration{CPD: *req.CPDDeclaration, GoodCharacter: *req.GoodCharacterDeclaration}
	n, err := s.Renewals.RequestRenewal(c.Request.Context(), id, d)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, n)
}

func (s *Server) myRenewal(c *gin.Context) {
	id, err := me(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	n, err := s.Renewals.LatestRenewal(c.Request.Context(), id)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, n)
}

func (s *Server) listRenewals(c *gin.Context) {
	limit, after, err := page(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	f := register.RenewalFilter{State: register.RenewalState(c.Query("state")), Limit: limit, After: after}
	items, next, err := s.Renewals.FindRenewals(c.Request.Context(), f)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(items, next))
}

func (s *Server) approveRenewal(c *gin.Context) {
	if err := noBody(c); err != nil {
		s.Error(c, err)
		return
	}
	id, err := pathID(c, "renewal request")
	if err != nil {
		s.Error(c, err)
		return
	}
	n, err := s.Renewals.ApproveRenewal(c.Request.Context(), id)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, n)
}

type reasonRequest struct {
	Reason string `json:"reason" validate:"max=1000"`
}

func (s *Server) refuseRenewal(c *gin.Context) {
	var req reasonRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	id, err := pathID(c, "renewal request")
	if err != nil {
		s.Error(c, err)
		return
	}
	n, err := s.Renewals.RefuseRenewal(c.Request.Context(), id, req.Reason)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, n)
}

type sampleRequest struct {
	RenewalsDueBefore string   `json:"renewals_due_before" validate:"required,datetime=2006-01-02"`
	Rate              *float64 `json:"rate" validate:"required"`
	Seed              *int64   `json:"seed" validate:"required,gte=0"`
}

// sampleCPDAudits selects registrants due to renew for a CPD audit.
func (s *Server) sampleCPDAudits(c *gin.Context) {
	var req sampleRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	sample, err := s.CPDAudits.SampleCPDAudits(c.Request.Context(), register.SampleRequest{
		DueBefore: register.MustDate(req.RenewalsDueBefore), Rate: *req.Rate, Seed: uint64(*req.Seed),
	})
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, sample)
}

func (s *Server) listCPDAudits(c *gin.Context) {
	limit, after, err := page(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	f := register.CPDAuditFilter{State: register.CPDAuditState(c.Query("state")), Limit: limit, After: after}
	items, next, err := s.CPDAudits.FindCPDAudits(c.Request.Context(), f)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(items, next))
}

func (s *Server) passCPDAudit(c *gin.Context) { s.decideCPDAudit(c, s.CPDAudits.PassCPDAudit) }

func (s *Server) failCPDAudit(c *gin.Context) { s.decideCPDAudit(c, s.CPDAudits.FailCPDAudit) }

// decideCPDAudit reads the audit id and the reason, and passes or fails it.
func (s *Server) decideCPDAudit(c *gin.Context, decide func(context.Context, int64, string) (*register.CPDAudit, error)) {
	var req reasonRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	id, err := pathID(c, "CPD audit")
	if err != nil {
		s.Error(c, err)
		return
	}
	a, err := decide(c.Request.Context(), id, req.Reason)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

func (s *Server) myCPDAudit(c *gin.Context) {
	id, err := me(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	a, err := s.CPDAudits.LatestCPDAudit(c.Request.Context(), id)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

type evidenceItem struct {
	ActivityID  int64  `json:"activity_id" validate:"required"`
	EvidenceRef string `json:"evidence_ref" validate:"required,max=200"`
}

type submitAuditRequest struct {
	Evidence []evidenceItem `json:"evidence" validate:"required,min=1,max=200,dive"`
}

func (s *Server) submitCPDAudit(c *gin.Context) {
	var req submitAuditRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	id, err := me(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	evidence := make([]*register.CPDEvidence, len(req.Evidence))
	for i, e := range req.Evidence {
		evidence[i] = &register.CPDEvidence{ActivityID: e.ActivityID, EvidenceRef: e.EvidenceRef}
	}
	a, err := s.CPDAudits.SubmitCPDAudit(c.Request.Context(), id, evidence)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}
