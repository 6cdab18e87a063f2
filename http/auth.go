package http

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
)

const userKey = "user"

func unauthorized() error {
	return register.Errorf(register.EUNAUTHORIZED, "A valid access token is required.")
}

// authenticate accepts a bearer access token and loads its user afresh, so a
// disabled user or a changed role takes effect on the very next request.
// It records the user as the request's actor (authorise calls it).
func (s *Server) authenticate(c *gin.Context) (*register.User, error) {
	token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || token == "" {
		return nil, unauthorized()
	}
	id, err := s.Tokens.Verify(token)
	if err != nil {
		return nil, unauthorized()
	}
	u, err := s.Users.FindUserByID(c.Request.Context(), id)
	if register.ErrorCode(err) == register.ENOTFOUND || (err == nil && u.Disabled) {
		return nil, unauthorized()
	} else if err != nil {
		return nil, err
	}
	c.Set(userKey, u)
	c.Request = c.Request.WithContext(register.NewContextWithActor(c.Request.Context(), register.UserActor(u, c.ClientIP())))
	return u, nil
}

// require lets through only signed-in users with one of the roles (the
// pages' check after their session cookie; the API's routes use policy.go).
func (s *Server) require(roles ...register.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := c.MustGet(userKey).(*register.User)
		for _, r := range roles {
			if u.Role == r {
				c.Next()
				return
			}
		}
		s.Error(c, register.Errorf(register.EFORBIDDEN, "Your role may not do this."))
	}
}

type loginRequest struct {
	Email    string `json:"email" validate:"required,max=254"`
	Password string `json:"password" validate:"required,max=256"`
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

func (s *Server) login(c *gin.Context) {
	var req loginRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	ctx := c.Request.Context()
	if s.loginThrottled(c, req.Email) {
		// A refused attempt is still an attempt: audit it like a failure.
		if err := s.Sessions.RecordLogin(ctx, req.Email, 0, false, c.ClientIP()); err != nil {
			s.Logger.Error("audit throttled login", slog.String("request_id", requestID(c)), slog.Any("error", err))
		}
		return
	}
	u, hash, err := s.Users.FindUserByEmail(ctx, req.Email)
	if err != nil && register.ErrorCode(err) != register.ENOTFOUND {
		s.Error(c, err)
		return
	}
	ok, err := s.Passwords.Compare(ctx, req.Password, hash)
	if err != nil {
		s.Error(c, err)
		return
	}
	if !ok || u.Disabled {
		var id int64
		if u != nil {
			id = u.ID
		}
		s.loginFailed(ctx, c, req.Email)
		if err := s.Sessions.RecordLogin(ctx, req.Email, id, false, c.ClientIP()); err != nil {
			s.Error(c, err)
			return
		}
		s.Error(c, register.Errorf(register.EUNAUTHORIZED, "The email or password is wrong."))
		return
	}
	s.loginSucceeded(ctx, req.Email)
	ctx = register.NewContextWithActor(ctx, register.UserActor(u, c.ClientIP()))
	refresh, refreshHash := auth.NewRefreshToken()
	if err := s.Sessions.CreateSession(ctx, u.ID, refreshHash, s.Now().Add(s.RefreshTTL)); err != nil {
		s.Error(c, err)
		return
	}
	s.writeTokens(c, u, refresh)
}

func (s *Server) writeTokens(c *gin.Context, u *register.User, refresh string) {
	access, err := s.Tokens.Issue(u)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, tokenResponse{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int(s.Tokens.TTL.Seconds())})
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token" validate:"required,max=256"`
}

func (s *Server) refresh(c *gin.Context) {
	var req refreshRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	ctx := register.NewContextWithActor(c.Request.Context(), register.Actor{Name: "refresh", Addr: c.ClientIP()})
	next, nextHash := auth.NewRefreshToken()
	u, err := s.Sessions.RotateSession(ctx, auth.HashToken(req.RefreshToken), nextHash, s.Now().Add(s.RefreshTTL))
	if err != nil {
		s.Error(c, err)
		return
	}
	s.writeTokens(c, u, next)
}

func (s *Server) logout(c *gin.Context) {
	var req refreshRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	ctx := register.NewContextWithActor(c.Request.Context(), register.Actor{Name: "logout", Addr: c.ClientIP()})
	if err := s.Sessions.RevokeSession(ctx, auth.HashToken(req.RefreshToken)); err != nil {
		s.Error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
