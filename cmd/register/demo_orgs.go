package main

import (
	"context"
	"fmt"
	"io"

	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// demoOrganisations are the employer and agency the demo employer and
// agency accounts act for.
var demoOrganisations = []register.Organisation{
	{Name: "Demo Probation Service", Kind: register.OrgEmployer},
	{Name: "Demo Staffing Agency", Kind: register.OrgAgency},
}

// createDemoOrganisations adds the demo organisations and returns their
// ids by the role of the users who act for them.
func createDemoOrganisations(ctx context.Context, m *Main) (map[register.Role]int64, error) {
	orgs := sqlite.NewOrganisationService(m.DB)
	ids := map[register.Role]int64{}
	for _, o := range demoOrganisations {
		o := o
		if err := orgs.CreateOrganisation(ctx, &o); err != nil {
			return nil, fmt.Errorf("demo organisation %s: %w", o.Name, err)
		}
		ids[register.Role(o.Kind)] = o.ID
	}
	return ids, nil
}

// seedDemoEngagements has the demo organisations engage a few registered
// practitioners (and the agency watch a few more), then renews one of those
// engaged, so that the engagements, the watch list and the events feed all
// have something to show. It acts only on a demo register whose employer
// engages no one yet.
func seedDemoEngagements(ctx context.Context, m *Main, out io.Writer) error {
	ctx = register.NewContextWithActor(ctx, register.SystemActor)
	emp, _, err := sqlite.NewUserService(m.DB).FindUserByEmail(ctx, string(register.RoleEmployer)+"@demo.register.example")
	if register.ErrorCode(err) == register.ENOTFOUND || (err == nil && emp.OrganisationID == 0) {
		return nil
	} else if err != nil {
		return err
	}
	ag, _, err := sqlite.NewUserService(m.DB).FindUserByEmail(ctx, string(register.RoleAgency)+"@demo.register.example")
	if err != nil {
		return err
	}
	orgs := sqlite.NewOrganisationService(m.DB)
	if have, err := orgs.FindEngagements(ctx, emp.OrganisationID); err != nil || len(have) > 0 {
		return err
	}
	// The demo registrant's own renewal is theirs to try: leave them alone.
	accounts, err := sqlite.NewUserService(m.DB).FindUsers(ctx, register.UserFilter{Role: register.RoleRegistrant, Limit: 200})
	if err != nil {
		return err
	}
	hasAccount := map[int64]bool{}
	for _, u := range accounts {
		hasAccount[u.RegistrantID] = true
	}
	registrants := sqlite.NewRegistrantService(m.DB)
	today := register.DateOf(m.DB.Now())
	var officers []*register.Registrant
	var renewable *register.Registrant
	page, _, err := registrants.FindRegistrants(ctx, register.RegistrantFilter{Status: register.StatusRegistered, Limit: 100})
	if err != nil {
		return err
	}
	for _, p := range page {
		r, err := registrants.FindRegistrant(ctx, p.Number)
		if err != nil {
			return err
		}
		if st := r.Standing; st != nil && len(st.AuthorisedRoles) == 2 && len(st.Conditions) == 0 && !hasAccount[r.ID] {
			officers = append(officers, r)
			if renewable == nil && !today.Before(register.RenewalWindowOpens(st.RegisteredUntil)) {
				renewable = r
			}
		}
	}
	if len(officers) < 10 {
		return nil // too few to show; the demo still works without them
	}
	engaged := map[int64]int{}
	engage := func(orgID int64, r *register.Registrant, typ register.EngagementType) error {
		engaged[orgID]++
		return orgs.CreateEngagement(ctx, orgID, &register.Engagement{Number: r.Number, Role: "PO", Type: typ, From: today})
	}
	if renewable != nil {
		if err := engage(emp.OrganisationID, renewable, register.EngagementType("employed")); err != nil {
			return err
		}
	}
	for i, r := range officers[:8] {
		if r == renewable {
			continue
		}
		var err error
		switch {
		case i < 4:
			err = engage(emp.OrganisationID, r, register.EngagementType("employed"))
		case i < 6:
			err = engage(ag.OrganisationID, r, register.EngagementType("agency_placement"))
		default:
			_, err = orgs.AddWatch(ctx, ag.OrganisationID, r.Number)
		}
		if err != nil {
			return fmt.Errorf("demo engagement of %s: %w", r.Number, err)
		}
	}
	msg := fmt.Sprintf("Demo organisations: the employer engages %d practitioners, the agency %d and watches 2 more (GET /v1/engagements, /v1/watchlist, /v1/events).\n",
		engaged[emp.OrganisationID], engaged[ag.OrganisationID])
	if renewable != nil {
		st := renewable.Standing
		next := st.RegisteredUntil.AddDate(1, 0, 0)
		if _, err := sqlite.NewRegistrationService(m.DB).Transition(ctx, renewable.Number, register.TransitionRenew, next, "demo renewal"); err != nil {
			return fmt.Errorf("demo renewal of %s: %w", renewable.Number, err)
		}
		msg += fmt.Sprintf("%s, engaged by the employer, was renewed to %s: the employer's events feed shows it.\n", renewable.Number, next)
	}
	_, err = io.WriteString(out, msg+"\n")
	return err
}
