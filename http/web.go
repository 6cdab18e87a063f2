package http

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
)

//go:embed templates/*.html static/*.css
var webFiles embed.FS

// contentSecurityPolicy allows nothing but this site's own styles, images
// and form targets: the pages have no script at all.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// pages holds each page template parsed with the shared layout.
var pages = parsePages()

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"instant": func(t time.Time) string { return t.UTC().Format("2 January 2006 at 15:04 UTC") },
		"day":     func(t time.Time) string { return t.UTC().Format("2 January 2006") },
		"date": func(d register.Date) string {
			if d.IsZero() {
				return ""
			}
			return d.Start().Format("2 January 2006")
		},
		"fieldMessage": fieldMessage,
		"checkMethod":  checkMethod,
		"checkPurpose": checkPurpose,
		"sameMinute":   func(a, b time.Time) bool { return a.Truncate(time.Minute).Equal(b.Truncate(time.Minute)) },
		"words": func(s any) string {
			w := strings.ReplaceAll(toString(s), "_", " ")
			if w == "" {
				return w
			}
			return strings.ToUpper(w[:1]) + w[1:]
		},
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(webFiles, "templates/layout.html"))
	names, err := fs.Glob(webFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(webFiles, n))
	}
	return out
}

// fieldNames name the form fields whose reasons, like the API's, leave
// the field out ("must be at most 24"); other reasons are whole sentences.
var fieldNames = map[string]string{"date": "Date", "title": "Title", "category": "Category", "hours": "Hours",
	"reflection": "Reflection", "evidence_ref": "Evidence reference", "email": "Email"}

// fieldMessage is a field's reason as a sentence for the error summary.
func fieldMessage(field, reason string) string {
	if n, ok := fieldNames[field]; ok {
		return n + " " + reason
	}
	return reason
}

// checkMethod says in words how a record was checked.
func checkMethod(m string) string {
	switch m {
	case "bulk_check":
		return "Through the register's checking service"
	case "share_code":
		return "With a share code"
	}
	return m
}

// checkPurpose says in words why a record was checked.
func checkPurpose(p register.CheckPurpose) string {
	switch p {
	case register.PurposePreEmployment:
		return "Before employment"
	case register.PurposePlacement:
		return "Before a placement"
	case register.PurposePeriodic:
		return "Periodic check"
	case "share_code":
		return "To see the record you shared"
	}
	return string(p)
}

func toString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case register.Status:
		return string(s)
	case register.OrderKind:
		return string(s)
	case register.CPDCategory:
		return string(s)
	case register.QualificationState:
		return string(s)
	case register.RenewalState:
		return string(s)
	case register.ConditionCode:
		return string(s)
	}
	return ""
}

// view is what every page template receives.
type view struct {
	Title string
	// Errors name each failing form field with its reason, shown next to the field.
	Errors map[string]string
	// Problem is a message for the whole page (error summary).
	Problem string
	CSRF    string
	User    *register.User
	Data    any
}

// webRoutes registers the HTML pages: public pages under the public rate
// limit, the registrant's own pages behind a session cookie.
func (s *Server) webRoutes(e *gin.Engine) {
	s.webSessions = newWebSessions(s.Sessions)
	static, err := fs.Sub(webFiles, "static")
	if err != nil {
		panic(err)
	}
	e.GET("/static/*file", webHeaders, gin.WrapH(http.StripPrefix("/static/", http.FileServer(http.FS(static)))))
	// Browsers ask for an icon on every site; there is none, and a 404 would be logged.
	e.GET("/favicon.ico", func(c *gin.Context) { c.Status(http.StatusNoContent) })

	public := e.Group("", webHeaders, s.PageLimit())
	public.GET("/", s.webSearch)
	public.GET("/r/:number", s.webRecord)
	public.GET("/r/:number/certificate", s.webCertificate)
	public.GET("/r/:number/qr.png", s.webQR)
	public.GET("/sign-in", s.webSignInForm)
	public.POST("/sign-in", s.webSignIn)

	staff := e.Group("", webHeaders, s.PageLimit(), s.webAuthenticate)
	staff.POST("/sign-out", s.webSignOut)
	mine := staff.Group("/me", s.require(register.RoleRegistrant))
	mine.GET("", s.webMe)
	mine.GET("/cpd/new", s.webCPDForm)
	mine.POST("/cpd", s.webCreateCPD)
	mine.GET("/cpd/:id/edit", s.webCPDForm)
	mine.POST("/cpd/:id", s.webUpdateCPD)
	mine.POST("/renewal", s.webRenewal)
}

// webHeaders sets the security headers every page carries.
func webHeaders(c *gin.Context) {
	setWebHeaders(c.Writer.Header())
	c.Next()
}

func setWebHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
}

// apiPrefixes are the paths machines call: an unknown path under them is
// answered in JSON, like the rest of the API.
var apiPrefixes = []string{"/v1/", "/.well-known/"}

// apiPaths are the exact machine paths outside the prefixes.
var apiPaths = map[string]bool{"/v1": true, "/healthz": true, "/readyz": true, "/openapi.yaml": true, "/.well-known": true}

func isAPIPath(p string) bool {
	if apiPaths[p] {
		return true
	}
	for _, pre := range apiPrefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// noRoute answers a path that matches no route: the API's JSON error for
// machine paths, else a page that leads back to the search, since a person
// with a browser followed a stale or mistyped link.
func (s *Server) noRoute(c *gin.Context) {
	if isAPIPath(c.Request.URL.Path) {
		s.Error(c, register.Errorf(register.ENOTFOUND, "No such endpoint."))
		return
	}
	setWebHeaders(c.Writer.Header())
	s.webError(c, register.Errorf(register.ENOTFOUND, "There is no page at this address. Check the address, or search the register by name or register number."))
}

// noMethod answers a method a route does not take: JSON for the API, a
// page for browsers.
func (s *Server) noMethod(c *gin.Context) {
	if isAPIPath(c.Request.URL.Path) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "method_not_allowed", Message: "That method is not allowed here."}})
		return
	}
	setWebHeaders(c.Writer.Header())
	s.render(c, http.StatusMethodNotAllowed, "error", &view{Title: "This cannot be done here", Problem: "This page cannot do that. Go back and try again, or search the register."})
	c.Abort()
}

// render writes a page. Pages are rendered to a buffer first, so that a
// template failure gives a clean error page, never half a page.
func (s *Server) render(c *gin.Context, status int, name string, v *view) {
	if v.User == nil {
		if u, ok := c.Get(userKey); ok {
			v.User = u.(*register.User)
		}
	}
	if v.CSRF == "" {
		if ws, ok := c.Get(webSessionKey); ok {
			v.CSRF = ws.(*webSession).csrf
		}
	}
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.Logger.Error("render page", slog.String("request_id", requestID(c)), slog.String("page", name), slog.Any("error", err))
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Internal error."))
		c.Abort()
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// webError renders an error page with the status the API would give.
func (s *Server) webError(c *gin.Context, err error) {
	code := s.noteError(c, err)
	title := map[int]string{400: "There is a problem", 401: "Sign in", 403: "You cannot see this page",
		404: "Page not found", 409: "This cannot be done now", 429: "Too many requests", 503: "Please try again in a few seconds"}[ErrorStatus(code)]
	if title == "" {
		title = "Sorry, there is a problem with the service"
	}
	s.render(c, ErrorStatus(code), "error", &view{Title: title, Problem: register.ErrorMessage(err)})
	c.Abort()
}

const (
	sessionCookie = "register_session"
	signInCookie  = "register_signin"
	webSessionKey = "web_session"
	webSessionTTL = 8 * time.Hour
)

// WebSessionStore keeps the signed-in browsers of the pages, by the hash
// of the cookie value, so that a restart signs no one out. The server's
// SessionService must implement it (register/sqlite's UserService does).
type WebSessionStore interface {
	// CreateWebSession stores a session; expired ones may be deleted.
	CreateWebSession(ctx context.Context, tokenHash string, userID int64, csrf string, expires time.Time) error
	// FindWebSession returns a live session; ENOTFOUND if unknown or expired.
	FindWebSession(ctx context.Context, tokenHash string) (userID int64, csrf string, expires time.Time, err error)
	// DeleteWebSession ends a session; unknown hashes are ignored.
	DeleteWebSession(ctx context.Context, tokenHash string) error
}

// webSession is a signed-in browser.
type webSession struct {
	userID  int64
	csrf    string
	expires time.Time
}

// webSessions hands out and finds sessions. Only the SHA-256 hash of the
// cookie value reaches the store, so a copy of the database holds no
// usable cookie.
type webSessions struct{ store WebSessionStore }

func newWebSessions(sessions register.SessionService) *webSessions {
	store, ok := sessions.(WebSessionStore)
	if !ok {
		panic("http: Server.Sessions must also keep web sessions (WebSessionStore)")
	}
	return &webSessions{store: store}
}

// create stores a new session and returns its cookie value.
func (w *webSessions) create(ctx context.Context, userID int64, now time.Time) (string, error) {
	token, hash := auth.NewRefreshToken()
	csrf, _ := auth.NewRefreshToken()
	if err := w.store.CreateWebSession(ctx, hash, userID, csrf, now.Add(webSessionTTL)); err != nil {
		return "", err
	}
	return token, nil
}

// find returns the live session of a cookie value, nil if there is none.
func (w *webSessions) find(ctx context.Context, token string, now time.Time) (*webSession, error) {
	id, csrf, expires, err := w.store.FindWebSession(ctx, auth.HashToken(token))
	if register.ErrorCode(err) == register.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	// The store refuses expired sessions by its own clock; the server's
	// clock decides too, so both must agree that a session is live.
	if !now.Before(expires) {
		return nil, nil
	}
	return &webSession{userID: id, csrf: csrf, expires: expires}, nil
}

func (w *webSessions) delete(ctx context.Context, token string) error {
	return w.store.DeleteWebSession(ctx, auth.HashToken(token))
}

// setCookie writes a cookie the pages' scripts (there are none) and other
// sites cannot use: HttpOnly, SameSite=Lax, Secure over TLS.
func setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// webAuthenticate loads the session's user afresh (a disabled user is
// signed out at once) and checks the CSRF token on every POST.
func (s *Server) webAuthenticate(c *gin.Context) {
	cookie, err := c.Cookie(sessionCookie)
	var ws *webSession
	if err == nil && cookie != "" {
		if ws, err = s.webSessions.find(c.Request.Context(), cookie, s.Now()); err != nil {
			s.webError(c, err)
			return
		}
	}
	if ws == nil {
		c.Redirect(http.StatusSeeOther, "/sign-in")
		c.Abort()
		return
	}
	u, err := s.Users.FindUserByID(c.Request.Context(), ws.userID)
	if register.ErrorCode(err) == register.ENOTFOUND || (err == nil && u.Disabled) {
		if err := s.webSessions.delete(c.Request.Context(), cookie); err != nil {
			s.webError(c, err)
			return
		}
		setCookie(c, sessionCookie, "", -1)
		c.Redirect(http.StatusSeeOther, "/sign-in")
		c.Abort()
		return
	} else if err != nil {
		s.webError(c, err)
		return
	}
	if c.Request.Method == http.MethodPost && !sameToken(c.PostForm("csrf"), ws.csrf) {
		s.webError(c, register.Errorf(register.EFORBIDDEN, "The form has expired. Go back, reload the page and try again."))
		return
	}
	c.Set(userKey, u)
	c.Set(webSessionKey, ws)
	c.Request = c.Request.WithContext(register.NewContextWithActor(c.Request.Context(), register.UserActor(u, c.ClientIP())))
	c.Next()
}

func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

type signInData struct{ Email string }

// webSignInForm shows the sign-in form. Before a session exists the CSRF
// token is a random value in a cookie that the form must echo.
func (s *Server) webSignInForm(c *gin.Context) {
	token, _ := auth.NewRefreshToken()
	setCookie(c, signInCookie, token, 3600)
	s.render(c, http.StatusOK, "signin", &view{Title: "Sign in", CSRF: token, Data: signInData{}})
}

func (s *Server) webSignIn(c *gin.Context) {
	email, password := strings.TrimSpace(c.PostForm("email")), c.PostForm("password")
	want, _ := c.Cookie(signInCookie)
	if !sameToken(c.PostForm("csrf"), want) {
		s.webError(c, register.Errorf(register.EFORBIDDEN, "The form has expired. Go back, reload the page and try again."))
		return
	}
	again := func(status int, errs map[string]string) {
		token, _ := auth.NewRefreshToken()
		setCookie(c, signInCookie, token, 3600)
		s.render(c, status, "signin", &view{Title: "Sign in", CSRF: token, Errors: errs, Data: signInData{Email: email}})
	}
	v := register.Validation{}
	if email == "" {
		v.Add("email", "is required")
	} else if len(email) > 254 {
		v.Add("email", "must be at most 254 characters")
	}
	if password == "" {
		v.Add("password", "is required")
	} else if len(password) > 256 {
		v.Add("password", "must be at most 256 characters")
	}
	if len(v) > 0 {
		again(http.StatusBadRequest, v)
		return
	}
	ctx := c.Request.Context()
	if s.webLoginThrottled(c, email) {
		return
	}
	u, hash, err := s.Users.FindUserByEmail(ctx, email)
	if err != nil && register.ErrorCode(err) != register.ENOTFOUND {
		s.webError(c, err)
		return
	}
	ok, err := s.Passwords.Compare(ctx, password, hash)
	if err != nil {
		s.webError(c, err)
		return
	}
	if !ok || u.Disabled {
		var id int64
		if u != nil {
			id = u.ID
		}
		s.loginFailed(ctx, c, email)
		if err := s.Sessions.RecordLogin(ctx, email, id, false, c.ClientIP()); err != nil {
			s.webError(c, err)
			return
		}
		again(http.StatusUnauthorized, map[string]string{"password": "The email or password is wrong."})
		return
	}
	s.loginSucceeded(ctx, email)
	if err := s.Sessions.RecordLogin(ctx, email, u.ID, true, c.ClientIP()); err != nil {
		s.webError(c, err)
		return
	}
	// The session is created by the user who signed in, from their address.
	token, err := s.webSessions.create(register.NewContextWithActor(ctx, register.UserActor(u, c.ClientIP())), u.ID, s.Now())
	if err != nil {
		s.webError(c, err)
		return
	}
	setCookie(c, signInCookie, "", -1)
	setCookie(c, sessionCookie, token, int(webSessionTTL.Seconds()))
	c.Redirect(http.StatusSeeOther, "/me")
}

// webLoginThrottled applies the API's login throttle, answering with a page.
func (s *Server) webLoginThrottled(c *gin.Context, email string) bool {
	l := s.limits()
	if l.loginAccount == nil {
		return false
	}
	for _, key := range []string{loginKey(email), "addr:" + c.ClientIP()} {
		lim := l.loginAccount
		if strings.HasPrefix(key, "addr:") {
			lim = l.loginAddr
		}
		lc, err := lim.Peek(c.Request.Context(), key)
		if err != nil {
			s.webError(c, err)
			return true
		}
		if lc.Remaining <= 0 {
			// A refused attempt is still an attempt: audit it like a failure.
			if err := s.Sessions.RecordLogin(c.Request.Context(), email, 0, false, c.ClientIP()); err != nil {
				s.Logger.Error("audit throttled login", slog.String("request_id", requestID(c)), slog.Any("error", err))
			}
			retryAfter(c, lc.Reset)
			s.webError(c, register.Errorf(register.ERATELIMIT, "Too many failed sign-in attempts. Wait a few minutes and try again."))
			return true
		}
	}
	return false
}

func (s *Server) webSignOut(c *gin.Context) {
	if cookie, err := c.Cookie(sessionCookie); err == nil {
		if err := s.webSessions.delete(c.Request.Context(), cookie); err != nil {
			s.webError(c, err)
			return
		}
	}
	setCookie(c, sessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, "/")
}
