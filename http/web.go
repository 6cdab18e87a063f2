package http

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
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
	s.webSessions = newWebSessions()
	static, err := fs.Sub(webFiles, "static")
	if err != nil {
		panic(err)
	}
	e.GET("/static/*file", webHeaders, gin.WrapH(http.StripPrefix("/static/", http.FileServer(http.FS(static)))))
	// Browsers ask for an icon on every site; there is none, and a 404 would be logged.
	e.GET("/favicon.ico", func(c *gin.Context) { c.Status(http.StatusNoContent) })

	public := e.Group("", webHeaders, s.PublicLimit())
	public.GET("/", s.webSearch)
	public.GET("/r/:number", s.webRecord)
	public.GET("/r/:number/certificate", s.webCertificate)
	public.GET("/r/:number/qr.png", s.webQR)
	public.GET("/sign-in", s.webSignInForm)
	public.POST("/sign-in", s.webSignIn)

	staff := e.Group("", webHeaders, s.PublicLimit(), s.webAuthenticate)
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
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	c.Next()
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
	code := register.ErrorCode(err)
	if code == register.EINTERNAL {
		s.Logger.Error("internal error", slog.String("request_id", requestID(c)), slog.String("path", c.FullPath()), slog.Any("error", err))
	}
	title := map[int]string{400: "There is a problem", 401: "Sign in", 403: "You cannot see this page",
		404: "Page not found", 409: "This cannot be done now", 429: "Too many requests"}[ErrorStatus(code)]
	if title == "" {
		title = "Sorry, there is a problem with the service"
	}
	s.render(c, ErrorStatus(code), "error", &view{Title: title, Problem: register.ErrorMessage(err)})
	c.Abort()
}

const (
	sessionCookie  = "register_session"
	signInCookie   = "register_signin"
	webSessionKey  = "web_session"
	webSessionTTL  = 8 * time.Hour
	maxWebSessions = 100_000
)

// webSession is a signed-in browser. Sessions live in memory, keyed by the
// hash of the cookie value, so a leaked memory dump holds no usable cookie.
type webSession struct {
	userID  int64
	csrf    string
	expires time.Time
}

type webSessions struct {
	mu sync.Mutex
	m  map[string]*webSession
}

func newWebSessions() *webSessions { return &webSessions{m: map[string]*webSession{}} }

// create stores a new session and returns its cookie value.
func (w *webSessions) create(userID int64, now time.Time) string {
	token, hash := auth.NewRefreshToken()
	csrf, _ := auth.NewRefreshToken()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.m) >= maxWebSessions {
		for k, v := range w.m {
			if !now.Before(v.expires) {
				delete(w.m, k)
			}
		}
	}
	w.m[hash] = &webSession{userID: userID, csrf: csrf, expires: now.Add(webSessionTTL)}
	return token
}

func (w *webSessions) find(token string, now time.Time) *webSession {
	hash := auth.HashToken(token)
	w.mu.Lock()
	defer w.mu.Unlock()
	ws := w.m[hash]
	if ws != nil && !now.Before(ws.expires) {
		delete(w.m, hash)
		return nil
	}
	return ws
}

func (w *webSessions) delete(token string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m, auth.HashToken(token))
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
		ws = s.webSessions.find(cookie, s.Now())
	}
	if ws == nil {
		c.Redirect(http.StatusSeeOther, "/sign-in")
		c.Abort()
		return
	}
	u, err := s.Users.FindUserByID(c.Request.Context(), ws.userID)
	if register.ErrorCode(err) == register.ENOTFOUND || (err == nil && u.Disabled) {
		s.webSessions.delete(cookie)
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
	setCookie(c, signInCookie, "", -1)
	setCookie(c, sessionCookie, s.webSessions.create(u.ID, s.Now()), int(webSessionTTL.Seconds()))
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
			s.webError(c, register.Errorf(register.ERATELIMIT, "Too many failed sign-in attempts. Wait a few minutes and try again."))
			return true
		}
	}
	return false
}

func (s *Server) webSignOut(c *gin.Context) {
	if cookie, err := c.Cookie(sessionCookie); err == nil {
		s.webSessions.delete(cookie)
	}
	setCookie(c, sessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, "/")
}
