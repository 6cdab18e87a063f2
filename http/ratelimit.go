package http

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ulule/limiter/v3"
	ginlimiter "github.com/ulule/limiter/v3/drivers/middleware/gin"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"github.com/probation-register/register/register"
)

// RateLimits are request budgets in the limiter's "N-P" form ("300-M" is
// 300 a minute; P is S, M, H or D). An empty budget is no limit, so that a
// Server built without them (as in tests) is unlimited.
type RateLimits struct {
	// Public is per client address, on the public endpoints and pages.
	Public string
	// Organisation is per organisation (per user when there is none), on
	// organisation endpoints.
	Organisation string
	// LoginFailures is how many failed logins an account, and separately an
	// address, may make before login is refused for the rest of the period.
	LoginFailures string
}

// ParseRate checks a budget in the "N-P" form; "" is no limit.
func ParseRate(s string) (limiter.Rate, error) {
	if s == "" {
		return limiter.Rate{}, nil
	}
	r, err := limiter.NewRateFromFormatted(s)
	if err == nil && r.Limit < 1 {
		err = errors.New("the limit must be at least 1")
	}
	return r, err
}

// limiters are the server's counters, in memory: a restart forgets them,
// which errs towards serving.
type limiters struct {
	public, organisation *limiter.Limiter
	loginAccount         *limiter.Limiter
	loginAddr            *limiter.Limiter
}

func newLimiter(s string) *limiter.Limiter {
	r, err := ParseRate(s)
	if err != nil {
		panic(err) // checked by Config.Validate
	}
	if r.Limit == 0 {
		return nil
	}
	return limiter.New(memory.NewStore(), r)
}

func (s *Server) limits() *limiters {
	s.limitOnce.Do(func() {
		s.limiters = &limiters{
			public:       newLimiter(s.Limits.Public),
			organisation: newLimiter(s.Limits.Organisation),
			loginAccount: newLimiter(s.Limits.LoginFailures),
			loginAddr:    newLimiter(s.Limits.LoginFailures),
		}
	})
	return s.limiters
}

// PublicLimit limits a route per client address. The address is the
// connection's unless the configured trusted proxies vouch for another, so a
// forged X-Forwarded-For cannot pick a fresh budget.
func (s *Server) PublicLimit() gin.HandlerFunc {
	return s.limitBy(s.limits().public, addressKey)
}

// PageLimit is PublicLimit for the HTML pages: the same budget per address,
// shared with the API, but a refusal is a page, not a JSON body.
func (s *Server) PageLimit() gin.HandlerFunc {
	return s.limitWith(s.limits().public, addressKey, s.webError, s.webTooMany)
}

func addressKey(c *gin.Context) string { return "addr:" + c.ClientIP() }

// OrganisationLimit limits a route per organisation: the acting one (an API
// key's, or an employer or agency user's), else per user, else per address.
// Use it after the organisation is bound (by authorise, policy.go).
func (s *Server) OrganisationLimit() gin.HandlerFunc {
	return s.limitBy(s.limits().organisation, func(c *gin.Context) string {
		if p, ok := c.Get(orgKey); ok {
			return "org:" + strconv.FormatInt(p.(*register.OrgPrincipal).OrganisationID, 10)
		}
		if v, ok := c.Get(userKey); ok {
			u := v.(*register.User)
			if u.OrganisationID != 0 {
				return "org:" + strconv.FormatInt(u.OrganisationID, 10)
			}
			return "user:" + strconv.FormatInt(u.ID, 10)
		}
		return "addr:" + c.ClientIP()
	})
}

func (s *Server) limitBy(l *limiter.Limiter, key ginlimiter.KeyGetter) gin.HandlerFunc {
	return s.limitWith(l, key, s.Error, s.tooMany)
}

// limitWith limits a route, answering a store failure with fail and a spent
// budget with refuse (given the reset time in Unix seconds).
func (s *Server) limitWith(l *limiter.Limiter, key ginlimiter.KeyGetter, fail func(*gin.Context, error), refuse func(*gin.Context, int64)) gin.HandlerFunc {
	if l == nil {
		return func(c *gin.Context) { c.Next() }
	}
	return ginlimiter.NewMiddleware(l,
		ginlimiter.WithKeyGetter(key),
		ginlimiter.WithErrorHandler(fail),
		ginlimiter.WithLimitReachedHandler(func(c *gin.Context) {
			reset, _ := strconv.ParseInt(c.Writer.Header().Get("X-RateLimit-Reset"), 10, 64)
			refuse(c, reset)
		}),
	)
}

// retryAfter sets Retry-After to the whole seconds until reset (at least
// one) and returns them.
func retryAfter(c *gin.Context, reset int64) int64 {
	wait := max(reset-time.Now().Unix(), 1)
	c.Header("Retry-After", strconv.FormatInt(wait, 10))
	return wait
}

// tooMany answers 429 with Retry-After: the whole seconds until reset.
func (s *Server) tooMany(c *gin.Context, reset int64) {
	wait := retryAfter(c, reset)
	s.Error(c, register.Errorf(register.ERATELIMIT, "Too many requests; try again in %d seconds.", wait))
}

// webTooMany is tooMany for the HTML pages: a 429 page with Retry-After.
func (s *Server) webTooMany(c *gin.Context, reset int64) {
	wait := retryAfter(c, reset)
	s.webError(c, register.Errorf(register.ERATELIMIT, "You have made too many requests. Wait %s and try again.", waitWords(wait)))
}

// waitWords says a wait in seconds the way a person would.
func waitWords(secs int64) string {
	switch {
	case secs <= 1:
		return "a second"
	case secs < 120:
		return strconv.FormatInt(secs, 10) + " seconds"
	case secs < 7200:
		return strconv.FormatInt((secs+59)/60, 10) + " minutes"
	}
	return strconv.FormatInt((secs+3599)/3600, 10) + " hours"
}

// loginKey is the per-account key: emails compare case-insensitively.
func loginKey(email string) string { return "acct:" + strings.ToLower(strings.TrimSpace(email)) }

// loginThrottled reports whether the account or the address has used up its
// failed logins, answering 429 if so. Only failures count, so a user who
// signs in correctly is never throttled by their own successes.
func (s *Server) loginThrottled(c *gin.Context, email string) bool {
	l := s.limits()
	if l.loginAccount == nil {
		return false
	}
	ctx := c.Request.Context()
	for _, p := range []struct {
		l   *limiter.Limiter
		key string
	}{{l.loginAccount, loginKey(email)}, {l.loginAddr, "addr:" + c.ClientIP()}} {
		lc, err := p.l.Peek(ctx, p.key)
		if err != nil {
			s.Error(c, err)
			return true
		}
		if lc.Remaining <= 0 {
			s.tooMany(c, lc.Reset)
			return true
		}
	}
	return false
}

// loginFailed counts a failed login against the account and the address.
func (s *Server) loginFailed(ctx context.Context, c *gin.Context, email string) {
	l := s.limits()
	if l.loginAccount == nil {
		return
	}
	// The memory store cannot fail.
	_, _ = l.loginAccount.Increment(ctx, loginKey(email), 1)
	_, _ = l.loginAddr.Increment(ctx, "addr:"+c.ClientIP(), 1)
}

// loginSucceeded clears the account's failures; the address keeps its count.
func (s *Server) loginSucceeded(ctx context.Context, email string) {
	if l := s.limits(); l.loginAccount != nil {
		_, _ = l.loginAccount.Reset(ctx, loginKey(email))
	}
}
