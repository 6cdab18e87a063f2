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
	m.Server = &registerhttp.Server{
		Logger:         m.Logger,
		Now:            m.Now,
		Registrants:    sqlite.NewRegistrantService(m.DB),
		Registrations:  sqlite.NewRegistrationService(m.DB),
		Public:         sqlite.NewPublicService(m.DB),
		Users:          users,
		Sessions:       users,
		Accounts:       sqlite.NewAccountService(m.DB),
		CPD:            sqlite.NewCPDService(m.DB, m.Config.CPD.Requirement()),
		Renewals:       renewals,
		CPDAudits:      renewals,
		Cases:          sqlite.NewCaseService(m.DB),
		Referrals:      sqlite.NewCaseService(m.DB),
		ShareCodes:     sqlite.NewShareCodeService(m.DB, m.Config.CPD.Requirement()),
		Organisations:  orgs,
		Engagements:    orgs,
		Checks:         orgs,
		Watches:        orgs,
		Receipts:       auth.NewReceipts(keys, m.Config.Auth.Issuer),
		Passwords:      m.Passwords,
		Tokens:         auth.NewTokens(keys, m.Config.Auth.Issuer, m.Config.Auth.AccessTTL, m.Now),
		RefreshTTL:     m.Config.Auth.RefreshTTL,
		Ready:          m.DB.Ready,
		OpenAPI:        docs.OpenAPI,
		TrustedProxies: m.Config.HTTP.TrustedProxies,
		PublicURL:      m.Config.HTTP.PublicURL,
		Limits:         m.Config.Limits.RateLimits(),
		Idempotency:    m.DB,
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

// startJobs refreshes stored answers whose time-driven change has come. No
// answer depends on it: reads past changes_at derive the answer themselves.
func (m *Main) startJobs() {
	ctx, cancel := context.WithCancel(context.Background())
	m.stopJobs, m.jobsDone = cancel, make(chan struct{})
	regs := sqlite.NewRegistrationService(m.DB)
	audit := sqlite.NewAuditService(m.DB)
	audit.Keys = m.Keys
	go func() {
		defer close(m.jobsDone)
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := regs.RefreshDue(ctx, 1000); err != nil && ctx.Err() == nil {
					m.Logger.Error("refresh due answers", slog.Any("error", err))
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
func loadConfig(v *viper.Viper) (Config, error) {
	cfg := DefaultConfig()
	if path := v.GetString("config"); path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return cfg, fmt.Errorf("config file: %w", err)
		}
	} else if _, err := os.Stat("register.yaml"); err == nil {
		v.SetConfigFile("register.yaml")
		if err := v.ReadInConfig(); err != nil {
			return cfg, fmt.Errorf("config file: %w", err)
		}
	}
	if err := v.UnmarshalExact(&cfg); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	return cfg, cfg.Validate()
}

func newViper() *viper.Viper {
	v := viper.New()
	v.SetEnvPrefix("REGISTER")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	d := DefaultConfig()
	// Every key needs a default for the environment to reach Unmarshal.
	v.SetDefault("data_dir", d.DataDir)
	v.SetDefault("http.addr", d.HTTP.Addr)
	v.SetDefault("http.trusted_proxies", d.HTTP.TrustedProxies)
	v.SetDefault("http.public_url", d.HTTP.PublicURL)
	v.SetDefault("auth.access_ttl", d.Auth.AccessTTL)
	v.SetDefault("auth.refresh_ttl", d.Auth.RefreshTTL)
	v.SetDefault("auth.issuer", d.Auth.Issuer)
	v.SetDefault("log.level", d.Log.Level)
	v.SetDefault("log.format", d.Log.Format)
	v.SetDefault("cpd.required_hours", d.CPD.RequiredHours)
	v.SetDefault("cpd.required_participatory_hours", d.CPD.RequiredParticipatoryHours)
	v.SetDefault("limits.public", d.Limits.Public)
	v.SetDefault("limits.organisation", d.Limits.Organisation)
	v.SetDefault("limits.login_failures", d.Limits.LoginFailures)
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
}

// main opens a configured Main for a command.
func (e *env) main() (*Main, error) {
	cfg, err := loadConfig(e.v)
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
	_ = e.v.BindPFlag("config", pf.Lookup("config"))
	_ = e.v.BindPFlag("data_dir", pf.Lookup("data-dir"))
	root.AddCommand(newServeCmd(e), newMigrateCmd(e), newUserCmd(e), newAuditCmd(e), newImportCmd(e), newDemoCmd(e), newBackupCmd(e))
	root.AddCommand(newCasesCmd(e))
	return root
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
				if err := seedDemo(cmd.Context(), m, e.out); err != nil {
					return err
				}
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
	_ = e.v.BindPFlag("http.addr", cmd.Flags().Lookup("http-addr"))
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
		return errors.New(register.ErrorMessage(err))
	}
	_, err = fmt.Fprintf(out, "{\"id\":%d,\"email\":%q,\"role\":%q}\n", u.ID, u.Email, u.Role)
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
