package http

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

type cpdRequest struct {
	Date        string   `json:"date" validate:"required,datetime=2006-01-02"`
	Title       string   `json:"title" validate:"required,min=3,max=200"`
	Category    string   `json:"category" validate:"required,oneof=participatory self_directed"`
	Hours       *float64 `json:"hours" validate:"required,gte=0.25,lte=24"`
	Reflection  string   `json:"reflection" validate:"max=10000"`
	EvidenceRef string   `json:"evidence_ref" validate:"max=200"`
}

// quarterHours converts decimal hours from a request to quarter hours.
func quarterHours(h float64) (register.Hours, error) {
	q, ok := register.HoursOf(h)
	if !ok {
		return 0, register.FieldError("hours", "must be in quarter hours, e.g. 0.25, 1.5 or 2.75")
	}
	return q, nil
}

// createCPD logs an activity. Like every CPD and renewal handler with a
// body, it reads the body first, so that an oversized or malformed body gets
// the same answer from every caller.
func (s *Server) createCPD(c *gin.Context) {
	var req cpdRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	id, err := me(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	hours, err := quarterHours(*req.Hours)
	if err != nil {
		s.Error(c, err)
		return
	}
	a := &register.CPDActivity{Date: register.MustDate(req.Date), Title: req.Title, Category: register.CPDCategory(req.Category),
		Hours: hours, Reflection: req.Reflection, EvidenceRef: req.EvidenceRef}
	if err := s.CPD.CreateCPD(c.Request.Context(), id, a); err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, a)
}

// cpdFilter reads from, to, limit and after.
func cpdFilter(c *gin.Context) (register.CPDFilter, error) {
	limit, after, err := page(c)
	if err != nil {
		return register.CPDFilter{}, err
	}
	f := register.CPDFilter{Limit: limit, After: after}
	for _, p := range []struct {
		name string
		dst  *register.Date
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.Query(p.name); v != "" {
			if *p.dst, err = register.ParseDate(v); err != nil {
				return f, register.FieldError(p.name, "must be a date in the form YYYY-MM-DD")
			}
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return f, register.FieldError("to", "must not be before from")
	}
	return f, nil
}

func (s *Server) listCPD(c *gin.Context) {
	id, err := me(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	f, err := cpdFilter(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	items, next, err := s.CPD.FindCPDs(c.Request.Context(), id, f)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(items, next))
}

// newList is a page of items with the cursor of the next page.
func newList[T any](items []T, next int64) listResponse[T] {
	resp := listResponse[T]{Items: items}
	if next != 0 {
		n := strconv.FormatInt(next, 10)
		resp.Next = &n
	}
	return resp
}

// pathID reads a positive id from the path; anything else names no record.
func pathID(c *gin.Context, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, register.Errorf(register.ENOTFOUND, "No %s %s.", what, c.Param("id"))
	}
	return id, nil
}

// cpdTarget is the signed-in registrant and the entry id in the path.
func cpdTarget(c *gin.Context) (registrantID, id int64, err error) {
	if registrantID, err = me(c); err != nil {
		return 0, 0, err
	}
	id, err = pathID(c, "CPD entry")
	return registrantID, id, err
}

func (s *Server) getCPD(c *gin.Context) {
	registrantID, id, err := cpdTarget(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	a, err := s.CPD.FindCPD(c.Request.Context(), registrantID, id)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

type updateCPDRequest struct {
	Date        *string  `json:"date" validate:"omitempty,datetime=2006-01-02"`
	Title       *string  `json:"title" validate:"omitempty,min=3,max=200"`
	Category    *string  `json:"category" validate:"omitempty,oneof=participatory self_directed"`
	Hours       *float64 `json:"hours" validate:"omitempty,gte=0.25,lte=24"`
	Reflection  *string  `json:"reflection" validate:"omitempty,max=10000"`
	EvidenceRef *string  `json:"evidence_ref" validate:"omitempty,max=200"`
}

func (s *Server) updateCPD(c *gin.Context) {
	var req updateCPDRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	registrantID, id, err := cpdTarget(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	upd := register.CPDUpdate{Title: req.Title, Reflection: req.Reflection, EvidenceRef: req.EvidenceRef}
	if req.Date != nil {
		d := register.MustDate(*req.Date)
		upd.Date = &d
	}
	if req.Category != nil {
		cat := register.CPDCategory(*req.Category)
		upd.Category = &cat
	}
	if req.Hours != nil {
		h, err := quarterHours(*req.Hours)
		if err != nil {
			s.Error(c, err)
			return
		}
		upd.Hours = &h
	}
	if upd == (register.CPDUpdate{}) {
		s.Error(c, register.Errorf(register.EINVALID, "Give at least one of date, title, category, hours, reflection, evidence_ref."))
		return
	}
	a, err := s.CPD.UpdateCPD(c.Request.Context(), registrantID, id, upd)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

func (s *Server) deleteCPD(c *gin.Context) {
	if err := noBody(c); err != nil {
		s.Error(c, err)
		return
	}
	registrantID, id, err := cpdTarget(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	if err := s.CPD.DeleteCPD(c.Request.Context(), registrantID, id); err != nil {
		s.Error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// cpdSummary is the current registration year, or the one ending at ?cycle_end=.
func (s *Server) cpdSummary(c *gin.Context) {
	id, err := me(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	var end register.Date
	if v := c.Query("cycle_end"); v != "" {
		if end, err = register.ParseDate(v); err != nil {
			s.Error(c, register.FieldError("cycle_end", "must be a date in the form YYYY-MM-DD"))
			return
		}
	}
	sum, err := s.CPD.SummariseCPD(c.Request.Context(), id, end)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, sum)
}

// registrantCPD lets the regulator read anyone's CPD log.
func (s *Server) registrantCPD(c *gin.Context) {
	n, err := number(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	f, err := cpdFilter(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	items, next, err := s.CPD.RegistrantCPD(c.Request.Context(), n, f)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(items, next))
}
