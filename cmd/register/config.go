package main

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/spf13/viper"

	registerhttp "github.com/probation-register/register/http"
	"github.com/probation-register/register/register"
)

// Config is the register's configuration. Defaults need nothing: SQLite in
// ./data, listening on loopback, signing keys generated on first start.
type Config struct {
	DataDir  string         `mapstructure:"data_dir"`
	HTTP     HTTPConfig     `mapstructure:"http"`
	Auth     AuthConfig     `mapstructure:"auth"`
	Log      LogConfig      `mapstructure:"log"`
	CPD      CPDConfig      `mapstructure:"cpd"`
	Limits   LimitsConfig   `mapstructure:"limits"`
	Webhooks WebhooksConfig `mapstructure:"webhooks"`
	// File is the config file named by --config or REGISTER_CONFIG, if any.
	File string `mapstructure:"config"`
}

// HTTPConfig is the listener.
type HTTPConfig struct {
	Addr string `mapstructure:"addr"`
	// TrustedProxies may set the client address with X-Forwarded-For.
	TrustedProxies []string `mapstructure:"trusted_proxies"`
	// PublicURL is the register's public address, for links in certificate
	// QR codes (e.g. https://register.example); empty uses each request's.
	PublicURL string `mapstructure:"public_url"`
}

// AuthConfig is tokens and their lifetimes.
type AuthConfig struct {
	AccessTTL  time.Duration `mapstructure:"access_ttl"`
	RefreshTTL time.Duration `mapstructure:"refresh_ttl"`
	Issuer     string        `mapstructure:"issuer"`
}

// CPDConfig is the CPD each registration year must hold, in whole hours.
type CPDConfig struct {
	RequiredHours              int `mapstructure:"required_hours"`
	RequiredParticipatoryHours int `mapstructure:"required_participatory_hours"`
}

// Requirement is the configured requirement in the register's terms.
func (c CPDConfig) Requirement() register.Requirement {
	return register.Requirement{Hours: register.WholeHours(c.RequiredHours), Participatory: register.WholeHours(c.RequiredParticipatoryHours)}
}

// LimitsConfig is the request budgets, each "N-P" (N requests per S, M, H
// or D); "off" removes a limit.
type LimitsConfig struct {
	Public        string `mapstructure:"public"`
	Organisation  string `mapstructure:"organisation"`
	LoginFailures string `mapstructure:"login_failures"`
}

// RateLimits is the configured budgets in the server's terms.
func (c LimitsConfig) RateLimits() registerhttp.RateLimits {
	off := func(s string) string {
		if s == "off" {
			return ""
		}
		return s
	}
	return registerhttp.RateLimits{Public: off(c.Public), Organisation: off(c.Organisation), LoginFailures: off(c.LoginFailures)}
}

// WebhooksConfig is how organisations' webhooks are delivered.
type WebhooksConfig struct {
	// RetryFor is how long a failing delivery is retried before it is given up on.
	RetryFor time.Duration `mapstructure:"retry_for"`
	// Workers bounds concurrent deliveries.
	Workers int `mapstructure:"workers"`
	// AllowInsecure accepts http:// addresses and private networks
	// (development only: never on a register reachable from outside).
	AllowInsecure bool `mapstructure:"allow_insecure"`
}

// LogConfig is the structured log.
type LogConfig struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

// DefaultConfig is the configuration with nothing set.
func DefaultConfig() Config {
	return Config{
		DataDir:  "./data",
		HTTP:     HTTPConfig{Addr: "127.0.0.1:8080"},
		Auth:     AuthConfig{AccessTTL: 15 * time.Minute, RefreshTTL: 30 * 24 * time.Hour, Issuer: "national-probation-register"},
		Log:      LogConfig{Level: "info", Format: "text"},
		CPD:      CPDConfig{RequiredHours: 30, RequiredParticipatoryHours: 10},
		Limits:   LimitsConfig{Public: "600-M", Organisation: "1200-M", LoginFailures: "10-H"},
		Webhooks: WebhooksConfig{RetryFor: 24 * time.Hour, Workers: 8},
	}
}

// Validate reports every unusable value, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	for _, e := range c.problems() {
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// problems lists the unusable values, each naming its key.
func (c *Config) problems() []*configError {
	var errs []*configError
	if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, invalid("data_dir", "must not be empty"))
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		errs = append(errs, invalid("http.addr", "%q is not host:port", c.HTTP.Addr))
	}
	for _, p := range c.HTTP.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				errs = append(errs, invalid("http.trusted_proxies", "%q is not an IP address or CIDR range", p))
			}
		}
	}
	if u, err := url.Parse(c.HTTP.PublicURL); c.HTTP.PublicURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
		errs = append(errs, invalid("http.public_url", "%q is not an http(s) URL", c.HTTP.PublicURL))
	}
	if c.Auth.AccessTTL < time.Minute || c.Auth.AccessTTL > 24*time.Hour {
		errs = append(errs, invalid("auth.access_ttl", "%s must be between 1m and 24h", c.Auth.AccessTTL))
	}
	if c.Auth.RefreshTTL < c.Auth.AccessTTL || c.Auth.RefreshTTL > 365*24*time.Hour {
		errs = append(errs, invalid("auth.refresh_ttl", "%s must be between auth.access_ttl and 8760h", c.Auth.RefreshTTL))
	}
	if c.Auth.Issuer == "" {
		errs = append(errs, invalid("auth.issuer", "must not be empty"))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, invalid("log.level", "%q must be debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		errs = append(errs, invalid("log.format", "%q must be text or json", c.Log.Format))
	}
	if c.Webhooks.RetryFor < 24*time.Hour || c.Webhooks.RetryFor > 30*24*time.Hour {
		errs = append(errs, invalid("webhooks.retry_for", "%s must be between 24h and 720h", c.Webhooks.RetryFor))
	}
	if c.Webhooks.Workers < 1 || c.Webhooks.Workers > 256 {
		errs = append(errs, invalid("webhooks.workers", "%d must be between 1 and 256", c.Webhooks.Workers))
	}
	if c.CPD.RequiredHours < 0 || c.CPD.RequiredHours > 1000 {
		errs = append(errs, invalid("cpd.required_hours", "%d must be between 0 and 1000", c.CPD.RequiredHours))
	}
	if c.CPD.RequiredParticipatoryHours < 0 || c.CPD.RequiredParticipatoryHours > c.CPD.RequiredHours {
		errs = append(errs, invalid("cpd.required_participatory_hours", "%d must be between 0 and cpd.required_hours", c.CPD.RequiredParticipatoryHours))
	}
	for _, l := range []struct{ key, v string }{{"limits.public", c.Limits.Public}, {"limits.organisation", c.Limits.Organisation}, {"limits.login_failures", c.Limits.LoginFailures}} {
		if l.v == "off" {
			continue
		}
		if _, err := registerhttp.ParseRate(l.v); err != nil || l.v == "" {
			errs = append(errs, invalid(l.key, "%q must be N-S, N-M, N-H or N-D with N at least 1, or off", l.v))
		}
	}
	return errs
}

// A configError is one unusable setting, named by its dotted key and, when
// known, by where it was set.
type configError struct {
	Key, Problem string
	// Source is where the value came from: "in FILE", "from REGISTER_X"
	// or "from --flag"; empty for a default.
	Source string
}

func (e *configError) Error() string {
	msg := "invalid value for " + e.Key + ": " + e.Problem
	if e.Source != "" {
		msg += " (" + e.Source + ")"
	}
	return msg
}

func invalid(key, format string, args ...any) *configError {
	return &configError{Key: key, Problem: fmt.Sprintf(format, args...)}
}

// configKeys is every setting in dotted form ("http.addr") with its Go
// type, read from Config's mapstructure tags, so that a key added to
// Config is known everywhere at once.
var configKeys = func() map[string]reflect.Type {
	keys := map[string]reflect.Type{}
	for key, v := range settings(reflect.ValueOf(DefaultConfig()), "") {
		keys[key] = v.Type()
	}
	return keys
}()

// settings yields each setting of a Config value (or of one of its
// sections, under prefix) by its dotted key.
func settings(v reflect.Value, prefix string) iter.Seq2[string, reflect.Value] {
	return func(yield func(string, reflect.Value) bool) {
		for i := range v.NumField() {
			key := prefix + v.Type().Field(i).Tag.Get("mapstructure")
			if f := v.Field(i); f.Kind() == reflect.Struct {
				for k, sub := range settings(f, key+".") {
					if !yield(k, sub) {
						return
					}
				}
			} else if !yield(key, f) {
				return
			}
		}
	}
}

// setDefaults gives viper every setting's default: the environment reaches
// only keys viper knows of.
func setDefaults(v *viper.Viper) {
	for key, val := range settings(reflect.ValueOf(DefaultConfig()), "") {
		if key != "config" {
			v.SetDefault(key, val.Interface())
		}
	}
}

// isSection reports whether key names a group of settings, such as "http".
func isSection(key string) bool {
	for k := range configKeys {
		if strings.HasPrefix(k, key+".") {
			return true
		}
	}
	return false
}

// checkFileKeys refuses a config file (read alone into f) holding any key
// the register does not know, naming it in dotted form: a misspelt key
// would otherwise be silently ignored and its default used.
func checkFileKeys(f *viper.Viper, file string) error {
	var errs []error
	for _, key := range f.AllKeys() { // sorted
		if _, ok := configKeys[key]; ok {
			continue
		}
		if isSection(key) {
			errs = append(errs, &configError{Key: key, Problem: "must be a section of settings, not a single value", Source: "in " + file})
			continue
		}
		if parent := leafPrefix(key); parent != "" {
			errs = append(errs, &configError{Key: parent, Problem: "must be a single value, not a section", Source: "in " + file})
			continue
		}
		msg := fmt.Sprintf("unknown config key %q in %s", key, file)
		if near := nearestKey(key); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}

// leafPrefix returns the setting that key lies beneath, as "data_dir" for
// "data_dir.path", or "" if none.
func leafPrefix(key string) string {
	parts := strings.Split(key, ".")
	for i := 1; i < len(parts); i++ {
		if p := strings.Join(parts[:i], "."); configKeys[p] != nil {
			return p
		}
	}
	return ""
}

// nearestKey returns the known key closest to a misspelt one, if any is
// within two edits.
func nearestKey(key string) string {
	best, bestDist := "", 3
	for k := range configKeys {
		if d := editDistance(key, k); d < bestDist || (d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// checkTypes decodes each setting on its own, so that a value of the wrong
// kind (a duration that is not one, a number that is not one) is reported
// by its key and where it was set rather than as a decoder's message.
func checkTypes(v *viper.Viper, source func(key string) string) error {
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(configKeys)) {
		t := configKeys[key]
		if err := v.UnmarshalKey(key, reflect.New(t).Interface()); err != nil {
			errs = append(errs, &configError{Key: key, Problem: fmt.Sprintf("%q is not %s", fmt.Sprint(v.Get(key)), kindOf(t)), Source: source(key)})
		}
	}
	return errors.Join(errs...)
}

func kindOf(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "a duration, such as 90s, 15m or 24h"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return "a whole number"
	case t.Kind() == reflect.Slice:
		return "a list of values"
	}
	return "a single value"
}
