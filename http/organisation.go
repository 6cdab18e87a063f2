package http

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
)

const orgKey = "organisation"

// authenticateOrg accepts an organisation's API key: key reports whether
// the bearer credential is one (else the caller may still hold an access
// token), and err whether it was refused. The organisation is recorded as
// the principal and the request's actor.
func (s *Server) authenticateOrg(c *gin.Context) (key bool, err error) {
	token, _ := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !auth.IsAPIKey(token) {
		return false, nil
	}
	if len(token) > 128 {
		return true, unauthorized()
	}
	p, err := s.Organisations.AuthenticateAPIKey(c.Request.Context(), auth.HashToken(token))
	if err != nil {
		return true, err
	}
	p.Actor.Addr = c.ClientIP()
	c.Set(orgKey, p)
	c.Request = c.Request.WithContext(register.NewContextWithActor(c.Request.Context(), p.Actor))
	return true, nil
}

// bindOrg records the organisation of an employer or agency user as the
// principal; it reports false for any other user or one with no organisation.
func (s *Server) bindOrg(c *gin.Context) bool {
	if _, ok := c.Get(orgKey); ok {
		return true
	}
	u := c.MustGet(userKey).(*register.User)
	if (u.Role != register.RoleEmployer && u.Role != register.RoleAgency) || u.OrganisationID == 0 {
		return false
	}
	c.Set(orgKey, &register.OrgPrincipal{OrganisationID: u.OrganisationID, Kind: register.OrgKind(u.Role), Actor: register.UserActor(u, c.ClientIP())})
	return true
}

// org is the acting organisation's id (bound by authorise).
func org(c *gin.Context) int64 { return c.MustGet(orgKey).(*register.OrgPrincipal).OrganisationID }

// pathOrg is the organisation in the path, if the principal may act for it:
// an organisation acts only for itself, and another organisation answers
// exactly like a missing one.
func (s *Server) pathOrg(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, register.Errorf(register.ENOTFOUND, "Organisation not found.")
	}
	if p, ok := c.Get(orgKey); ok && p.(*register.OrgPrincipal).OrganisationID != id {
		return 0, register.Errorf(register.ENOTFOUND, "Organisation not found.")
	}
	if _, err := s.Organisations.FindOrganisation(c.Request.Context(), id); err != nil {
		return 0, err
	}
	return id, nil
}

type organisationRequest struct {
	Name string `json:"name" validate:"required,max=200"`
	Kind string `json:"kind" validate:"required,oneof=employer agency"`
}

func (s *Server) createOrganisation(c *gin.Context) {
	var req organisationRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	o := &register.Organisation{Name: req.Name, Kind: register.OrgKind(req.Kind)}
	if err := s.Organisations.CreateOrganisation(c.Request.Context(), o); err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, o)
}

func (s *Server) getOrganisation(c *gin.Context) {
	id, err := s.pathOrg(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	o, err := s.Organisations.FindOrganisation(c.Request.Context(), id)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, o)
}

type apiKeyRequest struct {
	Name string `json:"name" validate:"max=100"`
}

type apiKeyResponse struct {
	*register.APIKey
	// Key is the secret, shown this once.
	Key string `json:"key"`
}

func (s *Server) createAPIKey(c *gin.Context) {
	id, err := s.pathOrg(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	var req apiKeyRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	key, prefix, hash := auth.NewAPIKey()
	k, err := s.Organisations.CreateAPIKey(c.Request.Context(), id, req.Name, prefix, hash)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, apiKeyResponse{APIKey: k, Key: key})
}

func (s *Server) listAPIKeys(c *gin.Context) {
	id, err := s.pathOrg(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	keys, err := s.Organisations.FindAPIKeys(c.Request.Context(), id)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": keys})
}

func (s *Server) revokeAPIKey(c *gin.Context) {
	if err := noBody(c); err != nil {
		s.Error(c, err)
		return
	}
	id, err := s.pathOrg(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	keyID, err := strconv.ParseInt(c.Param("key"), 10, 64)
	if err != nil || keyID <= 0 {
		s.Error(c, register.Errorf(register.ENOTFOUND, "API key not found."))
		return
	}
	k, err := s.Organisations.RevokeAPIKey(c.Request.Context(), id, keyID)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, k)
}
