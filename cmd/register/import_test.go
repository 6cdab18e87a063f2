package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/probation-register/register/register/sqlite"
)

const importHeader = "family_name,given_names,previous_names,date_of_birth,email,qualification_level,qualification_title,awarding_body,awarded_on,certificate_ref,qualification_state,status,registered_until,status_from,admitted_on\n"

// importRows are good rows, one per kind of history, with dates relative
// to today so that they stay valid.
func importRows() string {
	today := time.Now().UTC()
	d := func(days int) string { return today.AddDate(0, 0, days).Format("2006-01-02") }
	return strings.Join([]string{
		"Okafor,Chinedu,,1985-02-03,c.okafor@example.org,5,Level 5 Diploma in Probation Practice,Skills for Justice Awards,2019-06-30,SFJ-5-1,verified,registered," + d(365) + ",,2020-01-06",
		"Brown,Zoë,Zoë Green,1990-07-07,zoe@example.org,3,Level 3 Diploma in Probation Practice,City & Guilds,2018-05-01,CG-3-1,verified,suspended," + d(200) + "," + d(-30) + ",2021-03-01",
		"Patel,Priya,,1979-11-30,priya@example.org,3,Level 3 Diploma in Probation Practice,Pearson,2017-09-01,PE-3-1,verified,lapsed," + d(-10) + ",,2018-01-01",
		"Nowak,Marek,,1994-04-04,marek@example.org,5,Level 5 Diploma in Probation Practice (PQiP),Skills for Justice Awards,,SFJ-5-2,in_training,registered," + d(100) + ",,",
		"Mensah,Kofi,,1999-12-12,kofi@example.org,3,Level 3 Diploma in Probation Practice,City & Guilds,2024-07-01,CG-3-2,claimed,applicant,,,",
		"Hughes,Gareth,,1970-01-01,gareth@example.org,3,Level 3 Diploma in Probation Practice,Pearson,2010-01-01,PE-3-2,verified,removed," + d(-50) + "," + d(-100) + ",",
	}, "\n") + "\n"
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registrants.csv")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// publicByName finds one registrant through the public search.
func publicByName(t *testing.T, m *Main, name string) map[string]any {
	t.Helper()
	code, body := request(t, "GET", m.URL()+"/v1/public/search?name="+url.QueryEscape(name), "", nil)
	items, _ := body["items"].([]any)
	if code != http.StatusOK || len(items) != 1 {
		t.Fatalf("search %q: %d %v", name, code, body)
	}
	return items[0].(map[string]any)
}

func roles(rec map[string]any) string {
	var out []string
	for _, r := range rec["authorised_roles"].([]any) {
		out = append(out, r.(string))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func registrants(t *testing.T, m *Main) int {
	t.Helper()
	n, err := sqlite.NewImportService(m.DB).CountRegistrants(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// indexes is every index the schema defines, with its definition: a load
// into an empty register drops some and builds them again at the end.
func indexes(t *testing.T, m *Main) string {
	t.Helper()
	var s string
	db := openDB(t, filepath.Join(m.Config.DataDir, "register.db"))
	if err := db.QueryRow(`SELECT group_concat(name || ': ' || sql, char(10)) FROM
		(SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name)`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s, "registrations_status: CREATE INDEX") {
		t.Fatalf("the schema's indexes are not as expected:\n%s", s)
	}
	return s
}

// intact runs SQLite's integrity check, which also checks that every index
// holds exactly its table's rows.
func intact(t *testing.T, m *Main) {
	t.Helper()
	var s string
	if err := openDB(t, filepath.Join(m.Config.DataDir, "register.db")).QueryRow(`PRAGMA integrity_check`).Scan(&s); err != nil || s != "ok" {
		t.Fatalf("integrity check: %q %v", s, err)
	}
}

func TestImport(t *testing.T) {
	t.Run("GoodFile", func(t *testing.T) {
		m := MustRunMain(t)
		schema := indexes(t, m)
		out, _, err := runCLI(t, "", "import", writeFile(t, importHeader+importRows()), "--data-dir", m.Config.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		if got := indexes(t, m); got != schema {
			t.Fatalf("the load into an empty register left the indexes\n%s\nwant\n%s", got, schema)
		}
		intact(t, m)
		if !strings.Contains(out, "import: 6 rows imported, 0 skipped as invalid") {
			t.Fatalf("summary: %q", out)
		}
		for _, c := range []struct{ name, status, roles, summary string }{
			{"okafor", "registered", "PO,PSO", "Probation Officer"},
			{"green", "suspended", "", "Suspended"}, // found by a previous name
			{"patel", "lapsed", "", "lapsed"},
			{"nowak", "registered", "", "no verified qualification"},
			{"hughes", "removed", "", "Removed"},
		} {
			rec := publicByName(t, m, c.name)
			if rec["status"] != c.status || roles(rec) != c.roles || !strings.Contains(rec["summary"].(string), c.summary) {
				t.Errorf("%s: want %s [%s] %q, got %v", c.name, c.status, c.roles, c.summary, rec)
			}
			for _, private := range []string{"date_of_birth", "email"} {
				if _, ok := rec[private]; ok {
					t.Errorf("%s: public answer has %s", c.name, private)
				}
			}
		}
		if q := publicByName(t, m, "nowak")["qualifications"].([]any)[0].(map[string]any); q["description"] != "trainee Probation Officer" {
			t.Errorf("trainee: %v", q)
		}
		code, body := request(t, "GET", m.URL()+"/v1/public/search?name=mensah", "", nil)
		if code != http.StatusOK || len(body["items"].([]any)) != 0 {
			t.Errorf("an applicant is not on the public register: %d %v", code, body)
		}
		if n := registrants(t, m); n != 6 {
			t.Errorf("want 6 registrants, got %d", n)
		}

		// The history came in too: as-at answers before the current status.
		at := func(name string, days int) map[string]any {
			number := publicByName(t, m, name)["register_number"].(string)
			when := time.Now().UTC().AddDate(0, 0, days).Format(time.RFC3339)
			code, body := request(t, "GET", m.URL()+"/v1/public/registrants/"+number+"?at="+url.QueryEscape(when), "", nil)
			if code != http.StatusOK {
				t.Fatalf("%s at %s: %d %v", name, when, code, body)
			}
			return body
		}
		if rec := at("green", -60); rec["status"] != "registered" || roles(rec) != "PSO" {
			t.Errorf("suspended 30 days ago, so registered 60 days ago: %v", rec)
		}
		if rec := at("patel", -20); rec["status"] != "registered" || roles(rec) != "PSO" {
			t.Errorf("lapsed 10 days ago, so registered 20 days ago: %v", rec)
		}
		if rec := at("okafor", -365*5); rec["status"] != "registered" || roles(rec) != "PO,PSO" {
			t.Errorf("admitted 2020-01-06 with a 2019 qualification: %v", rec)
		}

		db := openDB(t, filepath.Join(m.Config.DataDir, "register.db"))
		if n := count(t, db, `SELECT COUNT(*) FROM pragma_foreign_key_check`); n != 0 {
			t.Errorf("%d rows refer to something that does not exist", n)
		}

		// One audit entry per registrant, and the chain holds.
		out, _, err = runCLI(t, "", "audit", "verify", "--data-dir", m.Config.DataDir)
		if err != nil || !strings.Contains(out, "intact: 6 entries") {
			t.Fatalf("audit verify: %q %v", out, err)
		}

		// A second load, into a register that holds rows, keeps its indexes.
		if _, _, err := runCLI(t, "", "import", writeFile(t, importHeader+importRows()), "--data-dir", m.Config.DataDir); err != nil {
			t.Fatal(err)
		}
		if n := registrants(t, m); n != 12 {
			t.Errorf("want 12 registrants after a second load, got %d", n)
		}
		if got := indexes(t, m); got != schema {
			t.Fatalf("the second load left the indexes\n%s\nwant\n%s", got, schema)
		}
		intact(t, m)
	})

	bad := importHeader + importRows()[:strings.Index(importRows(), "\n")+1] +
		"Jones,Sam,,2031-13-01,sam@example.org,3,Level 3 Diploma in Probation Practice,Pearson,2019-01-01,PE-3-9,verified,registered," + time.Now().AddDate(1, 0, 0).Format("2006-01-02") + ",,\n" +
		importRows()[strings.Index(importRows(), "\n")+1:]

	t.Run("BadRowImportsNothing", func(t *testing.T) {
		m := MustRunMain(t)
		schema := indexes(t, m)
		out, stderr, err := runCLI(t, "", "import", writeFile(t, bad), "--data-dir", m.Config.DataDir)
		if err == nil || !strings.Contains(err.Error(), "1 of 7 rows are invalid: nothing imported") {
			t.Fatalf("want a refusal, got %v", err)
		}
		if !strings.Contains(stderr, "row 3, date_of_birth: must be a date YYYY-MM-DD") {
			t.Fatalf("report: %q", stderr)
		}
		if strings.Contains(out, "imported") {
			t.Fatalf("stdout: %q", out)
		}
		if n := registrants(t, m); n != 0 {
			t.Fatalf("want nothing imported, got %d registrants", n)
		}
		if got := indexes(t, m); got != schema {
			t.Fatalf("a refused load left the indexes\n%s\nwant\n%s", got, schema)
		}
		intact(t, m)
	})
	t.Run("SkipInvalid", func(t *testing.T) {
		m := MustRunMain(t)
		out, stderr, err := runCLI(t, "", "import", writeFile(t, bad), "--skip-invalid", "--data-dir", m.Config.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stderr, "row 3, date_of_birth: must be a date YYYY-MM-DD") {
			t.Fatalf("report: %q", stderr)
		}
		if !strings.Contains(out, "import: 6 rows imported, 1 skipped as invalid") {
			t.Fatalf("summary: %q", out)
		}
		if n := registrants(t, m); n != 6 {
			t.Fatalf("want the 6 good rows, got %d registrants", n)
		}
		if rec := publicByName(t, m, "okafor"); rec["status"] != "registered" {
			t.Fatalf("got %v", rec)
		}
	})

	// Each case is a file that imports nothing and the report it gives.
	future := time.Now().AddDate(0, 0, 10).Format("2006-01-02")
	for _, c := range []struct {
		name, file string
		report     []string // in stderr, or else in the error
	}{
		{"UnknownColumn", "family_name,given_names,date_of_birth,email,status,nickname\n", []string{`unknown column "nickname"`}},
		{"MissingColumn", "family_name,given_names,date_of_birth,status\n", []string{"no email column"}},
		{"Empty", "", []string{"is empty"}},
		{"EveryBadRowAmongGoodOnes", importHeader + importRows() +
			"A,B,,1980-13-01,a@example.org,,,,,,,applicant,,,\n" +
			importRows()[:strings.Index(importRows(), "\n")+1] +
			"A,B,,1980-01-01,not-an-email,,,,,,,applicant,,,\n", []string{
			"row 8, date_of_birth: must be a date YYYY-MM-DD", "row 10, email: must be an email address",
			"2 of 9 rows are invalid: nothing imported"}},
		{"FieldCount", importHeader + "Jones,Sam\n", []string{"row 2: has a different number of fields from the header (15)"}},
		{"BadQuote", importHeader + "Jo\"nes,Sam,,1980-01-01,s@example.org,,,,,,,applicant,,,\n", []string{"row 2: is not valid CSV"}},
		{"EveryProblemOfARow", importHeader + ",Sam,,2020-01-01,nope,7,,,,,,registered,2020-01-01,,\n", []string{
			"row 2, family_name: is required", "row 2, date_of_birth: must be at least 16 years ago",
			"row 2, email: must be an email address", "row 2, qualification_level: must be 3, 5 or empty",
			"row 2, registered_until: must be after today"}},
		{"StatusRules", importHeader +
			"A,B,,1980-01-01,a@example.org,,,,,,,applicant,2027-01-01,,\n" +
			"A,B,,1980-01-01,a@example.org,,,,,,,suspended,,,\n" +
			"A,B,,1980-01-01,a@example.org,,,,,,,retired,2027-01-01,,\n" +
			"A,B,,1980-01-01,a@example.org,,,,,,,removed,2025-01-01," + future + ",\n" +
			"A,B,,1980-01-01,a@example.org,,,,,,,lapsed,2025-01-01,2024-01-01,2024-06-01\n", []string{
			"row 2, registered_until: must be empty for an applicant", "row 3, registered_until: is required",
			"row 4, status: must be one of applicant, registered, lapsed, suspended, removed",
			"row 5, status_from: must not be in the future", "row 6, admitted_on: must be before status_from"}},
		{"QualificationRules", importHeader +
			"A,B,,1980-01-01,a@example.org,3,L3,Body,,C1,in_training,applicant,,,\n" +
			"A,B,,1980-01-01,a@example.org,,L3,,,,,applicant,,,\n" +
			"A,B,,1980-01-01,a@example.org,5,L5,Body,2020-01-01,C1,awarded,applicant,,,\n" +
			"A,B,,1980-01-01,a@example.org,5,L5,Body," + future + ",C1,verified,applicant,,,\n", []string{
			"row 2, qualification_state: in_training applies to level 5 only",
			"row 3, qualification_title: must be empty when qualification_level is empty",
			"row 4, qualification_state: must be claimed, in_training or verified",
			"row 5, awarded_on: must not be in the future"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := MustRunMain(t)
			_, stderr, err := runCLI(t, "", "import", writeFile(t, c.file), "--data-dir", m.Config.DataDir)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, want := range c.report {
				if !strings.Contains(stderr, want) && !strings.Contains(err.Error(), want) {
					t.Errorf("want %q in the report; stderr %q, error %v", want, stderr, err)
				}
			}
			if n := registrants(t, m); n != 0 {
				t.Fatalf("want nothing imported, got %d", n)
			}
		})
	}
}

func TestDemo(t *testing.T) {
	m := MustRunMain(t)
	dir := m.Config.DataDir
	out, _, err := runCLI(t, "", "demo", "--count", "2000", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "demo: 2000 synthetic registrants written in") {
		t.Fatalf("got %q", out)
	}
	token := registrarToken(t, m)
	for _, status := range []string{"applicant", "registered", "lapsed", "suspended", "removed"} {
		code, body := request(t, "GET", m.URL()+"/v1/registrants?limit=1&status="+status, token, nil)
		if code != http.StatusOK || len(body["items"].([]any)) != 1 {
			t.Errorf("status %s: %d %v", status, code, body)
		}
	}

	db := openDB(t, filepath.Join(dir, "register.db"))
	for _, c := range []struct {
		what  string
		query string
		min   int
	}{
		{"most registered", `SELECT COUNT(*) FROM registrations WHERE status = 'registered' AND registered_until >= date('now')`, 1600},
		{"lapsed by date", `SELECT COUNT(*) FROM registrations g WHERE status = 'lapsed'
			AND NOT EXISTS (SELECT 1 FROM registration_periods p WHERE p.registrant_id = g.registrant_id AND p.status = 'lapsed')`, 20},
		{"lapsed by decision", `SELECT COUNT(DISTINCT registrant_id) FROM registration_periods WHERE status = 'lapsed'`, 20},
		{"PQiP trainees", `SELECT COUNT(DISTINCT registrant_id) FROM qualifications WHERE initial_state = 'in_training'`, 50},
		{"verified POs", `SELECT COUNT(*) FROM qualifications WHERE level = 5 AND verified_at IS NOT NULL`, 400},
		{"previous names", `SELECT COUNT(*) FROM registrants WHERE previous_names != '[]'`, 50},
		{"admitted over the years", `SELECT COUNT(DISTINCT substr(first_admitted_at, 1, 4)) FROM registrations`, 10},
		{"common surnames common", `SELECT COUNT(*) FROM registrants WHERE family_name = 'Smith'`, 20},
	} {
		if n := count(t, db, c.query); n < c.min {
			t.Errorf("%s: want at least %d, got %d", c.what, c.min, n)
		}
	}
	if n := count(t, db, `SELECT COUNT(DISTINCT register_number) FROM registrants`); n != 2000 {
		t.Errorf("want 2000 distinct numbers, got %d", n)
	}
	// The bulk writer gives out the ids itself, with foreign keys off.
	if n := count(t, db, `SELECT COUNT(*) FROM pragma_foreign_key_check`); n != 0 {
		t.Errorf("%d rows refer to something that does not exist", n)
	}

	t.Run("RefusesANonEmptyRegister", func(t *testing.T) {
		_, _, err := runCLI(t, "", "demo", "--count", "10", "--data-dir", dir)
		if err == nil || !strings.Contains(err.Error(), "already holds 2000 registrants") {
			t.Fatalf("want a refusal, got %v", err)
		}
	})
	t.Run("Force", func(t *testing.T) {
		out, _, err := runCLI(t, "", "demo", "--count", "10", "--seed", "7", "--force", "--data-dir", dir)
		if err != nil || !strings.Contains(out, "10 synthetic registrants") {
			t.Fatalf("%q %v", out, err)
		}
		if n := registrants(t, m); n != 2010 {
			t.Fatalf("want 2010, got %d", n)
		}
	})
	t.Run("AuditChainIntact", func(t *testing.T) {
		out, _, err := runCLI(t, "", "audit", "verify", "--data-dir", dir)
		if err != nil || !strings.Contains(out, "intact") {
			t.Fatalf("%q %v", out, err)
		}
	})
}

func TestSeedDemo(t *testing.T) {
	m := MustRunMain(t)
	var first strings.Builder
	if err := seedDemo(context.Background(), m, &first); err != nil {
		t.Fatal(err)
	}
	printed := map[string][2]string{} // role: email, password
	for _, line := range strings.Split(first.String(), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && strings.HasSuffix(f[1], "@demo.register.example") {
			printed[f[0]] = [2]string{f[1], f[2]}
		}
	}
	for _, role := range []string{"admin", "registrar", "panel_member", "employer", "agency"} {
		if _, ok := printed[role]; !ok {
			t.Errorf("no %s account in %q", role, first.String())
		}
	}
	if !strings.Contains(first.String(), "shown once") {
		t.Errorf("no warning that the passwords are shown once: %q", first.String())
	}
	reg := printed["registrar"]
	token := login(t, m, reg[0], reg[1])
	// The example to verify is a Probation Officer.
	_, example, _ := strings.Cut(first.String(), "/v1/public/registrants/")
	example, _, _ = strings.Cut(example, "\n")
	if code, rec := request(t, "GET", m.URL()+"/v1/public/registrants/"+example, "", nil); code != http.StatusOK || roles(rec) != "PO,PSO" {
		t.Errorf("example %q: %d %v", example, code, rec)
	}
	for _, status := range []string{"applicant", "registered", "lapsed", "suspended", "removed"} {
		code, body := request(t, "GET", m.URL()+"/v1/registrants?limit=1&status="+status, token, nil)
		if code != http.StatusOK || len(body["items"].([]any)) != 1 {
			t.Errorf("status %s: %d %v", status, code, body)
		}
	}
	if n := registrants(t, m); n != demoRegistrants {
		t.Errorf("want %d registrants, got %d", demoRegistrants, n)
	}
	// The bulk write put the serving connection's settings back.
	var keys int
	if err := m.DB.Writer().QueryRow(`PRAGMA foreign_keys`).Scan(&keys); err != nil || keys != 1 {
		t.Errorf("foreign keys after seeding: %d %v", keys, err)
	}

	t.Run("SecondRunPrintsNoSecret", func(t *testing.T) {
		var again strings.Builder
		if err := seedDemo(context.Background(), m, &again); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(again.String(), "already exists") {
			t.Fatalf("got %q", again.String())
		}
		for role, cred := range printed {
			if strings.Contains(again.String(), cred[1]) {
				t.Fatalf("the %s password was printed again", role)
			}
		}
		if n := registrants(t, m); n != demoRegistrants {
			t.Fatalf("want %d registrants still, got %d", demoRegistrants, n)
		}
	})
	t.Run("PasswordsAreDifferent", func(t *testing.T) {
		seen := map[string]bool{}
		for _, cred := range printed {
			if seen[cred[1]] {
				t.Fatalf("two accounts share the password %q", cred[1])
			}
			seen[cred[1]] = true
		}
	})
}
