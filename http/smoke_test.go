package http_test

import (
	"testing"

	"github.com/probation-register/register/register"
)

func TestPublicVerificationPath(t *testing.T) {
	e := newEnv(t)
	tok, _ := e.User("registrar@example.org", register.RoleRegistrar)
	n := e.Practitioner(tok, "Okafor", "Adaeze", 5, "2027-03-01")
	m := e.Must(200, "GET", "/v1/public/registrants/"+n, "", nil)
	if m["status"] != "registered" {
		t.Fatalf("status = %v", m["status"])
	}
	roles := m["authorised_roles"].([]any)
	if len(roles) != 2 || roles[0] != "PSO" || roles[1] != "PO" {
		t.Fatalf("roles = %v", roles)
	}
	if _, ok := m["date_of_birth"]; ok {
		t.Fatal("date_of_birth leaked")
	}
}
