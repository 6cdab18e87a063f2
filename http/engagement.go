package http

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

type engagementRequest struct {
	Number string         `json:"register_number" validate:"required,max=20"`
	Role   string         `json:"role" validate:"required"`
	Type   string         `json:"type" validate:"required"`
	From   *register.Date `json:"from" validate:"required"`
	Until  *register.Date `json:"until"`
}

func (s *Server) createEngagement(c *gin.Context) {
	var req engagementRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	e := &register.Engagement{Number: req.Number, Role: req.Role, Type: register.EngagementType(req.Type), From: *req.From, Until: req.Until}
	if err := s.Engagements.CreateEngagement(c.Request.Context(), org(c), e); err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, e)
}

func (s *Server) listEngagements(c *gin.Context) {
	es, err := s.Engagements.FindEngagements(c.Request.Context(), org(c))
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": es})
}

func (s *Server) getEngagement(c *gin.Context) {
	id, err := pathID(c, "engagement")
	if err != nil {
		s.Error(c, err)
		return
	}
	e, err := s.Engagements.FindEngagement(c.Request.Context(), org(c), id)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, e)
}

type endEngagementRequest struct {
	Until *register.Date `json:"until" validate:"required"`
}

func (s *Server) endEngagement(c *gin.Context) {
	id, err := pathID(c, "engagement")
	if err != nil {
		s.Error(c, err)
		return
	}
	var req endEngagementRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	e, err := s.Engagements.EndEngagement(c.Request.Context(), org(c), id, *req.Until)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, e)
}

type referralRequest struct {
	Number     string `json:"register_number" validate:"required,max=20"`
	Category   string `json:"category" validate:"required"`
	Allegation string `json:"allegation" validate:"required,max=10000"`
}

// createReferral opens a fitness-to-practise case about someone the
// organisation engages (including dismissal for malpractice).
func (s *Server) createReferral(c *gin.Context) {
	var req referralRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	n, err := register.ParseNumber(req.Number)
	if err != nil {
		s.Error(c, err)
		return
	}
	k := &register.Case{Number: n, Category: register.Category(req.Category), Allegation: req.Allegation}
	if err := s.Referrals.CreateReferral(c.Request.Context(), org(c), k); err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, referralResponse{ID: k.ID, Number: k.Number, Category: k.Category, Stage: k.Stage, Opened: k.Opened})
}

// referralResponse is what the referring organisation sees of the case it
// opened: not the panel, decisions or later stages.
type referralResponse struct {
	ID       int64             `json:"id"`
	Number   string            `json:"register_number"`
	Category register.Category `json:"category"`
	Stage    register.Stage    `json:"stage"`
	Opened   time.Time         `json:"opened_at"`
}
