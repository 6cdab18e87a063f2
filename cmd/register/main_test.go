package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

// MustRunMain starts the real program on a temp data folder and a free
// port, with cheap password hashing, and stops it when the test ends.
func MustRunMain(t *testing.T) *Main {
	t.Helper()
	m := NewMain()
	m.Config.DataDir = t.TempDir()
	m.Config.HTTP.Addr = "127.0.0.1:0"
	m.Passwords = auth.NewPasswords(auth.TestParams)
	m.Logger = slog.New(slog.DiscardHandler)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// runCLI runs the command line as main does, with stdin, and returns what
// it wrote to standard output and standard error.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd(strings.NewReader(stdin), &out, &errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// request sends a JSON request to the running server and decodes the answer.
func request(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: decoding the answer: %v", method, url, err)
	}
	return resp.StatusCode, out
}

// login signs in through the API and returns the access token.
func login(t *testing.T, m *Main, email, password string) string {
	t.Helper()
	code, body := request(t, "POST", m.URL()+"/v1/auth/login", "", map[string]string{"email": email, "password": password})
	if code != http.StatusOK {
		t.Fatalf("login %s: %d %v", email, code, body)
	}
	token, _ := body["access_token"].(string)
	if token == "" {
		t.Fatalf("login %s: no access token in %v", email, body)
	}
	return token
}

// registrarToken makes a registrar account and signs it in.
func registrarToken(t *testing.T, m *Main) string {
	t.Helper()
	const email, password = "registrar@test.example", "a long enough password"
	hash, err := m.Passwords.Hash(context.Background(), password)
	if err != nil {
		t.Fatal(err)
	}
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	if err := sqlite.NewUserService(m.DB).CreateUser(ctx, &register.User{Email: email, Role: register.RoleRegistrar}, hash); err != nil {
		t.Fatal(err)
	}
	return login(t, m, email, password)
}

// openDB opens the register's database file directly, beneath the program.
func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUserAdd(t *testing.T) {
	m := MustRunMain(t)
	dir := m.Config.DataDir
	const password = "a sufficiently long password"

	t.Run("PrintsOneJSONLine", func(t *testing.T) {
		out, _, err := runCLI(t, password+"\n", "user", "add", "--email", "ada@example.org", "--role", "registrar", "--password-stdin", "--data-dir", dir)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
			t.Fatalf("want one line, got %q", out)
		}
		var u struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
			Role  string `json:"role"`
		}
		if err := json.Unmarshal([]byte(out), &u); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		if u.ID == 0 || u.Email != "ada@example.org" || u.Role != "registrar" {
			t.Fatalf("got %+v", u)
		}
		// The account works against the running server.
		login(t, m, "ada@example.org", password)
	})
	t.Run("ShortPassword", func(t *testing.T) {
		_, _, err := runCLI(t, "short\n", "user", "add", "--email", "bob@example.org", "--role", "admin", "--password-stdin", "--data-dir", dir)
		if err == nil || !strings.Contains(err.Error(), "at least 12 characters") {
			t.Fatalf("want a password policy error, got %v", err)
		}
	})
	t.Run("DuplicateEmail", func(t *testing.T) {
		_, _, err := runCLI(t, password+"\n", "user", "add", "--email", "ADA@example.org", "--role", "admin", "--password-stdin", "--data-dir", dir)
		if err == nil || !strings.Contains(err.Error(), "already") {
			t.Fatalf("want a duplicate email error, got %v", err)
		}
	})
	t.Run("PasswordNotOnCommandLine", func(t *testing.T) {
		_, _, err := runCLI(t, "", "user", "add", "--email", "cy@example.org", "--role", "admin", "--data-dir", dir)
		if err == nil || !strings.Contains(err.Error(), "--password-stdin") {
			t.Fatalf("want --password-stdin required, got %v", err)
		}
	})
}

func TestMigrate(t *testing.T) {
	dir := t.TempDir()
	for i := range 2 {
		out, _, err := runCLI(t, "", "migrate", "--data-dir", dir)
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if !strings.Contains(out, "migrations applied") {
			t.Fatalf("run %d: %q", i+1, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "register.db")); err != nil {
		t.Fatal(err)
	}
}

// TestConfig shows the precedence defaults < register.yaml < REGISTER_* <
// flags through where `migrate` puts the database, and that bad settings
// fail naming their key.
func TestConfig(t *testing.T) {
	t.Chdir(t.TempDir())
	migrate := func(t *testing.T, args ...string) error {
		t.Helper()
		_, _, err := runCLI(t, "", append([]string{"migrate"}, args...)...)
		return err
	}
	dbIn := func(t *testing.T, dir string) {
		t.Helper()
		if _, err := os.Stat(filepath.Join(dir, "register.db")); err != nil {
			t.Fatalf("database not in %s: %v", dir, err)
		}
	}
	write := func(t *testing.T, name, text string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("Defaults", func(t *testing.T) {
		if err := migrate(t); err != nil {
			t.Fatal(err)
		}
		dbIn(t, "data")
	})
	t.Run("FileOverDefaults", func(t *testing.T) {
		write(t, "register.yaml", "data_dir: from-file\n")
		t.Cleanup(func() { os.Remove("register.yaml") })
		if err := migrate(t); err != nil {
			t.Fatal(err)
		}
		dbIn(t, "from-file")
	})
	t.Run("NamedFile", func(t *testing.T) {
		write(t, "other.yaml", "data_dir: from-named-file\n")
		if err := migrate(t, "--config", "other.yaml"); err != nil {
			t.Fatal(err)
		}
		dbIn(t, "from-named-file")
	})
	t.Run("EnvironmentOverFile", func(t *testing.T) {
		write(t, "register.yaml", "data_dir: from-file\n")
		t.Cleanup(func() { os.Remove("register.yaml") })
		t.Setenv("REGISTER_DATA_DIR", "from-env")
		if err := migrate(t); err != nil {
			t.Fatal(err)
		}
		dbIn(t, "from-env")
	})
	t.Run("FlagOverEnvironment", func(t *testing.T) {
		write(t, "register.yaml", "data_dir: from-file\n")
		t.Cleanup(func() { os.Remove("register.yaml") })
		t.Setenv("REGISTER_DATA_DIR", "from-env")
		if err := migrate(t, "--data-dir", "from-flag"); err != nil {
			t.Fatal(err)
		}
		dbIn(t, "from-flag")
	})
	for _, c := range []struct {
		name, file, env, value string
		flags                  []string
		cmd                    string // default migrate
		want                   string // the whole message, or the part that names the key
	}{
		{name: "UnknownNestedKey", file: "data_dir: d\nhttp:\n  adr: 127.0.0.1:1\n",
			want: `unknown config key "http.adr" in bad.yaml (did you mean http.addr?)`},
		{name: "UnknownTopKey", file: "colour: blue\n", want: `unknown config key "colour" in bad.yaml`},
		{name: "ValueForSection", file: "http: 127.0.0.1:1\n", want: "invalid value for http: must be a section of settings, not a single value (in bad.yaml)"},
		{name: "SectionForValue", file: "data_dir:\n  path: d\n", want: "invalid value for data_dir: must be a single value, not a section (in bad.yaml)"},
		{name: "DurationOutOfRange", file: "auth:\n  access_ttl: 5s\n", want: "invalid value for auth.access_ttl: 5s must be between 1m and 24h (in bad.yaml)"},
		{name: "NotADurationInFile", file: "auth:\n  access_ttl: soon\n", want: `invalid value for auth.access_ttl: "soon" is not a duration`},
		{name: "NotADurationInEnvironment", env: "REGISTER_AUTH_ACCESS_TTL", value: "abc",
			want: `invalid value for auth.access_ttl: "abc" is not a duration, such as 90s, 15m or 24h (from REGISTER_AUTH_ACCESS_TTL)`},
		{name: "NotANumberInEnvironment", env: "REGISTER_CPD_REQUIRED_HOURS", value: "thirty",
			want: `invalid value for cpd.required_hours: "thirty" is not a whole number (from REGISTER_CPD_REQUIRED_HOURS)`},
		{name: "BadEnvironment", env: "REGISTER_HTTP_ADDR", value: "nowhere",
			want: `invalid value for http.addr: "nowhere" is not host:port (from REGISTER_HTTP_ADDR)`},
		{name: "BadLogLevel", env: "REGISTER_LOG_LEVEL", value: "loud", want: "invalid value for log.level"},
		{name: "BadFlag", cmd: "serve", flags: []string{"--http-addr", "nowhere"},
			want: `invalid value for http.addr: "nowhere" is not host:port (from --http-addr)`},
		{name: "FlagOverBadEnvironment", cmd: "serve", env: "REGISTER_HTTP_ADDR", value: "127.0.0.1:1", flags: []string{"--http-addr", "nowhere"},
			want: `invalid value for http.addr: "nowhere" is not host:port (from --http-addr)`},
		{name: "EmptyFlag", flags: []string{"--data-dir", ""}, want: "invalid value for data_dir: must not be empty (from --data-dir)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := c.cmd
			if cmd == "" {
				cmd = "migrate"
			}
			args := []string{cmd, "--data-dir", "bad"}
			if c.file != "" {
				write(t, "bad.yaml", c.file)
				args = append(args, "--config", "bad.yaml")
			}
			if c.env != "" {
				t.Setenv(c.env, c.value)
			}
			_, _, err := runCLI(t, "", append(args, c.flags...)...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error with %q, got %v", c.want, err)
			}
			for _, dir := range []string{"bad", "d"} {
				if _, err := os.Stat(filepath.Join(dir, "register.db")); err == nil {
					t.Fatalf("a bad configuration still opened the database in %s", dir)
				}
			}
		})
	}
	t.Run("EveryKeyFromTheEnvironment", func(t *testing.T) {
		// A key reaches Unmarshal from the environment only if viper knows
		// it: every key of Config must, including ones added later.
		known := newViper().AllKeys()
		for key, typ := range configKeys {
			if key == "config" {
				continue
			}
			if !slices.Contains(known, key) {
				t.Errorf("%s has no default: the environment cannot set it", key)
			}
			if typ.Kind() == reflect.String {
				continue // any text is a string
			}
			v := newViper()
			name := "REGISTER_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
			t.Setenv(name, "not-a-value-of-any-kind")
			_, err := loadConfig(v, nil)
			if err == nil || !strings.Contains(err.Error(), "invalid value for "+key+": ") || !strings.Contains(err.Error(), "from "+name) {
				t.Errorf("%s=not-a-value-of-any-kind: got %v", name, err)
			}
			os.Unsetenv(name)
		}
	})
}

func TestAuditVerify(t *testing.T) {
	m := MustRunMain(t)
	dir := m.Config.DataDir
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	// Some writes of different kinds: a user, registrants, an admission.
	if _, _, err := runCLI(t, "a sufficiently long password\n", "user", "add", "--email", "ada@example.org", "--role", "admin", "--password-stdin", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		r := &register.Registrant{FamilyName: "Jones", GivenNames: fmt.Sprintf("Person %d", i), DateOfBirth: register.MustDate("1980-01-01"), Email: "p@example.org"}
		if err := sqlite.NewRegistrantService(m.DB).CreateRegistrant(ctx, r); err != nil {
			t.Fatal(err)
		}
		if _, err := sqlite.NewRegistrationService(m.DB).Transition(ctx, r.Number, register.TransitionAdmit, register.DateOf(time.Now()).AddDate(1, 0, 0), ""); err != nil {
			t.Fatal(err)
		}
	}
	db := openDB(t, filepath.Join(dir, "register.db"))
	entries := count(t, db, `SELECT COUNT(*) FROM audit_log`)
	if entries < 7 {
		t.Fatalf("want at least 7 audit entries, got %d", entries)
	}

	t.Run("Intact", func(t *testing.T) {
		out, _, err := runCLI(t, "", "audit", "verify", "--data-dir", dir)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("audit chain intact: %d entries", entries); !strings.Contains(out, want) {
			t.Fatalf("want %q, got %q", want, out)
		}
	})
	t.Run("UpdateRejected", func(t *testing.T) {
		_, err := db.Exec(`UPDATE audit_log SET actor = 'mallory' WHERE id = 2`)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("want the trigger to refuse, got %v", err)
		}
	})
	t.Run("DeleteRejected", func(t *testing.T) {
		_, err := db.Exec(`DELETE FROM audit_log WHERE id = 2`)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("want the trigger to refuse, got %v", err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log`); n != entries {
			t.Fatalf("entries: want %d, got %d", entries, n)
		}
	})
	t.Run("Tampered", func(t *testing.T) {
		middle := entries / 2
		if _, err := db.Exec(`DROP TRIGGER audit_log_no_update`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`UPDATE audit_log SET actor = 'mallory' WHERE id = ?`, middle); err != nil {
			t.Fatal(err)
		}
		_, _, err := runCLI(t, "", "audit", "verify", "--data-dir", dir)
		if want := fmt.Sprintf("entry %d:", middle); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("want an error naming %q, got %v", want, err)
		}
	})
}

// TestBackup copies the database while registrants are being written: the
// copy is whole and holds every row committed before the backup began.
func TestBackup(t *testing.T) {
	m := MustRunMain(t)
	ctx := register.NewContextWithActor(context.Background(), register.CLIActor)
	var committed atomic.Int64
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() {
		rs := sqlite.NewRegistrantService(m.DB)
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			r := &register.Registrant{FamilyName: "Writer", GivenNames: fmt.Sprintf("Number %d", i), DateOfBirth: register.MustDate("1980-01-01"), Email: "w@example.org"}
			if err := rs.CreateRegistrant(ctx, r); err != nil {
				done <- err
				return
			}
			committed.Add(1)
		}
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); committed.Load() < 20; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d writes in 10 s", committed.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}

	dst := filepath.Join(t.TempDir(), "copy", "register.db")
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	before := committed.Load()
	out, _, err := runCLI(t, "", "backup", dst, "--data-dir", m.Config.DataDir)
	after := committed.Load()
	if err != nil {
		t.Fatal(err)
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("writes during the backup: %v", err)
	}
	if !strings.Contains(out, "backup written to "+dst) {
		t.Fatalf("got %q", out)
	}
	if after == before {
		t.Fatal("no write happened during the backup: the test shows nothing")
	}

	db := openDB(t, dst)
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	n := int64(count(t, db, `SELECT COUNT(*) FROM registrants`))
	if n < before || n > after {
		t.Fatalf("backup holds %d registrants; %d were committed before it began and %d by its end", n, before, after)
	}
	if a := int64(count(t, db, `SELECT COUNT(*) FROM audit_log`)); a != n {
		t.Fatalf("backup holds %d registrants but %d audit entries", n, a)
	}
	// The copy is a working register with an intact audit chain.
	out, _, err = runCLI(t, "", "audit", "verify", "--data-dir", filepath.Dir(dst))
	if err != nil || !strings.Contains(out, fmt.Sprintf("intact: %d entries", n)) {
		t.Fatalf("audit verify on the copy: %q %v", out, err)
	}
	t.Run("RefusesToOverwrite", func(t *testing.T) {
		_, _, err := runCLI(t, "", "backup", dst, "--data-dir", m.Config.DataDir)
		if err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("want a refusal, got %v", err)
		}
	})
}

// TestBulkCollector checks that a bulk load collects less often and puts
// the collector back afterwards, and that GOGC, when set, is left alone.
func TestBulkCollector(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	restore := bulkCollector()
	if during := debug.SetGCPercent(BulkGCPercent); during != BulkGCPercent {
		t.Fatalf("GOGC during a load: %d, want %d", during, BulkGCPercent)
	}
	restore()
	if after := debug.SetGCPercent(100); after != 100 {
		t.Fatalf("GOGC after a load: %d, want 100 as before", after)
	}
	t.Setenv("GOGC", "150")
	restore = bulkCollector()
	if during := debug.SetGCPercent(100); during != 100 {
		t.Fatalf("with GOGC set, the load changed the collector's target to %d", during)
	}
	restore()
}
