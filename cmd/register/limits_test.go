package main

import (
	"strings"
	"testing"
)

func TestLimitsConfig(t *testing.T) {
	for _, c := range []struct {
		name, public string
		ok           bool
	}{
		{"Default", DefaultConfig().Limits.Public, true},
		{"Off", "off", true},
		{"BadPeriod", "5-W", false},
		{"Zero", "0-M", false},
		{"Empty", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Limits.Public = c.public
			err := cfg.Validate()
			if c.ok != (err == nil) {
				t.Fatalf("Validate(%q) = %v, want ok=%v", c.public, err, c.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "limits.public") {
				t.Fatalf("error %q does not name limits.public", err)
			}
		})
	}
	t.Run("OffIsUnlimited", func(t *testing.T) {
		c := LimitsConfig{Public: "off", Organisation: "5-M", LoginFailures: "off"}
		if r := c.RateLimits(); r.Public != "" || r.Organisation != "5-M" || r.LoginFailures != "" {
			t.Fatalf("RateLimits() = %+v", r)
		}
	})
}
