package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"iter"
	mrand "math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"golang.org/x/text/unicode/norm"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

func newDemoCmd(e *env) *cobra.Command {
	var count int
	var seed uint64
	var force bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Fill the register with synthetic registrants, for demonstrations and benchmarks",
		Long: `Writes --count synthetic registrants with UK-style names, qualifications and
registration histories in realistic proportions, in one transaction, and
reports how long it took. The same --seed gives the same people.

It refuses a register that already holds registrants unless --force is given:
synthetic people must never be mixed into a real register by accident.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if count < 1 || count > register.NumberSpace {
				return fmt.Errorf("--count must be between 1 and %d", register.NumberSpace)
			}
			m, err := e.main()
			if err != nil {
				return err
			}
			defer m.Close()
			bulk := sqlite.NewImportService(m.DB)
			have, err := bulk.CountRegistrants(cmd.Context())
			if err != nil {
				return err
			}
			if have > 0 && !force {
				return fmt.Errorf("the register already holds %d registrants; demo data goes into an empty register (--force adds to it)", have)
			}
			if have+count > register.NumberSpace {
				return fmt.Errorf("only %d register numbers are free", register.NumberSpace-have)
			}
			start := time.Now()
			bar := newProgress(e.err, count, "demo")
			n, _, err := writeDemo(cmd.Context(), m, count, seed, bar)
			bar.Finish()
			if err != nil {
				return err
			}
			secs := time.Since(start).Seconds()
			fmt.Fprintf(e.out, "demo: %d synthetic registrants written in %.1f s (%.0f per second)\n", n, secs, float64(n)/secs)
			return nil
		},
	}
	cmd.Flags().IntVar(&count, "count", 1000, "how many registrants to write")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed for the synthetic people (same seed, same people)")
	cmd.Flags().BoolVar(&force, "force", false, "add to a register that already holds registrants")
	return cmd
}

// writeDemo writes count synthetic registrants as the system, numbered by
// the collision-free permutation so that even a full number space fills
// fast. It returns how many it wrote and the number of one Probation
// Officer, to show.
func writeDemo(ctx context.Context, m *Main, count int, seed uint64, bar progress) (int, string, error) {
	ctx = register.NewContextWithActor(ctx, register.SystemActor)
	defer bulkCollector()()
	g := newDemoGenerator(seed, m.DB.Now())
	var officer *register.ImportRow
	rows := func(yield func(*register.ImportRow, error) bool) {
		for r, err := range g.rows(count) {
			if officer == nil && r.Status == register.StatusRegistered && slices.ContainsFunc(r.Qualifications, func(q *register.Qualification) bool {
				return q.Level == register.LevelPO && q.State == register.QualificationVerified
			}) {
				officer = r // numbered by the store as it is written
			}
			if !yield(r, err) {
				return
			}
		}
	}
	n, err := sqlite.NewImportService(m.DB).Import(ctx, rows, sqlite.ImportOptions{Spread: true, Seed: seed, Count: count, Progress: bar.Rows})
	if err != nil || officer == nil {
		return n, "", err
	}
	return n, officer.Registrant.Number, nil
}

// demoAccounts are the roles that get a demo account, in the order printed.
var demoAccounts = []register.Role{register.RoleAdmin, register.RoleRegistrar, register.RolePanelMember, register.RoleEmployer, register.RoleAgency}

// demoRegistrants is how many synthetic registrants `serve --demo` writes:
// enough to show every status and to make name search interesting.
const demoRegistrants = 300

// seedDemo fills an empty register with synthetic registrants and demo
// accounts, printing the accounts' passwords once. A register that already
// holds registrants is left alone and nothing secret is printed.
func seedDemo(ctx context.Context, m *Main, out io.Writer) error {
	bulk := sqlite.NewImportService(m.DB)
	have, err := bulk.CountRegistrants(ctx)
	if err != nil {
		return err
	}
	if have > 0 {
		_, err := fmt.Fprintf(out, "Demo data already exists (%d registrants): nothing added. Demo passwords were shown when it was created.\n", have)
		return err
	}
	_, officer, err := writeDemo(ctx, m, demoRegistrants, 1, progress{})
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	users := sqlite.NewUserService(m.DB)
	ctx = register.NewContextWithActor(ctx, register.SystemActor)
	orgIDs, err := createDemoOrganisations(ctx, m)
	if err != nil {
		return err
	}
	base := "http://" + m.Config.HTTP.Addr
	var b strings.Builder
	fmt.Fprintf(&b, "\nDemo data: %d synthetic registrants in every status.\n", demoRegistrants)
	fmt.Fprintln(&b, "Demo accounts (shown once; only their hashes are stored):")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	var registrar, password string
	for _, role := range demoAccounts {
		email := string(role) + "@demo.register.example"
		if _, _, err := users.FindUserByEmail(ctx, email); err == nil {
			fmt.Fprintf(tw, "  %s\t%s\t(already exists: password unchanged)\n", role, email)
			continue
		} else if register.ErrorCode(err) != register.ENOTFOUND {
			return err
		}
		pw := rand.Text() // 26 characters, 128 bits
		if err := auth.CheckPolicy(pw, email); err != nil {
			return err
		}
		hash, err := m.Passwords.Hash(ctx, pw)
		if err != nil {
			return err
		}
		if err := users.CreateUser(ctx, &register.User{Email: email, Role: role, OrganisationID: orgIDs[role]}, hash); err != nil {
			return fmt.Errorf("demo account %s: %w", email, err)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", role, email, pw)
		if role == register.RoleRegistrar {
			registrar, password = email, pw
		}
	}
	tw.Flush()
	if registrar != "" {
		fmt.Fprintf(&b, "Log in:  curl -s -X POST %s/v1/auth/login -H 'Content-Type: application/json' -d '{\"email\":\"%s\",\"password\":\"%s\"}'\n", base, registrar, password)
	}
	fmt.Fprintf(&b, "Check:   curl -s '%s/v1/public/search?name=smith'\n", base)
	fmt.Fprintf(&b, "Verify:  curl -s %s/v1/public/registrants/%s\n\n", base, officer)
	_, err = io.WriteString(out, b.String())
	return err
}

// demoGenerator makes synthetic registrants. It draws everything from one
// seeded source, so the same seed gives the same people relative to today.
type demoGenerator struct {
	rng   *mrand.Rand
	today register.Date
	now   time.Time
}

func newDemoGenerator(seed uint64, now time.Time) *demoGenerator {
	return &demoGenerator{rng: mrand.New(mrand.NewPCG(seed, 0x9e3779b97f4a7c15)), today: register.DateOf(now), now: now}
}

// demoStatuses is one block of 200 rows: statuses in realistic proportions
// (most registered; a few per cent lapsed by date and by decision,
// suspended, removed; a few per cent applicants). Rows take their status
// from their place in the block, so every block holds every status.
var demoStatuses = func() []string {
	var s []string
	for _, c := range []struct {
		status string
		n      int
	}{{"applicant", 6}, {"lapsed_by_date", 6}, {"lapsed", 3}, {"suspended", 3}, {"removed", 2}} {
		for range c.n {
			s = append(s, c.status)
		}
	}
	for len(s) < 200 {
		s = append(s, "registered")
	}
	return s
}()

// rows yields count synthetic registrants.
func (g *demoGenerator) rows(count int) iter.Seq2[*register.ImportRow, error] {
	return func(yield func(*register.ImportRow, error) bool) {
		for i := range count {
			// 77 is coprime with 200: statuses interleave within the block.
			if !yield(g.row(demoStatuses[i*77%len(demoStatuses)]), nil) {
				return
			}
		}
	}
}

// daysAgo returns the date n days before today.
func (g *demoGenerator) daysAgo(n int) register.Date { return g.today.AddDate(0, 0, -n) }

// between returns a random int in [lo, hi].
func (g *demoGenerator) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + g.rng.IntN(hi-lo+1)
}

func (g *demoGenerator) row(kind string) *register.ImportRow {
	family, given := familyNames.pick(g.rng), givenNames.pick(g.rng)
	forenames := given.name
	if g.rng.IntN(10) < 3 {
		forenames += " " + givenNames.pick(g.rng).name
	}
	age := g.between(25, 66)
	dob := g.daysAgo(age*365 + g.rng.IntN(365))
	r := &register.ImportRow{Registrant: register.Registrant{
		FamilyName:  family.name,
		GivenNames:  forenames,
		DateOfBirth: dob,
		Email:       given.slug + "." + family.slug + strconv.Itoa(g.rng.IntN(100)) + "@example.org",
	}}
	if g.rng.IntN(100) < 7 {
		// A change of name, e.g. on marriage: the old name stays searchable.
		r.Registrant.PreviousNames = []string{forenames + " " + familyNames.pick(g.rng).name}
	}
	// A career on the register starts at 21 at the earliest and up to 15 years ago.
	career := min(age-21, 15) * 365
	switch kind {
	case "applicant":
		r.Status = register.StatusApplicant
		if g.rng.IntN(2) == 0 {
			r.Qualifications = []*register.Qualification{g.qualification(register.LevelPSO, g.daysAgo(g.between(30, 900)), register.QualificationClaimed)}
		}
		return r
	case "registered":
		r.Status = register.StatusRegistered
		r.AdmittedOn = g.daysAgo(g.between(1, career))
		r.RegisteredUntil = g.today.AddDate(0, 0, g.between(1, 365))
	case "lapsed_by_date":
		r.Status = register.StatusLapsed
		r.RegisteredUntil = g.daysAgo(g.between(1, 730))
		r.AdmittedOn = r.RegisteredUntil.AddDate(0, 0, -g.between(365, 365+career))
	default:
		r.Status = register.Status(kind)
		r.StatusFrom = g.daysAgo(g.between(1, 700))
		r.AdmittedOn = r.StatusFrom.AddDate(0, 0, -g.between(60, 60+career))
		r.RegisteredUntil = r.StatusFrom.AddDate(0, 0, g.between(1, 365))
		r.Reason = demoReasons[r.Status]
	}
	r.Qualifications = g.qualifications(r.AdmittedOn)
	return r
}

var demoReasons = map[register.Status]string{
	register.StatusLapsed:    "Lapsed at the registrant's request: left probation practice.",
	register.StatusSuspended: "Suspended by a fitness-to-practise panel.",
	register.StatusRemoved:   "Removed by a fitness-to-practise panel.",
}

// qualifications gives a registrant admitted on the day their qualifications:
// Probation Services Officers with a verified level 3; Probation Officers
// with a verified level 5, some having started as PSOs; PQiP trainees with a
// level 5 in training and a verified level 3; a few awaiting verification.
func (g *demoGenerator) qualifications(admitted register.Date) []*register.Qualification {
	before := func() register.Date { return admitted.AddDate(0, 0, -g.between(10, 400)) }
	switch p := g.rng.IntN(100); {
	case p < 50:
		return []*register.Qualification{g.qualification(register.LevelPSO, before(), register.QualificationVerified)}
	case p < 78:
		return []*register.Qualification{g.qualification(register.LevelPO, before(), register.QualificationVerified)}
	case p < 90:
		// Started as a PSO and qualified as a PO later, if there was time.
		since := g.today.AddDate(0, 0, -1).Start().Sub(admitted.Start())
		l3 := g.qualification(register.LevelPSO, before(), register.QualificationVerified)
		if days := int(since.Hours() / 24); days > 30 {
			return []*register.Qualification{l3, g.qualification(register.LevelPO, admitted.AddDate(0, 0, g.between(30, days)), register.QualificationVerified)}
		}
		return []*register.Qualification{l3}
	case p < 98:
		return []*register.Qualification{
			g.qualification(register.LevelPSO, before(), register.QualificationVerified),
			g.qualification(register.LevelPO, register.Date{}, register.QualificationInTraining),
		}
	default:
		return []*register.Qualification{g.qualification(register.LevelPSO, before(), register.QualificationClaimed)}
	}
}

func (g *demoGenerator) qualification(level int, awarded register.Date, state register.QualificationState) *register.Qualification {
	awards := levelThreeAwards
	if level == register.LevelPO {
		awards = levelFiveAwards
		if state == register.QualificationInTraining {
			awards = levelFiveAwards[:1] // PQiP
		}
	}
	a := awards[g.rng.IntN(len(awards))]
	return &register.Qualification{Level: level, Title: a.title, AwardingBody: a.body, AwardedOn: awarded, State: state,
		CertificateRef: a.prefix + strconv.Itoa(10_000_000+g.rng.IntN(90_000_000))}
}

type award struct{ title, body, prefix string }

var levelThreeAwards = []award{
	{"Level 3 Diploma in Probation Practice", "Skills for Justice Awards", "SFJ-3-"},
	{"Level 3 Diploma in Probation Practice", "City & Guilds", "CG-3-"},
	{"Level 3 Certificate in Community Justice", "Pearson", "PE-3-"},
}

var levelFiveAwards = []award{
	{"Level 5 Diploma in Probation Practice (PQiP)", "Skills for Justice Awards", "SFJ-5-"},
	{"Graduate Diploma in Community Justice", "University of Portsmouth", "UOP-"},
	{"Diploma in Probation Studies", "De Montfort University", "DMU-"},
	{"BA (Hons) Community Justice", "Sheffield Hallam University", "SHU-"},
}

// weightedNames picks names with frequency falling with rank, so that
// common surnames are common: weight 1/(rank+10), about 3% for the first.
type weightedNames struct {
	names []demoName
	cum   []float64
}

type demoName struct{ name, slug string }

func newWeightedNames(list string) weightedNames {
	var w weightedNames
	total := 0.0
	for i, n := range strings.Split(strings.TrimSpace(list), ",") {
		n = strings.TrimSpace(n)
		total += 1 / float64(i+10)
		w.names = append(w.names, demoName{name: n, slug: emailSlug(n)})
		w.cum = append(w.cum, total)
	}
	return w
}

func (w weightedNames) pick(rng *mrand.Rand) demoName {
	x := rng.Float64() * w.cum[len(w.cum)-1]
	return w.names[sort.SearchFloat64s(w.cum, x)]
}

// emailSlug is a name in lower-case ASCII letters: "Zoë O'Brien" -> "zoeobrien".
func emailSlug(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if r < unicode.MaxASCII && unicode.IsLetter(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// Names roughly in order of frequency in England and Wales, with the
// variety of its probation workforce.
var familyNames = newWeightedNames(`Smith, Jones, Williams, Taylor, Brown, Davies, Evans, Wilson, Thomas, Johnson,
Roberts, Robinson, Thompson, Wright, Walker, White, Edwards, Hughes, Green, Hall, Lewis, Harris, Clarke, Patel,
Jackson, Wood, Turner, Martin, Cooper, Hill, Ward, Morris, Moore, Clark, Lee, King, Baker, Harrison, Morgan, Allen,
James, Scott, Phillips, Watson, Davis, Parker, Price, Bennett, Young, Griffiths, Mitchell, Kelly, Cook, Carter,
Richardson, Bailey, Collins, Bell, Shaw, Murphy, Miller, Cox, Richards, Khan, Marshall, Anderson, Simpson, Ellis,
Adams, Singh, Begum, Wilkinson, Foster, Chapman, Powell, Webb, Rogers, Gray, Mason, Ali, Hunt, Hussain, Campbell,
Matthews, Owen, Palmer, Holmes, Mills, Barnes, Knight, Lloyd, Butler, Russell, Barker, Fisher, Stevens, Jenkins,
Murray, Dixon, Harvey, Graham, Pearson, Ahmed, Fletcher, Walsh, Kaur, Gibson, Howard, Andrews, Stewart, Elliott,
Reynolds, Saunders, Payne, Fox, Ford, Pearce, Day, Brooks, West, Lawrence, Cole, Atkinson, Bradley, Spencer, Gill,
Dawson, Ball, Burton, O'Brien, Watts, Rose, Booth, Perry, Ryan, Grant, Wells, Armstrong, Francis, Rees, Hayes, Hart,
Hudson, Newman, Barrett, Webster, Hunter, Gregory, Carr, Lowe, Page, Marsh, Riley, Dunn, Woods, Parsons, Berry,
Stone, Reid, Holland, Hawkins, Harding, Porter, Robertson, Newton, Oliver, Reed, Kennedy, Williamson, Bird, Gardner,
Shah, Dean, Lane, Cooke, Bates, Henderson, Parry, Burgess, Bishop, Walton, Burns, Nicholson, Shepherd, Ross, Cross,
Long, Freeman, Warren, Nicholls, Hamilton, Byrne, Sutton, McDonald, Yates, Hodgson, Robson, Curtis, Hopkins,
O'Connor, Harper, Coleman, Watkins, Moss, McCarthy, Chambers, O'Neill, Griffin, Sharp, Hardy, Wheeler, Potter,
Osborne, Johnston, Gordon, Doyle, Wallace, George, Jordan, Hutchinson, Rowe, Burke, May, Pritchard, Gilbert, Willis,
Higgins, Read, Miles, Stevenson, Stephenson, Hammond, Arnold, Buckley, Walters, Hewitt, Barber, Nelson, Slater,
Austin, Sullivan, Whitehead, Mann, Frost, Lambert, Stephens, Blake, Akhtar, Lynch, Goodwin, Barton, Woodward,
Thomson, Cunningham, Quinn, Barnett, Baxter, Bibi, Clayton, Nash, Greenwood, Jennings, Holt, Kemp, Poole, Gallagher,
Bond, Stokes, Tucker, Davidson, Fowler, Heath, Norman, Middleton, Lees, Banks, French, Jarvis, Cartwright, Owens,
Hyde, Iqbal, Rahman, Mohammed, Okafor, Adeyemi, Mensah, Osei, Nowak, Kowalski, Nguyen, Chen, Wong, Mistry,
Chauhan, Sharma, Kumar, Joshi, Malik, Mahmood, Islam, Uddin, Miah, Bashir, Chowdhury, Afolabi, Okoro, Boateng,
Campbell-Smith, Lloyd-Jones, Fitzgerald, MacKenzie, Llewellyn, Pritchett, Vaughan, Prosser, Jenkins-Bowen`)

var givenNames = newWeightedNames(`Sarah, David, Emma, James, Claire, Michael, Laura, Paul, Rachel, John, Helen,
Andrew, Nicola, Mark, Louise, Richard, Rebecca, Daniel, Jennifer, Christopher, Lisa, Matthew, Kelly, Stephen,
Gemma, Thomas, Emily, Robert, Hannah, Peter, Amy, Jonathan, Charlotte, Simon, Katie, Gareth, Jessica, Adam, Sophie,
Lee, Victoria, Craig, Joanne, Neil, Samantha, Ian, Natalie, Martin, Jade, Kevin, Lucy, Gary, Stacey, Darren, Kirsty,
Jason, Zoe, Benjamin, Lauren, Samuel, Amanda, Ryan, Karen, Luke, Michelle, Joseph, Alison, Ben, Angela, Jack,
Donna, Liam, Sharon, William, Catherine, Anthony, Elizabeth, Carl, Jane, Scott, Susan, Dean, Julie, Alexander,
Fiona, Philip, Kate, Shaun, Vicky, Lewis, Leanne, Jamie, Clare, Joshua, Megan, Aaron, Chloe, Oliver, Olivia,
Harry, Amelia, George, Grace, Nathan, Ellie, Jordan, Georgia, Kieran, Bethany, Callum, Holly, Connor, Abigail,
Mohammed, Fatima, Muhammad, Aisha, Imran, Ayesha, Asif, Nadia, Tariq, Sana, Harpreet, Priya, Sunil, Anjali, Rajesh,
Pooja, Amir, Yasmin, Kwame, Abena, Chinedu, Ngozi, Tunde, Folake, Kofi, Adwoa, Emeka, Chioma, Marek, Agnieszka,
Piotr, Katarzyna, Tomasz, Magdalena, Siân, Rhys, Cerys, Dafydd, Bethan, Iwan, Ffion, Gethin, Niamh, Seán, Aoife,
Ciarán, Siobhán, Declan, Zoë, Chloë, Renée, José, Noémie, Stuart, Graham, Keith, Trevor, Barry, Colin, Brian, Derek,
Patricia, Margaret, Christine, Deborah, Denise, Janet, Pauline, Lorraine, Tracey, Wendy, Dawn, Sally, Jacqueline,
Gillian, Hayley, Kerry, Carly, Toni, Alex, Sam, Jo, Chris, Kim, Robyn, Jess, Harriet, Eleanor, Florence, Isla, Mia,
Poppy, Freya, Ruby, Evie, Phoebe, Scarlett, Imogen, Alfie, Charlie, Freddie, Archie, Max, Toby, Finley, Reuben,
Theo, Elliot, Owen, Ethan, Dylan, Mason, Kyle, Reece, Bradley, Ashley, Jodie, Kayleigh, Shannon, Demi, Leah`)
