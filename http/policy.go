package http

import (
	"log/slog"
	"maps"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

// Principal is a kind of caller the authorisation policy names: a role,
// anyone at all, or an organisation's API key.
type Principal string

// The principals.
const (
	Anyone      Principal = "anyone" // no credentials needed
	Registrar   Principal = Principal(register.RoleRegistrar)
	Admin       Principal = Principal(register.RoleAdmin)
	PanelMember Principal = Principal(register.RolePanelMember)
	Registrant  Principal = Principal(register.RoleRegistrant)
	Employer    Principal = Principal(register.RoleEmployer)
	Agency      Principal = Principal(register.RoleAgency)
	APIKey      Principal = "api_key" // an organisation's API key
)

// Ownership narrows an allowed principal to some objects. The handlers and
// stores apply it by scoping every query to the principal, so another's
// object answers exactly like a missing one (404, not_found).
type Ownership string

// The ownership rules.
const (
	NoOwnership Ownership = ""
	// OwnRecord: a registrant acts on their own record only.
	OwnRecord Ownership = "own_record"
	// OnPanel: a panel member acts on the cases whose panel they sit on.
	OnPanel Ownership = "on_panel"
	// OwnOrganisation: an employer, an agency or an API key acts for its
	// own organisation only.
	OwnOrganisation Ownership = "own_organisation"
)

// Limits reports whether the rule narrows principal p. Registrars and
// admins act on every object of the routes they may call.
func (o Ownership) Limits(p Principal) bool {
	switch o {
	case OwnRecord:
		return p == Registrant
	case OnPanel:
		return p == PanelMember
	case OwnOrganisation:
		return p == Employer || p == Agency || p == APIKey
	}
	return false
}

// RefusesOthers reports whether another's object is refused (403) rather
// than answered as if it were missing (404). Only panel cases are: the
// stores of cases and decisions refuse a panel member who does not sit on
// the case's panel (register/sqlite/case.go, decision.go).
func (o Ownership) RefusesOthers() bool { return o == OnPanel }

// Rule is who may call one route.
type Rule struct {
	// Allow are the principals that may call the route.
	Allow []Principal
	// Owner is the ownership rule the handler applies (see Ownership.Limits).
	Owner Ownership
	// Page marks an HTML page (web.go): it signs in with a session cookie,
	// checked by the page's own middleware, not with a bearer token.
	Page bool
}

// Allows reports whether p may call the route.
func (r Rule) Allows(p Principal) bool {
	return slices.Contains(r.Allow, Anyone) || slices.Contains(r.Allow, p)
}

var (
	everyone       = []Principal{Anyone}
	regulator      = []Principal{Registrar, Admin}
	casework       = []Principal{Registrar, Admin, PanelMember}
	registrantOnly = []Principal{Registrant}
	adminOnly      = []Principal{Admin}
	organisations  = []Principal{Employer, Agency, APIKey}
	orgOrAdmin     = []Principal{Admin, Employer, Agency, APIKey}
	signedIn       = []Principal{Registrar, Admin, PanelMember, Registrant, Employer, Agency}
)

// policy is every route the server serves ("METHOD /gin/path") and who may
// call it. authorise refuses any route missing here: a new route must join
// the table before anyone can call it.
var policy = map[string]Rule{
	"GET /healthz":                       {Allow: everyone},
	"GET /readyz":                        {Allow: everyone},
	"GET /openapi.yaml":                  {Allow: everyone},
	"GET /.well-known/jwks.json":         {Allow: everyone},
	"GET /v1/public/registrants/:number": {Allow: everyone},
	"GET /v1/public/search":              {Allow: everyone},
	"POST /v1/auth/login":                {Allow: everyone},
	"POST /v1/auth/refresh":              {Allow: everyone},
	"POST /v1/auth/logout":               {Allow: everyone},
	"POST /v1/auth/activate":             {Allow: everyone},
	"POST /v1/receipts/verify":           {Allow: everyone},
	"GET /v1/shared/:code":               {Allow: everyone},

	"POST /v1/registrants":                                   {Allow: regulator},
	"GET /v1/registrants":                                    {Allow: regulator},
	"GET /v1/registrants/:number":                            {Allow: regulator},
	"PATCH /v1/registrants/:number":                          {Allow: regulator},
	"POST /v1/registrants/:number/qualifications":            {Allow: regulator},
	"POST /v1/registrants/:number/qualifications/:id/verify": {Allow: regulator},
	"POST /v1/registrants/:number/registration/:transition":  {Allow: regulator},
	"GET /v1/registrants/:number/history":                    {Allow: regulator},
	"POST /v1/registrants/:number/account":                   {Allow: regulator},
	// CPD reflections are private: the regulator's registrars read them, admins do not.
	"GET /v1/registrants/:number/cpd":   {Allow: []Principal{Registrar}},
	"GET /v1/renewals":                  {Allow: regulator},
	"POST /v1/renewals/:id/approve":     {Allow: regulator},
	"POST /v1/renewals/:id/refuse":      {Allow: regulator},
	"POST /v1/cpd-audits/sample":        {Allow: regulator},
	"GET /v1/cpd-audits":                {Allow: regulator},
	"POST /v1/cpd-audits/:id/pass":      {Allow: regulator},
	"POST /v1/cpd-audits/:id/fail":      {Allow: regulator},
	"POST /v1/cases":                    {Allow: regulator},
	"POST /v1/cases/:id/stage":          {Allow: regulator},
	"PUT /v1/cases/:id/panel":           {Allow: regulator},
	"POST /v1/cases/:id/appeal":         {Allow: regulator},
	"POST /v1/cases/:id/appeal/outcome": {Allow: regulator},
	"GET /v1/cases":                     {Allow: casework, Owner: OnPanel},
	"GET /v1/cases/:id":                 {Allow: casework, Owner: OnPanel},
	"POST /v1/cases/:id/decisions":      {Allow: []Principal{PanelMember}, Owner: OnPanel},
	"POST /v1/decisions/:id/votes":      {Allow: []Principal{PanelMember}, Owner: OnPanel},

	"POST /v1/me/cpd":               {Allow: registrantOnly, Owner: OwnRecord},
	"GET /v1/me/cpd":                {Allow: registrantOnly, Owner: OwnRecord},
	"GET /v1/me/cpd/summary":        {Allow: registrantOnly, Owner: OwnRecord},
	"GET /v1/me/cpd/:id":            {Allow: registrantOnly, Owner: OwnRecord},
	"PATCH /v1/me/cpd/:id":          {Allow: registrantOnly, Owner: OwnRecord},
	"DELETE /v1/me/cpd/:id":         {Allow: registrantOnly, Owner: OwnRecord},
	"POST /v1/me/renewal":           {Allow: registrantOnly, Owner: OwnRecord},
	"GET /v1/me/renewal":            {Allow: registrantOnly, Owner: OwnRecord},
	"GET /v1/me/cpd-audit":          {Allow: registrantOnly, Owner: OwnRecord},
	"POST /v1/me/cpd-audit/submit":  {Allow: registrantOnly, Owner: OwnRecord},
	"GET /v1/me/cases":              {Allow: registrantOnly, Owner: OwnRecord},
	"GET /v1/me/checks":             {Allow: registrantOnly, Owner: OwnRecord},
	"POST /v1/me/share-codes":       {Allow: registrantOnly, Owner: OwnRecord},
	"GET /v1/me/share-codes":        {Allow: registrantOnly, Owner: OwnRecord},
	"DELETE /v1/me/share-codes/:id": {Allow: registrantOnly, Owner: OwnRecord},

	"POST /v1/users":      {Allow: adminOnly},
	"GET /v1/users":       {Allow: adminOnly},
	"PATCH /v1/users/:id": {Allow: adminOnly},

	"POST /v1/organisations":                     {Allow: adminOnly},
	"GET /v1/organisations/:id":                  {Allow: orgOrAdmin, Owner: OwnOrganisation},
	"POST /v1/organisations/:id/api-keys":        {Allow: orgOrAdmin, Owner: OwnOrganisation},
	"GET /v1/organisations/:id/api-keys":         {Allow: orgOrAdmin, Owner: OwnOrganisation},
	"DELETE /v1/organisations/:id/api-keys/:key": {Allow: orgOrAdmin, Owner: OwnOrganisation},
	"POST /v1/engagements":                       {Allow: organisations, Owner: OwnOrganisation},
	"GET /v1/engagements":                        {Allow: organisations, Owner: OwnOrganisation},
	"GET /v1/engagements/:id":                    {Allow: organisations, Owner: OwnOrganisation},
	"POST /v1/engagements/:id/end":               {Allow: organisations, Owner: OwnOrganisation},
	"POST /v1/checks":                            {Allow: organisations, Owner: OwnOrganisation},
	"POST /v1/referrals":                         {Allow: organisations, Owner: OwnOrganisation},
	"GET /v1/watchlist":                          {Allow: organisations, Owner: OwnOrganisation},
	"PUT /v1/watchlist/:number":                  {Allow: organisations, Owner: OwnOrganisation},
	"DELETE /v1/watchlist/:number":               {Allow: organisations, Owner: OwnOrganisation},
	"GET /v1/events":                             {Allow: organisations, Owner: OwnOrganisation},
	"POST /v1/webhooks":                          {Allow: organisations, Owner: OwnOrganisation},
	"GET /v1/webhooks":                           {Allow: organisations, Owner: OwnOrganisation},
	"GET /v1/webhooks/:id":                       {Allow: organisations, Owner: OwnOrganisation},
	"DELETE /v1/webhooks/:id":                    {Allow: organisations, Owner: OwnOrganisation},
	"GET /v1/webhooks/:id/attempts":              {Allow: organisations, Owner: OwnOrganisation},

	// The HTML pages (web.go): public ones, then the registrant's own.
	"GET /static/*file":          {Allow: everyone, Page: true},
	"GET /favicon.ico":           {Allow: everyone, Page: true},
	"GET /":                      {Allow: everyone, Page: true},
	"GET /r/:number":             {Allow: everyone, Page: true},
	"GET /r/:number/certificate": {Allow: everyone, Page: true},
	"GET /r/:number/qr.png":      {Allow: everyone, Page: true},
	"GET /sign-in":               {Allow: everyone, Page: true},
	"POST /sign-in":              {Allow: everyone, Page: true},
	"POST /sign-out":             {Allow: signedIn, Page: true},
	"GET /me":                    {Allow: registrantOnly, Owner: OwnRecord, Page: true},
	"GET /me/cpd/new":            {Allow: registrantOnly, Owner: OwnRecord, Page: true},
	"POST /me/cpd":               {Allow: registrantOnly, Owner: OwnRecord, Page: true},
	"GET /me/cpd/:id/edit":       {Allow: registrantOnly, Owner: OwnRecord, Page: true},
	"POST /me/cpd/:id":           {Allow: registrantOnly, Owner: OwnRecord, Page: true},
	"POST /me/renewal":           {Allow: registrantOnly, Owner: OwnRecord, Page: true},
}

// Policy returns a copy of the authorisation policy, by "METHOD /gin/path".
func Policy() map[string]Rule { return maps.Clone(policy) }

// authorise runs before every route. It looks the route up in the policy,
// authenticates the caller as the rule says (an access token, or for
// organisations' routes an API key too), lets through only the principals
// the rule allows, and binds an employer's or agency's organisation. A
// route missing from the policy is refused to everyone.
func (s *Server) authorise(c *gin.Context) {
	route := c.FullPath()
	if route == "" {
		c.Next() // no such route or method: NoRoute and NoMethod answer
		return
	}
	rule, ok := policy[c.Request.Method+" "+route]
	if !ok {
		s.Logger.Error("route missing from the authorisation policy", slog.String("request_id", requestID(c)),
			slog.String("method", c.Request.Method), slog.String("route", route))
		s.Error(c, register.Errorf(register.EFORBIDDEN, "No one may call this route."))
		return
	}
	if rule.Page || rule.Allows(Anyone) {
		c.Next() // pages check their session cookie themselves (web.go)
		return
	}
	if err := s.admit(c, rule); err != nil {
		s.Error(c, err)
		return
	}
	s.idempotent(c) // every authorised write honours Idempotency-Key
}

// admit authenticates the caller and checks it against rule.
func (s *Server) admit(c *gin.Context, rule Rule) error {
	if rule.Allows(APIKey) {
		if key, err := s.authenticateOrg(c); key {
			return err // an API key of a live organisation is allowed here
		}
	}
	u, err := s.authenticate(c)
	if err != nil {
		return err
	}
	if !rule.Allows(Principal(u.Role)) {
		return register.Errorf(register.EFORBIDDEN, "Your role may not do this.")
	}
	if rule.Owner == OwnOrganisation && rule.Owner.Limits(Principal(u.Role)) && !s.bindOrg(c) {
		return register.Errorf(register.EFORBIDDEN, "Your account is not linked to an organisation.")
	}
	return nil
}
