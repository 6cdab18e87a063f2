package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	registerhttp "github.com/probation-register/register/http"
	"github.com/probation-register/register/register"
)

// Config is the register's configuration. Defaults need nothing: SQLite in
// ./data, listening on loopback, signing keys generated on first start.
type Config struct {
	DataDir string       `mapstructure:"data_dir"`
	HTTP    HTTPConfig   `mapstructure:"http"`
	Auth    AuthConfig   `mapstructure:"auth"`
	Log     LogConfig    `mapstructure:"log"`
	CPD     CPDConfig    `mapstructure:"cpd"`
	Limits  LimitsConfig `mapstructure:"limits"`
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

// LogConfig is the structured log.
type LogConfig struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

// DefaultConfig is the configuration with nothing set.
func DefaultConfig() Config {
	return Config{
		DataDir: "./data",
		HTTP:    HTTPConfig{Addr: "127.0.0.1:8080"},
		Auth:    AuthConfig{AccessTTL: 15 * time.Minute, RefreshTTL: 30 * 24 * time.Hour, Issuer: "national-probation-register"},
		Log:     LogConfig{Level: "info", Format: "text"},
		CPD:     CPDConfig{RequiredHours: 30, RequiredParticipatoryHours: 10},
		Limits:  LimitsConfig{Public: "600-M", Organisation: "1200-M", LoginFailures: "10-H"},
	}
}

// Validate reports the first unusable value, naming its key.
func (c *Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, errors.New("data_dir: must not be empty"))
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		errs = append(errs, fmt.Errorf("http.addr: %q is not host:port", c.HTTP.Addr))
	}
	for _, p := range c.HTTP.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				errs = append(errs, fmt.Errorf("http.trusted_proxies: %q is not an IP address or CIDR range", p))
			}
		}
	}
	if u, err := url.Parse(c.HTTP.PublicURL); c.HTTP.PublicURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
		errs = append(errs, fmt.Errorf("http.public_url: %q is not an http(s) URL", c.HTTP.PublicURL))
	}
	if c.Auth.AccessTTL < time.Minute || c.Auth.AccessTTL > 24*time.Hour {
		errs = append(errs, fmt.Errorf("auth.access_ttl: %s must be between 1m and 24h", c.Auth.AccessTTL))
	}
	if c.Auth.RefreshTTL < c.Auth.AccessTTL || c.Auth.RefreshTTL > 365*24*time.Hour {
		errs = append(errs, fmt.Errorf("auth.refresh_ttl: %s must be between auth.access_ttl and 8760h", c.Auth.RefreshTTL))
	}
	if c.Auth.Issuer == "" {
		errs = append(errs, errors.New("auth.issuer: must not be empty"))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: %q must be debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format: %q must be text or json", c.Log.Format))
	}
	if c.CPD.RequiredHours < 0 || c.CPD.RequiredHours > 1000 {
		errs = append(errs, fmt.Errorf("cpd.required_hours: %d must be between 0 and 1000", c.CPD.RequiredHours))
	}
	if c.CPD.RequiredParticipatoryHours < 0 || c.CPD.RequiredParticipatoryHours > c.CPD.RequiredHours {
		errs = append(errs, fmt.Errorf("cpd.required_participatory_hours: %d must be between 0 and cpd.required_hours", c.CPD.RequiredParticipatoryHours))
	}
	for key, v := range map[string]string{"limits.public": c.Limits.Public, "limits.organisation": c.Limits.Organisation, "limits.login_failures": c.Limits.LoginFailures} {
		if v == "off" {
			continue
		}
		if _, err := registerhttp.ParseRate(v); err != nil || v == "" {
			errs = append(errs, fmt.Errorf("limits.%s: %q must be N-S, N-M, N-H or N-D with N at least 1, or off", strings.TrimPrefix(key, "limits."), v))
		}
	}
	return errors.Join(errs...)
}
