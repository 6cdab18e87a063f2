package http

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

// TestOrganisationLimitKey checks the organisation limiter's key: one budget
// per organisation, falling back to one per user.
func TestOrganisationLimitKey(t *testing.T) {
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: RateLimits{Organisation: "2-H"}}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/x", func(c *gin.Context) {
		if org := c.Query("org"); org != "" {
			c.Set(orgKey, &register.OrgPrincipal{OrganisationID: map[string]int64{"a": 1, "b": 2}[org]})
		}
		c.Set(userKey, &register.User{ID: map[string]int64{"u1": 1, "u2": 2, "e1": 3, "e2": 4}[c.Query("user")],
			OrganisationID: map[string]int64{"e1": 7, "e2": 7}[c.Query("user")]})
	}, s.OrganisationLimit(), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	get := func(q string) int {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest("GET", "/x?"+q, nil))
		return w.Code
	}
	for _, c := range []struct {
		q    string
		want int
	}{
		{"org=a&user=u1", 204}, {"org=a&user=u2", 204}, {"org=a&user=u1", 429}, // one budget for org a, whoever asks
		{"org=b&user=u1", 204},                                                 // org b has its own
		{"user=u1", 204}, {"user=u1", 204}, {"user=u1", 429}, {"user=u2", 204}, // no org: per user
		{"user=e1", 204}, {"user=e2", 204}, {"user=e1", 429}, // two users of the user's own organisation 7 share
	} {
		if got := get(c.q); got != c.want {
			t.Fatalf("%s: status %d, want %d", c.q, got, c.want)
		}
	}
}
