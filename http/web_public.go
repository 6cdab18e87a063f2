package http

import (
	"encoding/json"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

// webRecord is a public record as a page shows it.
type webRecord struct {
	register.PublicRecord
	AsAt      time.Time
	CheckedAt time.Time
	// Past is true when the page shows an earlier date, not now.
	Past bool
	// MayPractise is false for every status but registered with a role.
	MayPractise bool
	LiveURL     string
	// answer is the stored answer the page was built from, kept so that a
	// receipt signs exactly what the JSON API would serve.
	answer *register.PublicAnswer
}

// decodeAnswer reads a stored public answer for a page.
func decodeAnswer(a *register.PublicAnswer, now time.Time) (*webRecord, error) {
	r := &webRecord{AsAt: a.AsAt, CheckedAt: now, answer: a}
	if err := json.Unmarshal(a.Body, &r.PublicRecord); err != nil {
		return nil, err
	}
	r.MayPractise = r.Status == register.StatusRegistered && len(r.AuthorisedRoles) > 0
	return r, nil
}

type searchData struct {
	Query    string
	Results  []*webRecord
	Searched bool
}

// webSearch is the home page: a register number goes straight to its
// record, a name lists at most MaxSearchResults matches.
func (s *Server) webSearch(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	d := &searchData{Query: q}
	v := &view{Title: "Check the probation register", Data: d}
	if q == "" {
		s.render(c, http.StatusOK, "search", v)
		return
	}
	if n, err := register.ParseNumber(q); err == nil {
		c.Redirect(http.StatusSeeOther, "/r/"+url.PathEscape(n))
		return
	}
	switch n := utf8.RuneCountInString(q); {
	case n < 2:
		v.Errors = map[string]string{"q": "Enter a register number or at least 2 characters of a name"}
	case n > 100:
		v.Errors = map[string]string{"q": "Name must be at most 100 characters"}
	}
	if v.Errors != nil {
		v.Title = "Error: " + v.Title
		s.render(c, http.StatusBadRequest, "search", v)
		return
	}
	as, err := s.Public.SearchPublic(c.Request.Context(), q, MaxSearchResults)
	if err != nil {
		s.webError(c, err)
		return
	}
	now := s.Now()
	for _, a := range as {
		r, err := decodeAnswer(a, now)
		if err != nil {
			s.webError(c, err)
			return
		}
		d.Results = append(d.Results, r)
	}
	d.Searched = true
	v.Title = "Search results for " + q + " - Check the probation register"
	s.render(c, http.StatusOK, "search", v)
}

// publicNumber reads the :number path value, answering with a page if it is malformed.
func (s *Server) publicNumber(c *gin.Context) (string, bool) {
	n, err := number(c)
	if err != nil {
		s.webError(c, register.Errorf(register.EINVALID,
			"%q is not a register number. A register number looks like the one on a practitioner's certificate; check it and try again.", c.Param("number")))
		return "", false
	}
	return n, true
}

// findRecord loads a record as at an instant (nil for now) for a page.
func (s *Server) findRecord(c *gin.Context, n string, at *time.Time) (*webRecord, bool) {
	a, err := s.Public.PublicRecord(c.Request.Context(), n, at)
	if register.ErrorCode(err) == register.ENOTFOUND {
		s.webError(c, register.Errorf(register.ENOTFOUND,
			"No one with register number %s is on the register. Check the number, or search by name.", n))
		return nil, false
	} else if err != nil {
		s.webError(c, err)
		return nil, false
	}
	r, err := decodeAnswer(a, s.Now())
	if err != nil {
		s.webError(c, err)
		return nil, false
	}
	r.Past = at != nil
	r.LiveURL = s.liveURL(c, n)
	return r, true
}

type recordData struct {
	*webRecord
	At string // the as-at field as typed
}

// webRecord shows one record, now or as at the end of a past date.
func (s *Server) webRecord(c *gin.Context) {
	n, ok := s.publicNumber(c)
	if !ok {
		return
	}
	var at *time.Time
	field := strings.TrimSpace(c.Query("at"))
	if field != "" {
		d, err := register.ParseDate(field)
		var reason string
		switch {
		case err != nil:
			reason = "Enter the date in the form YYYY-MM-DD, for example 2025-03-01"
		case d.After(register.DateOf(s.Now())):
			reason = "The date must be today or in the past"
		}
		if reason != "" {
			r, ok := s.findRecord(c, n, nil)
			if !ok {
				return
			}
			s.render(c, http.StatusBadRequest, "record", &view{Title: "Error: " + r.GivenNames + " " + r.FamilyName + " - Check the probation register",
				Errors: map[string]string{"at": reason}, Data: recordData{webRecord: r, At: field}})
			return
		}
		// As at a date means at the end of that day: everything decided that day counts.
		t := d.End().Add(-time.Second)
		if now := s.Now(); t.After(now) {
			t = now
		}
		at = &t
	}
	r, ok := s.findRecord(c, n, at)
	if !ok {
		return
	}
	s.render(c, http.StatusOK, "record", &view{Title: r.GivenNames + " " + r.FamilyName + " (" + r.Number + ") - Check the probation register",
		Data: recordData{webRecord: r, At: field}})
}

type certificateData struct {
	*webRecord
	// Receipt is the compact JWS the API gives for ?receipt=true: the
	// register's signature over this check.
	Receipt string
}

// webCertificate is a printable record with a QR code to the live record
// and the signed receipt of the check it shows.
func (s *Server) webCertificate(c *gin.Context) {
	n, ok := s.publicNumber(c)
	if !ok {
		return
	}
	r, ok := s.findRecord(c, n, nil)
	if !ok {
		return
	}
	// The receipt is signed over the API's answer for the same check (same
	// body, same checked_at), as GET /v1/public/registrants/{number}?receipt=true
	// signs it, so it verifies with POST /v1/receipts/verify and the JWKS.
	body := r.answer.AppendJSON(make([]byte, 0, len(r.answer.Body)+80), r.CheckedAt)
	receipt, err := s.Receipts.Sign(n, publicChecker, r.CheckedAt, body)
	if err != nil {
		s.webError(c, err)
		return
	}
	s.render(c, http.StatusOK, "certificate", &view{Title: "Certificate of registration: " + r.GivenNames + " " + r.FamilyName + " (" + r.Number + ")",
		Data: certificateData{webRecord: r, Receipt: receipt}})
}

// webQR is the QR code of the live record's address.
func (s *Server) webQR(c *gin.Context) {
	n, ok := s.publicNumber(c)
	if !ok {
		return
	}
	code, err := qr.Encode(s.liveURL(c, n), qr.M, qr.Auto)
	if err == nil {
		code, err = barcode.Scale(code, 256, 256)
	}
	if err != nil {
		s.webError(c, err)
		return
	}
	c.Header("Content-Type", "image/png")
	c.Header("Cache-Control", "public, max-age=86400")
	c.Status(http.StatusOK)
	if err := png.Encode(c.Writer, code); err != nil {
		s.webError(c, err)
	}
}

// liveURL is the absolute address of a record's page: PublicURL when set,
// else the address the request came to.
func (s *Server) liveURL(c *gin.Context, n string) string {
	base := strings.TrimSuffix(s.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if c.Request.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + c.Request.Host
	}
	return base + "/r/" + url.PathEscape(n)
}
