package http

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

// number reads and checks the :number path value.
func number(c *gin.Context) (string, error) {
	return register.ParseNumber(c.Param("number"))
}

type createRegistrantRequest struct {
	FamilyName    string   `json:"family_name" validate:"required,max=100"`
	GivenNames    string   `json:"given_names" validate:"required,max=200"`
	DateOfBirth   string   `json:"date_of_birth" validate:"required,datetime=2006-01-02"`
	Email         string   `json:"email" validate:"required,email,max=254"`
	PreviousNames []string `json:"previous_names" validate:"max=20,dive,required,max=300"`
}

func (s *Server) createRegistrant(c *gin.Context) {
	var req createRegistrantRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	r := &register.Registrant{
		FamilyName:    req.FamilyName,
		GivenNames:    req.GivenNames,
		DateOfBirth:   register.MustDate(req.DateOfBirth),
		Email:         req.Email,
		PreviousNames: req.PreviousNames,
	}
	if err := s.Registrants.CreateRegistrant(c.Request.Context(), r); err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

func (s *Server) getRegistrant(c *gin.Context) {
	n, err := number(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	r, err := s.Registrants.FindRegistrant(c.Request.Context(), n)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) listRegistrants(c *gin.Context) {
	limit, after, err := page(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	f := register.RegistrantFilter{Name: c.Query("name"), Status: register.Status(c.Query("status")), Limit: limit, After: after}
	if utf8.RuneCountInString(f.Name) > 100 {
		s.Error(c, register.FieldError("name", "must be at most 100 characters"))
		return
	}
	rs, next, err := s.Registrants.FindRegistrants(c.Request.Context(), f)
	if err != nil {
		s.Error(c, err)
		return
	}
	resp := listResponse[*register.Registrant]{Items: rs}
	if next != 0 {
		n := strconv.FormatInt(next, 10)
		resp.Next = &n
	}
	c.JSON(http.StatusOK, resp)
}

type updateRegistrantRequest struct {
	FamilyName  *string `json:"family_name" validate:"omitempty,max=100"`
	GivenNames  *string `json:"given_names" validate:"omitempty,max=200"`
	DateOfBirth *string `json:"date_of_birth" validate:"omitempty,datetime=2006-01-02"`
	Email       *string `json:"email" validate:"omitempty,email,max=254"`
}

func (s *Server) updateRegistrant(c *gin.Context) {
	n, err := number(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	var req updateRegistrantRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	upd := register.RegistrantUpdate{FamilyName: req.FamilyName, GivenNames: req.GivenNames, Email: req.Email}
	if req.DateOfBirth != nil {
		d := register.MustDate(*req.DateOfBirth)
		upd.DateOfBirth = &d
	}
	if upd == (register.RegistrantUpdate{}) {
		s.Error(c, register.Errorf(register.EINVALID, "Give at least one of family_name, given_names, date_of_birth, email."))
		return
	}
	r, err := s.Registrants.UpdateRegistrant(c.Request.Context(), n, upd)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

type addQualificationRequest struct {
	Level          int    `json:"level" validate:"required,oneof=3 5"`
	Title          string `json:"title" validate:"required,max=200"`
	AwardingBody   string `json:"awarding_body" validate:"required,max=200"`
	AwardedOn      string `json:"awarded_on" validate:"omitempty,datetime=2006-01-02"`
	CertificateRef string `json:"certificate_ref" validate:"required,max=100"`
	State          string `json:"state" validate:"required,oneof=claimed in_training"`
}

func (s *Server) addQualification(c *gin.Context) {
	n, err := number(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	var req addQualificationRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	q := &register.Qualification{Level: req.Level, Title: req.Title, AwardingBody: req.AwardingBody,
		CertificateRef: req.CertificateRef, State: register.QualificationState(req.State)}
	if req.AwardedOn != "" {
		q.AwardedOn = register.MustDate(req.AwardedOn)
	}
	if err := s.Registrants.AddQualification(c.Request.Context(), n, q); err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, q)
}

func (s *Server) verifyQualification(c *gin.Context) {
	if err := noBody(c); err != nil {
		s.Error(c, err)
		return
	}
	n, err := number(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.Error(c, register.Errorf(register.ENOTFOUND, "Registrant %s has no qualification %s.", n, c.Param("id")))
		return
	}
	q, err := s.Registrants.VerifyQualification(c.Request.Context(), n, id)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, q)
}

type transitionRequest struct {
	RegisteredUntil string `json:"registered_until" validate:"omitempty,datetime=2006-01-02"`
	Reason          string `json:"reason" validate:"max=1000"`
}

func (s *Server) transition(c *gin.Context) {
	n, err := number(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	tr := register.Transition(c.Param("transition"))
	switch tr {
	case register.TransitionAdmit, register.TransitionRenew, register.TransitionLapse, register.TransitionRestore:
	default:
		s.Error(c, register.Errorf(register.ENOTFOUND, "No such endpoint."))
		return
	}
	var req transitionRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	var until register.Date
	if req.RegisteredUntil != "" {
		until = register.MustDate(req.RegisteredUntil)
	}
	st, err := s.Registrations.Transition(c.Request.Context(), n, tr, until, req.Reason)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func (s *Server) history(c *gin.Context) {
	n, err := number(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	ps, err := s.Registrations.History(c.Request.Context(), n)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"register_number": n, "items": ps})
}
