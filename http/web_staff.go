package http

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

// maxWebCPD bounds the entries listed on the registrant's page.
const maxWebCPD = 200

type meData struct {
	Record  *webRecord
	Summary *register.CPDSummary
	// Done and Required are the progress bar's value and maximum in quarter hours.
	Done, Required int
	Percent        int
	Activities     []*register.CPDActivity
	Renewal        *register.Renewal
	Saved          string
	// Checks are who checked the registrant's record, newest first.
	Checks    []*register.Verification
	MaxChecks int
}

// ownNumber finds the signed-in registrant's register number.
func (s *Server) ownNumber(c *gin.Context, id int64) (string, error) {
	rs, _, err := s.Registrants.FindRegistrants(c.Request.Context(), register.RegistrantFilter{After: id - 1, Limit: 1})
	if err != nil {
		return "", err
	}
	if len(rs) == 0 || rs[0].ID != id {
		return "", register.Errorf(register.ENOTFOUND, "Your record was not found.")
	}
	return rs[0].Number, nil
}

// webMe is the registrant's own page: record, CPD progress and log, renewal.
func (s *Server) webMe(c *gin.Context) {
	s.renderMe(c, http.StatusOK, "")
}

func (s *Server) renderMe(c *gin.Context, status int, problem string) {
	id, err := me(c)
	if err != nil {
		s.webError(c, err)
		return
	}
	ctx := c.Request.Context()
	n, err := s.ownNumber(c, id)
	if err != nil {
		s.webError(c, err)
		return
	}
	d := &meData{Saved: c.Query("saved"), MaxChecks: register.MaxVerifications}
	if a, err := s.Public.PublicRecord(ctx, n, nil); err == nil {
		if d.Record, err = decodeAnswer(a, s.Now()); err != nil {
			s.webError(c, err)
			return
		}
	} else if register.ErrorCode(err) != register.ENOTFOUND {
		s.webError(c, err)
		return
	}
	if d.Summary, err = s.CPD.SummariseCPD(ctx, id, register.Date{}); err == nil {
		d.Done, d.Required = int(min(d.Summary.Hours, d.Summary.RequiredHours)), int(d.Summary.RequiredHours)
		if d.Required > 0 {
			d.Percent = d.Done * 100 / d.Required
		}
	} else if register.ErrorCode(err) != register.ECONFLICT {
		s.webError(c, err)
		return
	}
	if d.Activities, _, err = s.CPD.FindCPDs(ctx, id, register.CPDFilter{Limit: maxWebCPD}); err != nil {
		s.webError(c, err)
		return
	}
	if d.Renewal, err = s.Renewals.LatestRenewal(ctx, id); err != nil && register.ErrorCode(err) != register.ENOTFOUND {
		s.webError(c, err)
		return
	}
	// The same list as GET /v1/me/checks: only the checker's name, the
	// channel, the purpose and the instants, nothing else of the checker.
	if d.Checks, err = s.Checks.FindVerifications(ctx, id); err != nil {
		s.webError(c, err)
		return
	}
	s.render(c, status, "me", &view{Title: "Your registration", Problem: problem, Data: d})
}

// cpdForm is the CPD form's fields as typed, so a failed post shows them again.
type cpdForm struct {
	ID                                                 int64
	Date, Title, Category, Hours, Reflection, Evidence string
	Locked                                             bool
}

func formOf(a *register.CPDActivity) cpdForm {
	return cpdForm{ID: a.ID, Date: a.Date.String(), Title: a.Title, Category: string(a.Category), Hours: a.Hours.String(),
		Reflection: a.Reflection, Evidence: a.EvidenceRef, Locked: a.Locked}
}

func (s *Server) cpdPage(c *gin.Context, status int, f cpdForm, errs map[string]string) {
	title := "Log CPD"
	if f.ID != 0 {
		title = "Change CPD entry"
	}
	if len(errs) > 0 {
		title = "Error: " + title
	}
	s.render(c, status, "cpd", &view{Title: title, Errors: errs, Data: f})
}

// webCPDForm shows an empty form, or an entry's fields for editing.
func (s *Server) webCPDForm(c *gin.Context) {
	if c.Param("id") == "" {
		s.cpdPage(c, http.StatusOK, cpdForm{Date: register.DateOf(s.Now()).String(), Category: string(register.CPDParticipatory)}, nil)
		return
	}
	registrantID, id, err := cpdTarget(c)
	if err != nil {
		s.webError(c, err)
		return
	}
	a, err := s.CPD.FindCPD(c.Request.Context(), registrantID, id)
	if err != nil {
		s.webError(c, err)
		return
	}
	s.cpdPage(c, http.StatusOK, formOf(a), nil)
}

// readCPDForm parses the posted fields. Messages match the API's: the
// parse failures give the API's decode messages, everything else is the
// domain's own validation.
func readCPDForm(c *gin.Context) (cpdForm, *register.CPDActivity, register.Validation) {
	f := cpdForm{Date: strings.TrimSpace(c.PostForm("date")), Title: c.PostForm("title"), Category: c.PostForm("category"),
		Hours: strings.TrimSpace(c.PostForm("hours")), Reflection: c.PostForm("reflection"), Evidence: c.PostForm("evidence_ref")}
	a := &register.CPDActivity{Title: f.Title, Category: register.CPDCategory(f.Category), Reflection: f.Reflection, EvidenceRef: f.Evidence}
	v := register.Validation{}
	if f.Date == "" {
		v.Add("date", "is required")
	} else if d, err := register.ParseDate(f.Date); err != nil {
		v.Add("date", "must be a date in the form YYYY-MM-DD")
	} else {
		a.Date = d
	}
	if strings.TrimSpace(f.Title) == "" {
		v.Add("title", "is required")
	}
	if f.Category == "" {
		v.Add("category", "is required")
	}
	if f.Hours == "" {
		v.Add("hours", "is required")
	} else if h, err := strconv.ParseFloat(f.Hours, 64); err != nil || math.IsNaN(h) || math.IsInf(h, 0) {
		v.Add("hours", "must be a number")
	} else if h < 0.25 {
		v.Add("hours", "must be at least 0.25")
	} else if h > 24 {
		v.Add("hours", "must be at most 24")
	} else if q, err := quarterHours(h); err != nil {
		v.Add("hours", register.ErrorFields(err)["hours"])
	} else {
		a.Hours = q
	}
	return f, a, v
}

// merge adds the domain's field errors to the parse errors; a field that
// failed to parse keeps its parse message.
func merge(v register.Validation, err error) register.Validation {
	for k, m := range register.ErrorFields(err) {
		if _, ok := v[k]; !ok {
			v[k] = m
		}
	}
	return v
}

func (s *Server) webCreateCPD(c *gin.Context) {
	id, err := me(c)
	if err != nil {
		s.webError(c, err)
		return
	}
	f, a, v := readCPDForm(c)
	if len(v) > 0 {
		// Do not write: show every field's problem at once, as at today
		// with the date checked only for its form.
		s.cpdPage(c, http.StatusBadRequest, f, merge(v, a.Validate(register.DateOf(s.Now()), register.DateOf(s.Now()).AddDate(-100, 0, 0))))
		return
	}
	if err := s.CPD.CreateCPD(c.Request.Context(), id, a); register.ErrorCode(err) == register.EINVALID && len(register.ErrorFields(err)) > 0 {
		s.cpdPage(c, http.StatusBadRequest, f, register.ErrorFields(err))
		return
	} else if err != nil {
		s.webError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/me?saved=1#cpd")
}

func (s *Server) webUpdateCPD(c *gin.Context) {
	registrantID, id, err := cpdTarget(c)
	if err != nil {
		s.webError(c, err)
		return
	}
	f, a, v := readCPDForm(c)
	f.ID = id
	if len(v) > 0 {
		s.cpdPage(c, http.StatusBadRequest, f, merge(v, a.Validate(register.DateOf(s.Now()), register.DateOf(s.Now()).AddDate(-100, 0, 0))))
		return
	}
	upd := register.CPDUpdate{Date: &a.Date, Title: &a.Title, Category: &a.Category, Hours: &a.Hours, Reflection: &a.Reflection, EvidenceRef: &a.EvidenceRef}
	if _, err := s.CPD.UpdateCPD(c.Request.Context(), registrantID, id, upd); register.ErrorCode(err) == register.EINVALID && len(register.ErrorFields(err)) > 0 {
		s.cpdPage(c, http.StatusBadRequest, f, register.ErrorFields(err))
		return
	} else if err != nil {
		s.webError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/me?saved=1#cpd")
}

// webRenewal asks to renew; refusals (window not open, declarations
// missing) are shown on the registrant's page.
func (s *Server) webRenewal(c *gin.Context) {
	id, err := me(c)
	if err != nil {
		s.webError(c, err)
		return
	}
	d := register.RenewalDeclaration{CPD: c.PostForm("cpd_declaration") == "yes", GoodCharacter: c.PostForm("good_character_declaration") == "yes"}
	if _, err := s.Renewals.RequestRenewal(c.Request.Context(), id, d); err != nil {
		if code := register.ErrorCode(err); code == register.EINTERNAL || code == register.ENOTFOUND || code == register.EUNAVAILABLE {
			s.webError(c, err)
			return
		}
		s.renderMe(c, ErrorStatus(register.ErrorCode(err)), register.ErrorMessage(err))
		return
	}
	c.Redirect(http.StatusSeeOther, "/me#renewal")
}
