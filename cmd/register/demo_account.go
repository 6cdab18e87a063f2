package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// serveDemo is what `serve --demo` does before serving: synthetic
// registrants and staff accounts (seedDemo), then a registrant's own
// account, so that every part of the register can be tried at once.
func serveDemo(ctx context.Context, m *Main, out io.Writer) error {
	if err := seedDemo(ctx, m, out); err != nil {
		return err
	}
	if err := seedDemoRegistrant(ctx, m, out); err != nil {
		return err
	}
	return seedDemoEngagements(ctx, m, out)
}

// seedDemoRegistrant gives one demo registrant an account and prints its
// password once: a registered Probation Service Officer or Probation
// Officer, one whose renewal window is open if any is, so that CPD and
// renewal can be tried. It acts only on a demo register (one holding the
// demo admin account seedDemo makes), never on real data, and only once:
// when the register already has a registrant account it names that one
// and prints no password.
func seedDemoRegistrant(ctx context.Context, m *Main, out io.Writer) error {
	ctx = register.NewContextWithActor(ctx, register.SystemActor)
	users := sqlite.NewUserService(m.DB)
	registrants := sqlite.NewRegistrantService(m.DB)
	if _, _, err := users.FindUserByEmail(ctx, string(register.RoleAdmin)+"@demo.register.example"); register.ErrorCode(err) == register.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	have, err := users.FindUsers(ctx, register.UserFilter{Role: register.RoleRegistrant, Limit: 1})
	if err != nil {
		return err
	}
	if len(have) > 0 {
		// Registrant ids are the list's cursor: the one after id-1 is id.
		rs, _, err := registrants.FindRegistrants(ctx, register.RegistrantFilter{After: have[0].RegistrantID - 1, Limit: 1})
		if err != nil {
			return err
		}
		number := "?"
		if len(rs) == 1 && rs[0].ID == have[0].RegistrantID {
			number = rs[0].Number
		}
		_, err = fmt.Fprintf(out, "Demo registrant account: %s %s (already exists: password unchanged).\n", number, have[0].Email)
		return err
	}

	r, err := pickDemoRegistrant(ctx, m, registrants)
	if err != nil {
		return err
	}
	pw := rand.Text() // 26 characters, 128 bits
	if err := auth.CheckPolicy(pw, r.Email); err != nil {
		return err
	}
	hash, err := m.Passwords.Hash(ctx, pw)
	if err != nil {
		return err
	}
	if _, err := sqlite.NewAccountService(m.DB).CreateAccount(ctx, r.Number, hash); err != nil {
		return fmt.Errorf("demo registrant account %s: %w", r.Number, err)
	}

	st := r.Standing
	var b strings.Builder
	fmt.Fprintf(&b, "Demo registrant account (%s, %s, registered until %s", r.FullName(), strings.Join(st.AuthorisedRoles, " and "), st.RegisteredUntil)
	if today := register.DateOf(m.DB.Now()); !today.Before(register.RenewalWindowOpens(st.RegisteredUntil)) {
		fmt.Fprintf(&b, ": the renewal window is open")
	}
	fmt.Fprintln(&b, "; shown once):")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  registrant\t%s\t%s\t%s\n", r.Number, r.Email, pw)
	tw.Flush()
	fmt.Fprintf(&b, "Sign in with the email:  curl -s -X POST http://%s/v1/auth/login -H 'Content-Type: application/json' -d '{\"email\":\"%s\",\"password\":\"%s\"}'\n",
		m.Config.HTTP.Addr, r.Email, pw)
	fmt.Fprintf(&b, "Then, with its token:    curl -s http://%s/v1/me/cpd/summary -H \"Authorization: Bearer $TOKEN\"\n\n", m.Config.HTTP.Addr)
	_, err = io.WriteString(out, b.String())
	return err
}

// pickDemoRegistrant returns, with its standing, the first registered
// registrant authorised to practise whose renewal window is open, or else
// the first registered and authorised one.
func pickDemoRegistrant(ctx context.Context, m *Main, registrants *sqlite.RegistrantService) (*register.Registrant, error) {
	today := register.DateOf(m.DB.Now())
	var fallback *register.Registrant
	for after := int64(0); ; {
		page, next, err := registrants.FindRegistrants(ctx, register.RegistrantFilter{Status: register.StatusRegistered, Limit: 100, After: after})
		if err != nil {
			return nil, err
		}
		for _, p := range page {
			r, err := registrants.FindRegistrant(ctx, p.Number)
			if err != nil {
				return nil, err
			}
			st := r.Standing
			if st == nil || st.Status != register.StatusRegistered || len(st.AuthorisedRoles) == 0 {
				continue
			}
			if !today.Before(register.RenewalWindowOpens(st.RegisteredUntil)) && !st.RegisteredUntil.Before(today) {
				return r, nil
			}
			if fallback == nil {
				fallback = r
			}
		}
		if next == 0 {
			break
		}
		after = next
	}
	if fallback == nil {
		return nil, errors.New("demo data: no registered registrant to give an account")
	}
	return fallback, nil
}
