package http

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
)

type checkRequest struct {
	Purpose string            `json:"purpose" validate:"required,oneof=pre_employment placement periodic"`
	Items   []json.RawMessage `json:"items" validate:"required,min=1,max=1000"`
	At      *time.Time        `json:"at"`
}

// checkItemRequest is one item; each is decoded on its own, so that a
// malformed item is answered with its own error instead of failing the batch.
type checkItemRequest struct {
	Number      *string `json:"register_number"`
	FamilyName  *string `json:"family_name"`
	DateOfBirth *string `json:"date_of_birth"`
}

func parseCheckItem(raw json.RawMessage) register.CheckItem {
	var req checkItemRequest
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&req); err != nil {
		return register.CheckItem{Err: register.Errorf(register.EINVALID, "The item must be an object with register_number and optionally family_name and date_of_birth.")}
	}
	v := register.Validation{}
	var it register.CheckItem
	if req.Number == nil {
		v.Add("register_number", "is required")
	} else if n, err := register.ParseNumber(*req.Number); err != nil {
		it.Number = *req.Number
		v.Add("register_number", register.ErrorFields(err)["register_number"])
	} else {
		it.Number = n
	}
	if req.FamilyName != nil {
		if len(*req.FamilyName) == 0 || len(*req.FamilyName) > 200 {
			v.Add("family_name", "must be 1 to 200 characters")
		}
		it.FamilyName = req.FamilyName
	}
	if req.DateOfBirth != nil {
		d, err := register.ParseDate(*req.DateOfBirth)
		if err != nil {
			v.Add("date_of_birth", "must be a date YYYY-MM-DD")
		}
		it.DateOfBirth = &d
	}
	it.Err = v.Err()
	return it
}

type checkResultBody struct {
	Index int `json:"index"`
	register.CheckResult
	Error *errorDetail `json:"error,omitempty"`
	// Receipt is the item's receipt in signed, or -1 for none.
	Receipt int `json:"-"`
}

// createCheck answers a bulk check: one result per item, in order.
func (s *Server) createCheck(c *gin.Context) {
	var req checkRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	items := make([]register.CheckItem, len(req.Items))
	for i, raw := range req.Items {
		items[i] = parseCheckItem(raw)
	}
	var at *time.Time
	if req.At != nil {
		t := req.At.UTC()
		at = &t
	}
	results, checkedAt, err := s.Checks.Check(c.Request.Context(), org(c), register.CheckPurpose(req.Purpose), at, items)
	if err != nil {
		s.Error(c, err)
		return
	}
	out := make([]checkResultBody, len(results))
	for i, r := range results {
		out[i] = checkResultBody{Index: i, CheckResult: r, Receipt: -1}
		if r.Err != nil {
			out[i].Error = &errorDetail{Code: register.ErrorCode(r.Err), Message: register.ErrorMessage(r.Err), Fields: register.ErrorFields(r.Err)}
		}
	}
	signed, err := s.signResults(out, orgChecker(org(c)), checkedAt)
	if err != nil {
		s.Error(c, err)
		return
	}
	buf, err := appendCheckAnswer(out, signed, req.Purpose, checkedAt)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", buf)
}

// appendCheckAnswer writes {"checked_at", "items", "purpose"} as
// encoding/json would, but appends each item's result, already encoded
// and signed over, as it is: re-encoding a thousand answers through
// encoding/json (which parses every json.RawMessage again) cost as much
// as looking them up.
func appendCheckAnswer(out []checkResultBody, signed *auth.SignedBatch, purpose string, checkedAt time.Time) ([]byte, error) {
	size := 64
	for i := range out {
		size += 96 + len(out[i].Number) + len(out[i].Result)
		if out[i].Receipt >= 0 {
			size += signed.ReceiptLen(out[i].Receipt)
		}
	}
	at, err := checkedAt.MarshalJSON()
	if err != nil {
		return nil, err
	}
	b := append(make([]byte, 0, size), `{"checked_at":`...)
	b = append(b, at...)
	b = append(b, `,"items":[`...)
	for i := range out {
		r := &out[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(r.Index), 10)
		b = append(b, `,"register_number":`...)
		b = appendJSONString(b, r.Number)
		if r.Result != nil {
			b = append(b, `,"result":`...)
			b = append(b, r.Result...)
		}
		b = append(b, `,"identity_match":`...)
		switch {
		case r.IdentityMatch == nil:
			b = append(b, "null"...)
		case *r.IdentityMatch:
			b = append(b, "true"...)
		default:
			b = append(b, "false"...)
		}
		if r.Error != nil {
			e, err := json.Marshal(r.Error)
			if err != nil {
				return nil, err
			}
			b = append(b, `,"error":`...)
			b = append(b, e...)
		}
		if r.Receipt >= 0 {
			// A receipt is base64url, digits, dots and tildes only.
			b = append(b, `,"receipt":"`...)
			b = signed.AppendReceipt(b, r.Receipt)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, `],"purpose":`...)
	b = appendJSONString(b, purpose)
	return append(b, '}'), nil
}

// appendJSONString appends s as encoding/json writes a string: as it is
// when it is printable ASCII that needs no escape, through json.Marshal
// otherwise.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			e, _ := json.Marshal(s) // a string always marshals
			return append(dst, e...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// signResults signs every answered item's receipt, all of them sharing one
// signature (auth.SignTree), and numbers them in out; each is written
// straight into the answer.
func (s *Server) signResults(out []checkResultBody, checker string, checkedAt time.Time) (*auth.SignedBatch, error) {
	var items []auth.ReceiptItem
	for i := range out {
		if out[i].Result != nil {
			out[i].Receipt = len(items)
			items = append(items, auth.ReceiptItem{Number: out[i].Number, Checker: checker, CheckedAt: checkedAt, Result: out[i].Result})
		}
	}
	return s.Receipts.SignTree(items)
}

// myChecks shows a registrant who checked their record: who, when, how and why.
func (s *Server) myChecks(c *gin.Context) {
	id, err := me(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	vs, err := s.Checks.FindVerifications(c.Request.Context(), id)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": vs})
}
