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
	// Events serves organisations' feeds and Webhooks their webhooks (event.go).
	Events   register.EventService
	Webhooks register.WebhookService
	// WebhookInsecure accepts plain-http webhook addresses (development only).
	WebhookInsecure bool

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
	// batcher signs public receipts in batches (receipt.go).
	batcherOnce sync.Once
	batcher     *auth.ReceiptBatcher
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
	e.NoRoute(s.noRoute)   // JSON for the API, a page for browsers (web.go)
	e.NoMethod(s.noMethod) // likewise (web.go)
	s.routes(e)
	s.engine = e
}

// routes is the whole route table, one line per route. Who may call each
// route is not here but in the policy (policy.go), which authorise applies
// to every route: a route missing from the policy is refused.
func (s *Server) routes(e *gin.Engine) {
	e.Use(s.authorise)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/openapi.yaml", s.openapi)
	e.GET("/.well-known/jwks.json", s.jwks)

	v1 := e.Group("/v1")
	public := v1.Group("", s.PublicLimit())
	public.GET("/public/registrants/:number", s.publicRecord)
	public.GET("/public/search", s.publicSearch)
	public.POST("/auth/login", s.login)
	public.POST("/auth/refresh", s.refresh)
	public.POST("/auth/logout", s.logout)
	public.POST("/auth/activate", s.activate)
	public.POST("/receipts/verify", s.verifyReceipt)
	public.GET("/shared/:code", s.shared)

	// The regulator's staff.
	v1.POST("/registrants", s.createRegistrant)
	v1.GET("/registrants", s.listRegistrants)
	v1.GET("/registrants/:number", s.getRegistrant)
	v1.PATCH("/registrants/:number", s.updateRegistrant)
	v1.POST("/registrants/:number/qualifications", s.addQualification)
	v1.POST("/registrants/:number/qualifications/:id/verify", s.verifyQualification)
	v1.POST("/registrants/:number/registration/:transition", s.transition)
	v1.GET("/registrants/:number/history", s.history)
	v1.POST("/registrants/:number/account", s.issueActivation)
	v1.GET("/registrants/:number/cpd", s.registrantCPD)
	v1.GET("/renewals", s.listRenewals)
	v1.POST("/renewals/:id/approve", s.approveRenewal)
	v1.POST("/renewals/:id/refuse", s.refuseRenewal)
	v1.POST("/cpd-audits/sample", s.sampleCPDAudits)
	v1.GET("/cpd-audits", s.listCPDAudits)
	v1.POST("/cpd-audits/:id/pass", s.passCPDAudit)
	v1.POST("/cpd-audits/:id/fail", s.failCPDAudit)
	v1.POST("/users", s.createUser)
	v1.GET("/users", s.listUsers)
	v1.PATCH("/users/:id", s.updateUser)
	v1.POST("/organisations", s.createOrganisation)

	// Fitness to practise.
	v1.POST("/cases", s.createCase)
	v1.GET("/cases", s.listCases)
	v1.GET("/cases/:id", s.getCase)
	v1.POST("/cases/:id/stage", s.moveCaseStage)
	v1.PUT("/cases/:id/panel", s.setPanel)
	v1.POST("/cases/:id/decisions", s.proposeDecision)
	v1.POST("/decisions/:id/votes", s.vote)
	v1.POST("/cases/:id/appeal", s.appealCase)
	v1.POST("/cases/:id/appeal/outcome", s.appealOutcome)

	// A registrant's own record.
	v1.POST("/me/cpd", s.createCPD)
	v1.GET("/me/cpd", s.listCPD)
	v1.GET("/me/cpd/summary", s.cpdSummary)
	v1.GET("/me/cpd/:id", s.getCPD)
	v1.PATCH("/me/cpd/:id", s.updateCPD)
	v1.DELETE("/me/cpd/:id", s.deleteCPD)
	v1.POST("/me/renewal", s.requestRenewal)
	v1.GET("/me/renewal", s.myRenewal)
	v1.GET("/me/cpd-audit", s.myCPDAudit)
	v1.POST("/me/cpd-audit/submit", s.submitCPDAudit)
	v1.GET("/me/cases", s.myCases)
	v1.GET("/me/checks", s.myChecks)
	v1.POST("/me/share-codes", s.createShareCode)
	v1.GET("/me/share-codes", s.listShareCodes)
	v1.DELETE("/me/share-codes/:id", s.revokeShareCode)

	// Organisations, under their own request budget (ratelimit.go).
	orgs := v1.Group("", s.OrganisationLimit())
	orgs.GET("/organisations/:id", s.getOrganisation)
	orgs.POST("/organisations/:id/api-keys", s.createAPIKey)
	orgs.GET("/organisations/:id/api-keys", s.listAPIKeys)
	orgs.DELETE("/organisations/:id/api-keys/:key", s.revokeAPIKey)
	orgs.POST("/engagements", s.createEngagement)
	orgs.GET("/engagements", s.listEngagements)
	orgs.GET("/engagements/:id", s.getEngagement)
	orgs.POST("/engagements/:id/end", s.endEngagement)
	orgs.POST("/checks", s.createCheck)
	orgs.POST("/referrals", s.createReferral)
	orgs.GET("/watchlist", s.listWatches)
	orgs.PUT("/watchlist/:number", s.addWatch)
	orgs.DELETE("/watchlist/:number", s.removeWatch)
	orgs.GET("/events", s.listEvents)
	orgs.POST("/webhooks", s.createWebhook)
	orgs.GET("/webhooks", s.listWebhooks)
	orgs.GET("/webhooks/:id", s.getWebhook)
	orgs.DELETE("/webhooks/:id", s.deleteWebhook)
	orgs.GET("/webhooks/:id/attempts", s.listWebhookAttempts)

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
	switch {
	case c.Request.Context().Err() != nil: // the client went away: nothing to act on
	case status == http.StatusServiceUnavailable: // another writer held the lock: logged as a warning
		level = slog.LevelWarn
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelInfo
	}
	if !s.Logger.Enabled(c.Request.Context(), level) {
		return // the attributes below cost more than the lookup they describe
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
	if c.Request.Body != nil && c.Request.Body != http.NoBody { // nothing to limit on a GET
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
