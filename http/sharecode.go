package http

import (
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
)

type shareCodeRequest struct {
	Days int `json:"days" validate:"required,min=1,max=90"`
}

func (s *Server) createShareCode(c *gin.Context) {
	var req shareCodeRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	id, err := me(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	code, hash := auth.NewShareCode()
	sc, err := s.ShareCodes.CreateShareCode(c.Request.Context(), id, hash, code[len(code)-3:], req.Days)
	if err != nil {
		s.Error(c, err)
		return
	}
	sc.Code = code
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, sc)
}

func (s *Server) listShareCodes(c *gin.Context) {
	id, err := me(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	scs, err := s.ShareCodes.FindShareCodes(c.Request.Context(), id)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": scs})
}

func (s *Server) revokeShareCode(c *gin.Context) {
	if err := noBody(c); err != nil {
		s.Error(c, err)
		return
	}
	id, err := me(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	codeID, err := pathID(c, "share code")
	if err != nil {
		s.Error(c, err)
		return
	}
	sc, err := s.ShareCodes.RevokeShareCode(c.Request.Context(), id, codeID)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, sc)
}

// shared shows the holder of a live share code the fuller view, if they
// also know the family name; every use is logged for the registrant.
func (s *Server) shared(c *gin.Context) {
	code, name := c.Param("code"), c.Query("family_name")
	if n := utf8.RuneCountInString(name); n < 1 || n > 200 {
		s.Error(c, register.FieldError("family_name", "must be 1 to 200 characters"))
		return
	}
	if len(code) > 32 {
		s.Error(c, register.Errorf(register.ENOTFOUND, "No live share code matches that code and family name."))
		return
	}
	v, err := s.ShareCodes.UseShareCode(c.Request.Context(), auth.HashShareCode(code), name)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, v)
}
