package http_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

// Principals in the authorisation policy.
const (
	anyone     = "anyone" // no token needed
	registrar  = string(register.RoleRegistrar)
	admin      = string(register.RoleAdmin)
	panel      = string(register.RolePanelMember)
	registrant = string(register.RoleRegistrant)
	employer   = string(register.RoleEmployer)
	agency     = string(register.RoleAgency)
	apiKey     = "api_key" // an organisation's API key
)

// policy is every route and who may call it: the one table a new route must
// join (deny by default). Ownership (own record, own case's panel) is then
// the handler's, tested beside it; here missing objects stand in for
// another's, which must answer alike.
var policy = map[string][]string{
	"GET /healthz":                       {anyone},
	"GET /readyz":                        {anyone},
	"GET /openapi.yaml":                  {anyone},
	"GET /v1/public/registrants/:number": {anyone},
	"GET /v1/public/search":              {anyone},
	"POST /v1/auth/login":                {anyone},
	"POST /v1/auth/refresh":              {anyone},
	"POST /v1/auth/logout":               {anyone},
	"POST /v1/auth/activate":             {anyone},

	"POST /v1/registrants":                                   {registrar, admin},
	"GET /v1/registrants":                                    {registrar, admin},
	"GET /v1/registrants/:number":                            {registrar, admin},
	"PATCH /v1/registrants/:number":                          {registrar, admin},
	"POST /v1/registrants/:number/qualifications":            {registrar, admin},
	"POST /v1/registrants/:number/qualifications/:id/verify": {registrar, admin},
	"POST /v1/registrants/:number/registration/:transition":  {registrar, admin},
	"GET /v1/registrants/:number/history":                    {registrar, admin},
	"POST /v1/registrants/:number/account":                   {registrar, admin},
	"GET /v1/registrants/:number/cpd":                        {registrar},
	"GET /v1/renewals":                                       {registrar, admin},
	"POST /v1/renewals/:id/approve":                          {registrar, admin},
	"POST /v1/renewals/:id/refuse":                           {registrar, admin},
	"POST /v1/cpd-audits/sample":                             {registrar, admin},
	"GET /v1/cpd-audits":                                     {registrar, admin},
	"POST /v1/cpd-audits/:id/pass":                           {registrar, admin},
	"POST /v1/cpd-audits/:id/fail":                           {registrar, admin},
	"POST /v1/cases":                                         {registrar, admin},
	"POST /v1/cases/:id/stage":                               {registrar, admin},
	"PUT /v1/cases/:id/panel":                                {registrar, admin},
	"POST /v1/cases/:id/appeal":                              {registrar, admin},
	"POST /v1/cases/:id/appeal/outcome":                      {registrar, admin},
	"GET /v1/cases":                                          {registrar, admin, panel},
	"GET /v1/cases/:id":                                      {registrar, admin, panel},
	"POST /v1/cases/:id/decisions":                           {panel},
	"POST /v1/decisions/:id/votes":                           {panel},

	"POST /v1/me/cpd":              {registrant},
	"GET /v1/me/cpd":               {registrant},
	"GET /v1/me/cpd/summary":       {registrant},
	"GET /v1/me/cpd/:id":           {registrant},
	"PATCH /v1/me/cpd/:id":         {registrant},
	"DELETE /v1/me/cpd/:id":        {registrant},
	"POST /v1/me/renewal":          {registrant},
	"GET /v1/me/renewal":           {registrant},
	"GET /v1/me/cpd-audit":         {registrant},
	"POST /v1/me/cpd-audit/submit": {registrant},
	"GET /v1/me/checks":            {registrant},
	"GET /v1/me/cases":             {registrant},

	"POST /v1/users":      {admin},
	"GET /v1/users":       {admin},
	"PATCH /v1/users/:id": {admin},

	"POST /v1/organisations":                     {admin},
	"GET /v1/organisations/:id":                  {admin, employer, agency, apiKey},
	"POST /v1/organisations/:id/api-keys":        {admin, employer, agency, apiKey},
	"GET /v1/organisations/:id/api-keys":         {admin, employer, agency, apiKey},
	"DELETE /v1/organisations/:id/api-keys/:key": {admin, employer, agency, apiKey},
	"POST /v1/engagements":                       {employer, agency, apiKey},
	"GET /v1/engagements":                        {employer, agency, apiKey},
	"GET /v1/engagements/:id":                    {employer, agency, apiKey},
	"POST /v1/engagements/:id/end":               {employer, agency, apiKey},
	"POST /v1/checks":                            {employer, agency, apiKey},
	"GET /.well-known/jwks.json":                 {anyone},
	"POST /v1/receipts/verify":                   {anyone},
	"POST /v1/referrals":                         {employer, agency, apiKey},
	"GET /v1/shared/:code":                       {anyone},
	"POST /v1/me/share-codes":                    {registrant},
	"GET /v1/me/share-codes":                     {registrant},
	"DELETE /v1/me/share-codes/:id":              {registrant},
	"GET /v1/watchlist":                          {employer, agency, apiKey},
	"PUT /v1/watchlist/:number":                  {employer, agency, apiKey},
	"DELETE /v1/watchlist/:number":               {employer, agency, apiKey},
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAuthorisationMatrix calls every API route as every principal and
// compares with the policy: refused principals get 401 (no token) or 403,
// allowed ones are never refused. Every gin route must be in the policy.
func TestAuthorisationMatrix(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n, own := staffMember(e, reg, "Matrix", "Pat", "2027-03-01")
	tokens := map[string]string{anyone: "", registrar: reg, registrant: own}
	for _, r := range []register.Role{register.RoleAdmin, register.RolePanelMember} {
		tokens[string(r)] = e.Token(r)
	}
	empID, key := e.Org(tokens[admin], "Employer Trust", "employer")
	agID, _ := e.Org(tokens[admin], "Agency Ltd", "agency")
	tokens[apiKey] = key
	tokens[employer] = e.OrgUser("employer@example.org", register.RoleEmployer, mustInt(t, empID))
	tokens[agency] = e.OrgUser("agency@example.org", register.RoleAgency, mustInt(t, agID))
	checked, unexpected := 0, 0
	for _, r := range e.Server.Handler().(*gin.Engine).Routes() {
		route := r.Method + " " + r.Path
		allowed, ok := policy[route]
		if !ok {
			if !strings.HasPrefix(r.Path, "/v1/") && !strings.HasPrefix(r.Path, "/.well-known/") {
				continue // HTML pages: web_test.go holds their rules
			}
			t.Errorf("%s is served but not in the policy table", route)
			continue
		}
		path := strings.NewReplacer(":number", n, ":transition", "admit", ":id", "999999", ":key", "999999").Replace(r.Path)
		for who, tok := range tokens {
			may := false
			for _, a := range allowed {
				may = may || a == anyone || a == who
			}
			resp := e.Do(r.Method, path, tok, map[string]any{})
			refused := resp.Status == 401 || resp.Status == 403
			checked++
			switch {
			case may && refused:
				unexpected++
				t.Errorf("%s as %s: refused (%d), but the policy allows it: %s", route, who, resp.Status, resp.Body)
			case !may && (who == anyone || who == apiKey) && resp.Status != 401: // an API key is no access token
				unexpected++
				t.Errorf("%s without a token: status %d, want 401", route, resp.Status)
			case !may && who != anyone && who != apiKey && resp.Status != 403:
				unexpected++
				t.Errorf("%s as %s: status %d, want 403", route, who, resp.Status)
			}
		}
	}
	t.Logf("authorisation matrix: %d route × principal cases, %d unexpected", checked, unexpected)
}
