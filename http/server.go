// Package http is the register's HTTP interface: the JSON API under /v1,
// health checks and the API description.
package http

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-contrib/requestid"
	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
)

// Server serves the register over HTTP. Set the fields, then use Handler.
type Server struct {
	Logger *slog.Logger
	Now    func() time.Time

	Registrants   register.RegistrantService
	Registrations register.RegistrationService
	Public        register.PublicService
	Users         register.UserService
	Sessions      register.SessionService
	Accounts      register.AccountService
	CPD           register.CPDService
	Renewals      register.RenewalService
	CPDAudits     register.CPDAuditService
	Cases         register.CaseService
	Organisations register.OrganisationService
	Engagements   register.EngagementService
	Checks        register.CheckService
	// Receipts signs verification receipts (receipt.go).
	Receipts *auth.Receipts
	// Referrals opens organisations' fitness-to-practise referrals.
	Referrals register.ReferralService
	// ShareCodes issues and answers registrants' share codes (sharecode.go).
	ShareCodes register.ShareCodeService
	// Watches keeps organisations' watch lists (watch.go).
	Watches register.WatchService

	Passwords  *auth.Passwords
	Tokens     *auth.Tokens
	RefreshTTL time.Duration

	// Ready reports whether the store can serve (for /readyz).
	Ready func(ctx context.Context) error
	// OpenAPI is the API description served at /openapi.yaml.
	OpenAPI []byte
	// TrustedProxies may set the client address through X-Forwarded-For;
	// none by default, so the address is the connection's.
	TrustedProxies []string
	// Limits are the request budgets (see ratelimit.go); empty is unlimited.
	Limits RateLimits
	// Idempotency stores answers to writes sent with an Idempotency-Key
	// (see idempotency.go); nil ignores the header.
	Idempotency IdempotencyStore
	// PublicURL is the register's public address (e.g. https://register.example),
	// used in certificate QR codes; empty uses the address of each request.
	PublicURL string

	once      sync.Once
	engine    *gin.Engine
	limitOnce sync.Once
	limiters  *limiters
	// webSessions are the signed-in browsers of the HTML pages (web.go).
	webSessions *webSessions
}

// Handler returns the server's routes, building them on first use.
func (s *Server) Handler() http.Handler {
	s.once.Do(s.build)
	return s.engine
}

// HTTPServer returns a net/http server for the handler with safe limits.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

func (s *Server) build() {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	if err := e.SetTrustedProxies(s.TrustedProxies); err != nil {
		panic(err) // checked by Config.Validate
	}
	e.Use(requestid.New(), s.logRequests, gin.CustomRecovery(s.recovered), limitBody)
	e.NoRoute(func(c *gin.Context) { s.Error(c, register.Errorf(register.ENOTFOUND, "No such endpoint.")) })
	e.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "method_not_allowed", Message: "That method is not allowed here."}})
	})
	s.routes(e)
	s.engine = e
}

// routes is the whole route table: public, then one group per role set.
func (s *Server) routes(e *gin.Engine) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/openapi.yaml", s.openapi)

	v1 := e.Group("/v1")
	v1.GET("/public/registrants/:number", s.PublicLimit(), s.publicRecord)
	v1.GET("/public/search", s.PublicLimit(), s.publicSearch)
	v1.POST("/auth/login", s.PublicLimit(), s.login)
	v1.POST("/auth/refresh", s.PublicLimit(), s.refresh)
	v1.POST("/auth/logout", s.PublicLimit(), s.logout)
	v1.POST("/auth/activate", s.PublicLimit(), s.activate)

	registrar := v1.Group("", s.authenticate, s.require(register.RoleRegistrar, register.RoleAdmin))
	registrar.POST("/registrants", s.createRegistrant)
	registrar.GET("/registrants", s.listRegistrants)
	registrar.GET("/registrants/:number", s.getRegistrant)
	registrar.PATCH("/registrants/:number", s.updateRegistrant)
	registrar.POST("/registrants/:number/qualifications", s.addQualification)
	registrar.POST("/registrants/:number/qualifications/:id/verify", s.verifyQualification)
	registrar.POST("/registrants/:number/registration/:transition", s.transition)
	registrar.GET("/registrants/:number/history", s.history)
	registrar.POST("/registrants/:number/account", s.issueActivation)
	// CPD reflections are private: the regulator's registrars read them, admins do not.
	registrar.GET("/registrants/:number/cpd", s.require(register.RoleRegistrar), s.registrantCPD)
	registrar.GET("/renewals", s.listRenewals)
	registrar.POST("/renewals/:id/approve", s.approveRenewal)
	registrar.POST("/renewals/:id/refuse", s.refuseRenewal)
	registrar.POST("/cpd-audits/sample", s.sampleCPDAudits)
	registrar.GET("/cpd-audits", s.listCPDAudits)
	registrar.POST("/cpd-audits/:id/pass", s.passCPDAudit)
	registrar.POST("/cpd-audits/:id/fail", s.failCPDAudit)
	registrar.POST("/cases", s.createCase)
	registrar.POST("/cases/:id/stage", s.moveCaseStage)
	registrar.PUT("/cases/:id/panel", s.setPanel)
	registrar.POST("/cases/:id/appeal", s.appealCase)
	registrar.POST("/cases/:id/appeal/outcome", s.appealOutcome)

	// Panel members read only the cases whose panel they sit on.
	casework := v1.Group("", s.authenticate, s.require(register.RoleRegistrar, register.RoleAdmin, register.RolePanelMember))
	casework.GET("/cases", s.listCases)
	casework.GET("/cases/:id", s.getCase)

	panel := v1.Group("", s.authenticate, s.require(register.RolePanelMember))
	panel.POST("/cases/:id/decisions", s.proposeDecision)
	panel.POST("/decisions/:id/votes", s.vote)

	me := v1.Group("/me", s.authenticate, s.require(register.RoleRegistrant))
	me.POST("/cpd", s.createCPD)
	me.GET("/cpd", s.listCPD)
	me.GET("/cpd/summary", s.cpdSummary)
	me.GET("/cpd/:id", s.getCPD)
	me.PATCH("/cpd/:id", s.updateCPD)
	me.DELETE("/cpd/:id", s.deleteCPD)
	me.POST("/renewal", s.requestRenewal)
	me.GET("/renewal", s.myRenewal)
	me.GET("/cpd-audit", s.myCPDAudit)
	me.POST("/cpd-audit/submit", s.submitCPDAudit)
	me.GET("/cases", s.myCases)
	me.GET("/checks", s.myChecks)
	me.POST("/share-codes", s.createShareCode)
	me.GET("/share-codes", s.listShareCodes)
	me.DELETE("/share-codes/:id", s.revokeShareCode)

	admin := v1.Group("", s.authenticate, s.require(register.RoleAdmin))
	admin.POST("/users", s.createUser)
	admin.GET("/users", s.listUsers)
	admin.PATCH("/users/:id", s.updateUser)

	// Organisations: an API key or an employer/agency user acts for its own
	// organisation only (organisation.go).
	v1.POST("/organisations", s.authenticate, s.require(register.RoleAdmin), s.createOrganisation)
	orgAdmin := v1.Group("/organisations/:id", s.authenticateOrg, s.orgOrAdmin, s.OrganisationLimit())
	orgAdmin.GET("", s.getOrganisation)
	orgAdmin.POST("/api-keys", s.createAPIKey)
	orgAdmin.GET("/api-keys", s.listAPIKeys)
	orgAdmin.DELETE("/api-keys/:key", s.revokeAPIKey)
	orgs := v1.Group("", s.authenticateOrg, s.orgOnly, s.OrganisationLimit())
	orgs.POST("/engagements", s.createEngagement)
	orgs.GET("/engagements", s.listEngagements)
	orgs.GET("/engagements/:id", s.getEngagement)
	orgs.POST("/engagements/:id/end", s.endEngagement)
	orgs.POST("/checks", s.createCheck)
	orgs.POST("/referrals", s.createReferral)
	orgs.GET("/watchlist", s.listWatches)
	orgs.PUT("/watchlist/:number", s.addWatch)
	orgs.DELETE("/watchlist/:number", s.removeWatch)
	e.GET("/.well-known/jwks.json", s.jwks)
	v1.POST("/receipts/verify", s.PublicLimit(), s.verifyReceipt)
	v1.GET("/shared/:code", s.PublicLimit(), s.shared)

	s.webRoutes(e) // HTML pages (web.go)
}

func requestID(c *gin.Context) string { return c.Writer.Header().Get("X-Request-ID") }

// logRequests logs one line per request: the route pattern, never the raw
// URL, so that query strings and path values stay out of the logs.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	} else if status >= 400 {
		level = slog.LevelInfo
	}
	s.Logger.LogAttrs(c.Request.Context(), level, "request",
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
		slog.String("client", c.ClientIP()),
	)
}

func (s *Server) recovered(c *gin.Context, v any) {
	s.Logger.Error("panic", slog.String("request_id", requestID(c)), slog.Any("panic", v))
	s.Error(c, register.Errorf(register.EINTERNAL, "Internal error."))
}

func limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes)
	}
	c.Next()
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		s.Logger.Warn("not ready", slog.Any("error", err))
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

func (s *Server) openapi(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml", s.OpenAPI)
}
