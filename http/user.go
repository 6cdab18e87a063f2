package http

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
)

type createUserRequest struct {
	Email    string `json:"email" validate:"required,email,max=254"`
	Role     string `json:"role" validate:"required,oneof=admin registrar panel_member employer agency registrant"`
	Password string `json:"password" validate:"required,min=12,max=256"`
}

func (s *Server) createUser(c *gin.Context) {
	var req createUserRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	if err := auth.CheckPolicy(req.Password, req.Email); err != nil {
		s.Error(c, err)
		return
	}
	hash, err := s.Passwords.Hash(c.Request.Context(), req.Password)
	if err != nil {
		s.Error(c, err)
		return
	}
	u := &register.User{Email: req.Email, Role: register.Role(req.Role)}
	if err := s.Users.CreateUser(c.Request.Context(), u, hash); err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, u)
}

func (s *Server) listUsers(c *gin.Context) {
	limit, after, err := page(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	role := register.Role(c.Query("role"))
	if role != "" && !role.Valid() {
		s.Error(c, register.FieldError("role", "must be one of admin, registrar, panel_member, employer, agency, registrant"))
		return
	}
	users, err := s.Users.FindUsers(c.Request.Context(), register.UserFilter{Role: role, Limit: limit + 1, After: after})
	if err != nil {
		s.Error(c, err)
		return
	}
	var next *string
	if len(users) > limit {
		users = users[:limit]
		n := strconv.FormatInt(users[limit-1].ID, 10)
		next = &n
	}
	c.JSON(http.StatusOK, listResponse[*register.User]{Items: users, Next: next})
}

type updateUserRequest struct {
	Role     *string `json:"role" validate:"omitempty,oneof=admin registrar panel_member employer agency registrant"`
	Disabled *bool   `json:"disabled"`
}

func (s *Server) updateUser(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.Error(c, register.Errorf(register.ENOTFOUND, "User not found."))
		return
	}
	var req updateUserRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	if req.Role == nil && req.Disabled == nil {
		s.Error(c, register.Errorf(register.EINVALID, "Give role or disabled."))
		return
	}
	upd := register.UserUpdate{Disabled: req.Disabled}
	if req.Role != nil {
		r := register.Role(*req.Role)
		upd.Role = &r
	}
	u, err := s.Users.UpdateUser(c.Request.Context(), id, upd)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

// listResponse is the shape of every list: items and the cursor of the next page.
type listResponse[T any] struct {
	Items []T     `json:"items"`
	Next  *string `json:"next"`
}

// page reads limit (default 50, clamped to 200) and the after cursor.
func page(c *gin.Context) (int, int64, error) {
	limit := 50
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, register.FieldError("limit", "must be a whole number from 1 to 200")
		}
		limit = min(n, 200)
	}
	var after int64
	if v := c.Query("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, register.FieldError("after", "must be a cursor from a previous page")
		}
		after = n
	}
	return limit, after, nil
}
