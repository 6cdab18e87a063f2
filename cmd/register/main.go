// Command register is the National Probation Register: the server and its
// operator commands in one binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/docs"
	registerhttp "github.com/probation-register/register/http"
	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
	"github.com/probation-register/register/webhook"
)

func main() {
	if err := newRootCmd(os.Stdin, os.Stdout, os.Stderr).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "register:", err)
		os.Exit(1)
	}
}

// Main is the running program: configuration, store and server, so that
// tests can start and stop the real thing.
type Main struct {
	Config    Config
	Logger    *slog.Logger
	Passwords *auth.Passwords
	Now       func() time.Time

	DB     *sqlite.DB
	Keys   *auth.Keyring
	Server *registerhttp.Server

	httpServer *http.Server
	ln         net.Listener
	stopJobs   context.CancelFunc
	jobsDone   chan struct{}
}

// NewMain returns a Main with default configuration.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)), Now: time.Now}
}

// Open opens the store and loads (or makes) the signing keys.
func (m *Main) Open() error {
	if err := m.Config.Validate(); err != nil {
		return err
	}
	m.DB = sqlite.NewDB(filepath.Join(m.Config.DataDir, "register.db"))
	m.DB.Now = m.Now
	if err := m.DB.Open(); err != nil {
		return err
	}
	keys, made, err := auth.LoadKeyring(filepath.Join(m.Config.DataDir, "keys"), true)
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	if made {
		m.Logger.Warn("generated a new signing key; keep the data folder's keys directory safe and backed up",
			slog.String("dir", filepath.Join(m.Config.DataDir, "keys")), slog.String("kid", keys.Current().ID))
	}
	m.Keys = keys
	if m.Passwords == nil {
		m.Passwords = auth.NewPasswords(nil)
	}
	users := sqlite.NewUserService(m.DB)
	renewals := sqlite.NewRenewalService(m.DB, m.Config.CPD.Requirement())
	orgs := sqlite.NewOrganisationService(m.DB)
	events := sqlite.NewEventService(m.DB)
	m.Server = &registerhttp.Server{
		Logger:          m.Logger,
		Now:             m.Now,
		Registrants:     sqlite.NewRegistrantService(m.DB),
		Registrations:   sqlite.NewRegistrationService(m.DB),
		Public:          sqlite.NewPublicService(m.DB),
		Users:           users,
		Sessions:        users,
		Accounts:        sqlite.NewAccountService(m.DB),
		CPD:             sqlite.NewCPDService(m.DB, m.Config.CPD.Requirement()),
		Renewals:        renewals,
		CPDAudits:       renewals,
		Cases:           sqlite.NewCaseService(m.DB),
		Referrals:       sqlite.NewCaseService(m.DB),
		ShareCodes:      sqlite.NewShareCodeService(m.DB, m.Config.CPD.Requirement()),
		Organisations:   orgs,
		Engagements:     orgs,
		Checks:          orgs,
		Watches:         orgs,
		Events:          events,
		Webhooks:        events,
		WebhookInsecure: m.Config.Webhooks.AllowInsecure,
		Receipts:        auth.NewReceipts(keys, m.Config.Auth.Issuer),
		Passwords:       m.Passwords,
		Tokens:          auth.NewTokens(keys, m.Config.Auth.Issuer, m.Config.Auth.AccessTTL, m.Now),
		RefreshTTL:      m.Config.Auth.RefreshTTL,
		Ready:           m.DB.Ready,
		OpenAPI:         docs.OpenAPI,
		TrustedProxies:  m.Config.HTTP.TrustedProxies,
		PublicURL:       m.Config.HTTP.PublicURL,
		Limits:          m.Config.Limits.RateLimits(),
		Idempotency:     m.DB,
	}
	return nil
}

// Run opens everything, starts listening and serving, and returns.
func (m *Main) Run(ctx context.Context) error {
	if m.DB == nil {
		if err := m.Open(); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", m.Config.HTTP.Addr)
	if err != nil {
		return err
	}
	m.ln = ln
	// Public answers from memory once built (register/sqlite/answercache.go);
	// from the database until then.
	if err := m.DB.StartAnswerCache(m.Logger); err != nil {
		m.Logger.Warn("answers come from the database only", slog.Any("error", err))
	}
	// "Who checked me" indexed a moment after each check (register/sqlite/verifyindex.go).
	m.DB.StartVerificationIndex(m.Logger)
	m.httpServer = m.Server.HTTPServer(m.Config.HTTP.Addr)
	go func() {
		if err := m.httpServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server", slog.Any("error", err))
		}
	}()
	m.startJobs()
	m.Logger.Info("register serving", slog.String("url", m.URL()))
	return nil
}

// startJobs refreshes stored answers whose time-driven change has come
// (recording the change in the feeds of the organisations watching), signs
// audit checkpoints and delivers webhooks. No answer depends on them: reads
// past changes_at derive the answer themselves.
func (m *Main) startJobs() {
	ctx, cancel := context.WithCancel(context.Background())
	m.stopJobs, m.jobsDone = cancel, make(chan struct{})
	regs := sqlite.NewRegistrationService(m.DB)
	audit := sqlite.NewAuditService(m.DB)
	audit.Keys = m.Keys
	hooks := &webhook.Dispatcher{
		Store:    sqlite.NewEventService(m.DB),
		Logger:   m.Logger,
		Now:      m.DB.Now,
		Client:   webhook.NewClient(m.Config.Webhooks.AllowInsecure),
		RetryFor: m.Config.Webhooks.RetryFor,
		Workers:  m.Config.Webhooks.Workers,
	}
	hooksDone := make(chan struct{})
	go func() {
		defer close(hooksDone)
		hooks.Run(ctx, 2*time.Second)
	}()
	go func() {
		defer close(m.jobsDone)
		defer func() { <-hooksDone }()
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// Many registrations expire at the same midnight: work through
				// them in batches, each a short write, until none is due.
				for ctx.Err() == nil {
					n, err := regs.RefreshDue(ctx, refreshBatch)
					if err != nil && ctx.Err() == nil {
						m.Logger.Error("refresh due answers", slog.Any("error", err))
					}
					if err != nil || n < refreshBatch {
						break
					}
				}
				// A signed checkpoint a minute bounds what a rewrite or a lost
				// tail could hide (see register/sqlite/checkpoint.go).
				if _, err := audit.Checkpoint(ctx); err != nil && ctx.Err() == nil {
					m.Logger.Error("audit checkpoint", slog.Any("error", err))
				}
			}
		}
	}()
}

// refreshBatch is how many due answers one write transaction refreshes.
const refreshBatch = 500

// URL is the server's base URL.
func (m *Main) URL() string {
	if m.ln == nil {
		return ""
	}
	return "http://" + m.ln.Addr().String()
}

// Close stops serving and closes the store.
func (m *Main) Close() error {
	var errs []error
	if m.httpServer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		errs = append(errs, m.httpServer.Shutdown(ctx))
	}
	if m.stopJobs != nil {
		m.stopJobs()
		<-m.jobsDone
		// Sign the head on the way out, so a clean stop leaves nothing unanchored.
		audit := sqlite.NewAuditService(m.DB)
		audit.Keys = m.Keys
		if _, err := audit.Checkpoint(context.Background()); err != nil {
			errs = append(errs, fmt.Errorf("audit checkpoint: %w", err))
		}
	}
	if m.DB != nil {
		errs = append(errs, m.DB.Close())
	}
	return errors.Join(errs...)
}

// loadConfig fills cfg from defaults < register.yaml < REGISTER_* < flags.
// flags maps each key to the flag bound to it, to say where a bad value
// came from. A key the register does not know, in the file, and a value
// of the wrong kind or out of range, wherever it was set, fail with a
// message naming the key in dotted form.
func loadConfig(v *viper.Viper, flags map[string]boundFlag) (Config, error) {
	cfg := DefaultConfig()
	file := v.GetString("config")
	if file == "" {
		if _, err := os.Stat("register.yaml"); err == nil {
			file = "register.yaml"
		}
	}
	var inFile *viper.Viper // the file alone, to tell what it sets
	if file != "" {
		inFile = viper.New()
		inFile.SetConfigFile(file)
		if err := inFile.ReadInConfig(); err != nil {
			return cfg, fmt.Errorf("config file: %w", err)
		}
		if err := checkFileKeys(inFile, file); err != nil {
			return cfg, err
		}
		v.SetConfigFile(file)
		if err := v.ReadInConfig(); err != nil {
			return cfg, fmt.Errorf("config file: %w", err)
		}
	}
	// source says where a key's value came from, in viper's order.
	source := func(key string) string {
		if f, ok := flags[key]; ok && f.changed() {
			return "from --" + f.name
		}
		name := "REGISTER_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		if os.Getenv(name) != "" {
			return "from " + name
		}
		if inFile != nil && inFile.IsSet(key) {
			return "in " + file
		}
		return ""
	}
	if err := checkTypes(v, source); err != nil {
		return cfg, err
	}
	if err := v.UnmarshalExact(&cfg); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	var errs []error
	for _, e := range cfg.problems() {
		e.Source = source(e.Key)
		errs = append(errs, e)
	}
	return cfg, errors.Join(errs...)
}

func newViper() *viper.Viper {
	v := viper.New()
	v.SetEnvPrefix("REGISTER")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	setDefaults(v)
	return v
}

func newLogger(c LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// env is what commands read and write besides their flags.
type env struct {
	in       io.Reader
	out, err io.Writer
	v        *viper.Viper
	// flags are the flags bound to config keys, by key.
	flags map[string]boundFlag
}

// boundFlag is a command-line flag that sets a config key.
type boundFlag struct {
	name    string
	changed func() bool
}

// bindFlag makes the command's flag name the highest-precedence source of
// a config key.
func (e *env) bindFlag(key string, cmd *cobra.Command, name string, persistent bool) {
	fs := cmd.Flags()
	if persistent {
		fs = cmd.PersistentFlags()
	}
	if e.flags == nil {
		e.flags = map[string]boundFlag{}
	}
	e.flags[key] = boundFlag{name: name, changed: func() bool { return fs.Changed(name) }}
	_ = e.v.BindPFlag(key, fs.Lookup(name))
}

// main opens a configured Main for a command.
func (e *env) main() (*Main, error) {
	cfg, err := loadConfig(e.v, e.flags)
	if err != nil {
		return nil, err
	}
	m := NewMain()
	m.Config = cfg
	m.Logger = newLogger(cfg.Log, e.err)
	e.v.Set("log.level", cfg.Log.Level)
	if err := m.Open(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func newRootCmd(in io.Reader, out, errOut io.Writer) *cobra.Command {
	e := &env{in: in, out: out, err: errOut, v: newViper()}
	root := &cobra.Command{
		Use:           "register",
		Short:         "The National Probation Register",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	pf := root.PersistentFlags()
	pf.String("config", "", "config file (default ./register.yaml if present)")
	pf.String("data-dir", "", "data folder (default ./data)")
	e.bindFlag("config", root, "config", true)
	e.bindFlag("data_dir", root, "data-dir", true)
	root.AddCommand(newServeCmd(e), newMigrateCmd(e), newUserCmd(e), newAuditCmd(e), newImportCmd(e), newDemoCmd(e), newBackupCmd(e))
	root.AddCommand(newCasesCmd(e))
	return root
}

// DefaultGoMemoryLimit is the soft limit on the Go runtime's memory in
// `serve` unless GOMEMLIMIT sets another (docs/operations.md).
const DefaultGoMemoryLimit = 48 << 20

// BulkGCPercent is the collector's target (GOGC) for the length of a bulk
// load, `import` or `demo`, unless GOGC sets another. A load allocates
// fast and keeps little (a few batches in flight): collecting at 400 %
// instead of 100 % gave a million-row demo load back 3 to 4 s of its 35 s
// of CPU for 40 MB more memory (docs/performance.md).
const BulkGCPercent = 400

// bulkCollector sets BulkGCPercent and returns what puts the collector back.
func bulkCollector() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	old := debug.SetGCPercent(BulkGCPercent)
	return func() { debug.SetGCPercent(old) }
}

func newServeCmd(e *env) *cobra.Command {
	var demo bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the register over HTTP",
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := e.main()
			if err != nil {
				return err
			}
			defer m.Close()
			if demo {
				if err := serveDemo(cmd.Context(), m, e.out); err != nil {
					return err
				}
			}
			if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
				// The Go heap's own share of the server's memory, beside the
				// answers held outside it and SQLite's caches: collected
				// harder near the limit rather than allowed to double.
				debug.SetMemoryLimit(DefaultGoMemoryLimit)
			}
			if err := m.Run(cmd.Context()); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			m.Logger.Info("shutting down")
			return nil
		},
	}
	cmd.Flags().String("http-addr", "", "listen address (default 127.0.0.1:8080)")
	e.bindFlag("http.addr", cmd, "http-addr", false)
	cmd.Flags().BoolVar(&demo, "demo", false, "fill an empty register with synthetic demo data and print demo credentials")
	return cmd
}

func newMigrateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations",
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := e.main() // Open applies pending migrations
			if err != nil {
				return err
			}
			defer m.Close()
			fmt.Fprintln(e.out, "migrations applied")
			return nil
		},
	}
}

func newUserCmd(e *env) *cobra.Command {
	user := &cobra.Command{Use: "user", Short: "Manage user accounts"}
	var email, role string
	var stdin bool
	var orgID int64
	add := &cobra.Command{
		Use:   "add",
		Short: "Add a user; prints it as one JSON line",
		RunE: func(cmd *cobra.Command, args []string) error {
			if !stdin {
				return errors.New("--password-stdin is required: passwords never go on the command line")
			}
			pw, err := readLine(e.in)
			if err != nil {
				return err
			}
			if err := auth.CheckPolicy(pw, email); err != nil {
				return errors.New(register.ErrorMessage(err))
			}
			m, err := e.main()
			if err != nil {
				return err
			}
			defer m.Close()
			return addUser(cmd.Context(), m, e.out, &register.User{Email: email, Role: register.Role(role), OrganisationID: orgID}, pw)
		},
	}
	add.Flags().StringVar(&email, "email", "", "email address (required)")
	add.Flags().StringVar(&role, "role", "", "role: admin, registrar, panel_member, employer, agency, registrant")
	add.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from standard input")
	add.Flags().Int64Var(&orgID, "org", 0, "organisation id an employer or agency user acts for")
	_ = add.MarkFlagRequired("email")
	_ = add.MarkFlagRequired("role")
	user.AddCommand(add)
	return user
}

func readLine(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1024))
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimRight(line, "\r"), nil
}

func addUser(ctx context.Context, m *Main, out io.Writer, u *register.User, password string) error {
	hash, err := m.Passwords.Hash(ctx, password)
	if err != nil {
		return err
	}
	ctx = register.NewContextWithActor(ctx, register.CLIActor)
	if err := sqlite.NewUserService(m.DB).CreateUser(ctx, u, hash); err != nil {
		if register.ErrorFields(err)["organisation_id"] != "" {
			return fmt.Errorf("--org %d: there is no organisation with that id", u.OrganisationID)
		}
		return errors.New(register.ErrorMessage(err))
	}
	line := fmt.Sprintf("{\"id\":%d,\"email\":%q,\"role\":%q", u.ID, u.Email, u.Role)
	if u.OrganisationID != 0 {
		line += fmt.Sprintf(",\"organisation_id\":%d", u.OrganisationID)
	}
	_, err = fmt.Fprintln(out, line+"}")
	return err
}

func newAuditCmd(e *env) *cobra.Command {
	audit := &cobra.Command{Use: "audit", Short: "Check the audit log"}
	audit.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "Walk the hash chain; exit non-zero naming the first broken entry",
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := e.main()
			if err != nil {
				return err
			}
			defer m.Close()
			svc := sqlite.NewAuditService(m.DB)
			svc.Keys = m.Keys
			n, err := svc.VerifyAudit(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(e.out, "audit chain intact: %d entries\n", n)
			if id, hash, err := svc.NewestCheckpoint(cmd.Context()); err != nil {
				return err
			} else if id != 0 {
				// Keep this line outside the database: see docs/operations.md.
				fmt.Fprintf(e.out, "newest signed checkpoint: entry %d, hash %s\n", id, hash)
			}
			return nil
		},
	})
	return audit
}
