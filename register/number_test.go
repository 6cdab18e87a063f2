package register_test

import (
	"strings"
	"testing"

	"github.com/probation-register/register/register"
)

func TestParseNumber(t *testing.T) {
	good := register.NumberFromSerial(123456)
	for _, tc := range []struct {
		name, in, want, code string
	}{
		{"Canonical", good, good, ""},
		{"LowerCasePrefix", "pr" + good[2:], good, ""},
		{"WrongCheckDigit", good[:8] + string('0'+(good[8]-'0'+1)%10), "", register.EINVALID},
		{"TooShort", good[:8], "", register.EINVALID},
		{"TooLong", good + "1", "", register.EINVALID},
		{"WrongPrefix", "PX" + good[2:], "", register.EINVALID},
		{"Letters", "PR12345A7", "", register.EINVALID},
		{"Empty", "", "", register.EINVALID},
		{"Unicode", "PR１２３４５６７", "", register.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := register.ParseNumber(tc.in)
			if register.ErrorCode(err) != tc.code {
				t.Fatalf("code = %q, want %q (err %v)", register.ErrorCode(err), tc.code, err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if err != nil && register.ErrorFields(err)["register_number"] == "" {
				t.Fatalf("error does not name register_number: %v", err)
			}
		})
	}
}

func TestNumberLuhnCatchesSingleDigitErrors(t *testing.T) {
	// Every single-digit change of a valid number must fail its check digit.
	for _, serial := range []int{0, 1, 79927, 123456, 999999} {
		n := register.NumberFromSerial(serial)
		if _, err := register.ParseNumber(n); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		for i := 2; i < 9; i++ {
			for d := byte('0'); d <= '9'; d++ {
				if d == n[i] {
					continue
				}
				bad := n[:i] + string(d) + n[i+1:]
				if _, err := register.ParseNumber(bad); err == nil {
					t.Fatalf("%s accepted (from %s)", bad, n)
				}
			}
		}
	}
}

func TestRandomNumberIsValid(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		n := register.RandomNumber()
		if _, err := register.ParseNumber(n); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		seen[n] = true
	}
	if len(seen) < 990 {
		t.Fatalf("only %d distinct numbers in 1000 draws", len(seen))
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"PR1234566", "pr0000000", "PR", "", "PR12345678", "PR١٢٣٤٥٦٧", "PR\x00234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := register.ParseNumber(s)
		if err != nil {
			if n != "" {
				t.Fatalf("value %q with error", n)
			}
			return
		}
		if len(n) != 9 || !strings.HasPrefix(n, "PR") || !strings.EqualFold(n, s) {
			t.Fatalf("ParseNumber(%q) = %q", s, n)
		}
		again, err := register.ParseNumber(n)
		if err != nil || again != n {
			t.Fatalf("not idempotent: %q -> %q, %v", n, again, err)
		}
	})
}
