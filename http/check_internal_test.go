package http

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
)

// TestAppendCheckAnswer checks that the hand-written bulk check answer is
// byte for byte what encoding/json writes for the same values.
func TestAppendCheckAnswer(t *testing.T) {
	yes, no := true, false
	result := json.RawMessage(`{"as_at":"2026-03-02T10:00:00Z","register_number":"PR0000018","family_name":"O\u003cBrien \u0026 Zoë","status":"registered"}`)
	out := []checkResultBody{
		{Index: 0, CheckResult: register.CheckResult{Number: "PR0000018", Result: result, IdentityMatch: &yes}},
		{Index: 1, CheckResult: register.CheckResult{Number: "PR0000026", Result: result, IdentityMatch: &no}},
		{Index: 2, CheckResult: register.CheckResult{Number: "PR0000034", Result: result}},
		{Index: 3, CheckResult: register.CheckResult{Number: "PR9999999"}, Error: &errorDetail{Code: register.ENOTFOUND, Message: "PR9999999 is not on the register."}},
		{Index: 4, CheckResult: register.CheckResult{Number: "<b>\"x\"&\\ é \u2028 \x01 \xff"},
			Error: &errorDetail{Code: register.EINVALID, Message: "Bad <item> & more", Fields: map[string]string{"register_number": "must be PR and 7 digits", "date_of_birth": "must be a date YYYY-MM-DD"}}},
		{Index: 5, CheckResult: register.CheckResult{Number: ""}, Error: &errorDetail{Code: register.EINVALID, Message: "The item must be an object."}},
	}
	for i := range out {
		out[i].Receipt = -1
	}
	at := time.Date(2026, 3, 2, 10, 0, 0, 123456000, time.UTC)
	keys, _, err := auth.LoadKeyring(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Receipts: auth.NewReceipts(keys, "national-probation-register")}
	signed, err := s.signResults(out, "organisation:1", at)
	if err != nil {
		t.Fatal(err)
	}
	// What encoding/json writes for the same items with their receipts.
	type withReceipt struct {
		checkResultBody
		Receipt string `json:"receipt,omitempty"`
	}
	items := make([]withReceipt, len(out))
	for i := range out {
		items[i].checkResultBody = out[i]
		if out[i].Receipt >= 0 {
			items[i].Receipt = string(signed.AppendReceipt(nil, out[i].Receipt))
		}
	}
	if items[0].Receipt == "" || items[2].Receipt == "" || items[3].Receipt != "" {
		t.Fatalf("receipts for answered items only: %+v", items)
	}
	for _, purpose := range []string{"periodic", "pre_employment"} {
		got, err := appendCheckAnswer(out, signed, purpose, at)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(gin.H{"purpose": purpose, "checked_at": at, "items": items})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
	}
	if got, err := appendCheckAnswer(nil, nil, "periodic", at); err != nil || string(got) != `{"checked_at":"2026-03-02T10:00:00.123456Z","items":[],"purpose":"periodic"}` {
		t.Errorf("no items: %s %v", got, err)
	}
}
