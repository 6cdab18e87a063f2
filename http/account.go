package http

import (
	"crypto/rand"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
)

// codeAlphabet leaves out 0, 1, I and O, which are easily misread when a
// code is read aloud or copied from a letter.
const codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// newActivationCode returns 20 random characters (100 bits) in groups of four.
func newActivationCode() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	var sb strings.Builder
	for i, v := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[v%32])
	}
	return sb.String()
}

// activationHash is the stored form of a code as typed: case, spaces and
// dashes do not matter.
func activationHash(code string) string {
	code = strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToUpper(code))
	return auth.HashToken(code)
}

// issueActivation gives a registrar a one-time code to pass to the registrant.
func (s *Server) issueActivation(c *gin.Context) {
	if err := noBody(c); err != nil {
		s.Error(c, err)
		return
	}
	n, err := number(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	code := newActivationCode()
	expires, err := s.Accounts.IssueActivation(c.Request.Context(), n, activationHash(code))
	if err != nil {
		s.Error(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, register.Activation{Code: code, Expires: expires})
}

type activateRequest struct {
	Code     string `json:"code" validate:"required,max=64"`
	Password string `json:"password" validate:"required,max=256"`
}

// activate lets a registrant set their password with the code, once.
func (s *Server) activate(c *gin.Context) {
	var req activateRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	ctx := register.NewContextWithActor(c.Request.Context(), register.Actor{Name: "activation", Addr: c.ClientIP()})
	codeHash := activationHash(req.Code)
	email, err := s.Accounts.ActivationEmail(ctx, codeHash)
	if err != nil {
		s.Error(c, err)
		return
	}
	if err := auth.CheckPolicy(req.Password, email); err != nil {
		s.Error(c, err)
		return
	}
	if strings.EqualFold(strings.TrimSpace(req.Password), email) {
		s.Error(c, register.FieldError("password", "must not be the email address"))
		return
	}
	hash, err := s.Passwords.Hash(ctx, req.Password)
	if err != nil {
		s.Error(c, err)
		return
	}
	u, err := s.Accounts.Activate(ctx, codeHash, hash)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, u)
}

// me is the registrant the signed-in user is, read from their user record:
// a request never says whose record it touches.
func me(c *gin.Context) (int64, error) {
	u := c.MustGet(userKey).(*register.User)
	if u.RegistrantID == 0 {
		return 0, register.Errorf(register.EFORBIDDEN, "Your account is not linked to a registrant's record.")
	}
	return u.RegistrantID, nil
}
