package http

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

// requestTypes are every request body the API decodes.
var requestTypes = []func() any{
	func() any { return new(activateRequest) }, func() any { return new(loginRequest) },
	func() any { return new(refreshRequest) }, func() any { return new(createCaseRequest) },
	func() any { return new(stageRequest) }, func() any { return new(panelRequest) },
	func() any { return new(decisionRequest) }, func() any { return new(voteRequest) },
	func() any { return new(appealRequest) }, func() any { return new(appealOutcomeRequest) },
	func() any { return new(cpdRequest) }, func() any { return new(updateCPDRequest) },
	func() any { return new(createRegistrantRequest) }, func() any { return new(updateRegistrantRequest) },
	func() any { return new(addQualificationRequest) }, func() any { return new(transitionRequest) },
	func() any { return new(renewalRequest) }, func() any { return new(reasonRequest) },
	func() any { return new(sampleRequest) }, func() any { return new(submitAuditRequest) },
	func() any { return new(createUserRequest) }, func() any { return new(updateUserRequest) },
}

// FuzzDecode feeds every request decoder arbitrary bodies: each must answer
// with nil or a client error (never an internal one), and never panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"email":"a@example.org","password":"x"}`, `[]`, `{"hours":1e999}`,
		`{"family_name":"A","given_names":"B","date_of_birth":"1985-06-15","email":"a@b.org"}`, `{"a":` + string(bytes.Repeat([]byte("["), 500)),
		`{"items":[` + string(bytes.Repeat([]byte("1,"), 500)) + `1]}`, `null`, `{"date":"2026-02-30"}`} {
		f.Add(uint8(0), []byte(s))
	}
	gin.SetMode(gin.ReleaseMode)
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		// Small bodies keep each run, and minimising a find, quick; huge and
		// deep bodies are TestResourceLimits' job.
		if len(body) > 4096 {
			return
		}
		dst := requestTypes[int(which)%len(requestTypes)]()
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("POST", "/", bytes.NewReader(body))
		err := decode(c, dst)
		if err != nil && register.ErrorCode(err) == register.EINTERNAL {
			t.Fatalf("decode(%T, %q) = internal error %v", dst, body, err)
		}
	})
}
