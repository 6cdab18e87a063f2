package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// TestCasesDueReview makes an interim suspension seven months ago through
// the store, then runs `register cases due-review` on the same data folder.
func TestCasesDueReview(t *testing.T) {
	dir := t.TempDir()
	made := time.Now().UTC().AddDate(0, -7, 0).Truncate(time.Second)
	db := sqlite.NewDB(filepath.Join(dir, "register.db"))
	db.Now = func() time.Time { return made }
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	cli := register.NewContextWithActor(context.Background(), register.CLIActor)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	users := sqlite.NewUserService(db)
	var panel []*register.PanelMember
	for _, seat := range []register.Seat{register.SeatChair, register.SeatLay, register.SeatRegistrant} {
		u := &register.User{Email: string(seat) + "@example.org", Role: register.RolePanelMember}
		must(users.CreateUser(cli, u, "not-a-real-hash"))
		panel = append(panel, &register.PanelMember{UserID: u.ID, Seat: seat})
	}
	regs := sqlite.NewRegistrantService(db)
	r := &register.Registrant{FamilyName: "Review", GivenNames: "Rae", DateOfBirth: register.MustDate("1980-01-01"), Email: "rae@example.org"}
	must(regs.CreateRegistrant(cli, r))
	q := &register.Qualification{Level: 3, Title: "Level 3 Diploma", AwardingBody: "Body", AwardedOn: register.MustDate("2020-01-01"),
		CertificateRef: "C1", State: register.QualificationClaimed}
	must(regs.AddQualification(cli, r.Number, q))
	_, err := regs.VerifyQualification(cli, r.Number, q.ID)
	must(err)
	_, err = sqlite.NewRegistrationService(db).Transition(cli, r.Number, register.TransitionAdmit, register.DateOf(made).AddDate(2, 0, 0), "")
	must(err)
	cases := sqlite.NewCaseService(db)
	c := &register.Case{Number: r.Number, Kind: register.CaseReferral, Source: register.SourcePolice, Category: register.CategoryConviction, Allegation: "Charged."}
	must(cases.CreateCase(cli, c))
	_, err = cases.MoveStage(cli, c.ID, register.StageInvestigation, "")
	must(err)
	_, err = cases.SetPanel(cli, c.ID, panel)
	must(err)
	as := func(m *register.PanelMember) context.Context {
		return register.NewContextWithActor(context.Background(), register.Actor{UserID: m.UserID, Role: register.RolePanelMember, Name: "panel"})
	}
	d := &register.Decision{Kind: register.DecisionInterimSuspension, Months: 12, PublicSummary: "Interim suspension.", Reasons: "Risk."}
	must(cases.ProposeDecision(as(panel[0]), c.ID, d))
	_, err = cases.Vote(as(panel[0]), d.ID, register.VoteAgree)
	must(err)
	_, err = cases.Vote(as(panel[1]), d.ID, register.VoteAgree)
	must(err)
	must(db.Close())

	var out, errOut bytes.Buffer
	cmd := newRootCmd(strings.NewReader(""), &out, &errOut)
	cmd.SetArgs([]string{"--data-dir", dir, "cases", "due-review"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("due-review: %v: %s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("output = %q", out.String())
	}
	var got register.DueReview
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.CaseID != c.ID || got.Number != r.Number || got.Kind != register.OrderInterimSuspension || !got.ReviewBy.Equal(made.AddDate(0, 6, 0)) {
		t.Fatalf("due = %+v", got)
	}
	if !strings.Contains(errOut.String(), "1 interim orders due for review") {
		t.Fatalf("stderr = %q", errOut.String())
	}
}
