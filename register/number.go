package register

import (
	"crypto/rand"
	"math/big"
	"strconv"
)

// NumberSpace is how many register numbers exist: six random digits and a
// Luhn check digit.
const NumberSpace = 1_000_000

// ParseNumber checks a register number's form ("PR" + 7 digits, case
// insensitive on the prefix) and check digit, returning it in canonical form.
func ParseNumber(s string) (string, error) {
	if len(s) != 9 || (s[0] != 'P' && s[0] != 'p') || (s[1] != 'R' && s[1] != 'r') {
		return "", FieldError("register_number", "must be PR followed by 7 digits")
	}
	for i := 2; i < 9; i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", FieldError("register_number", "must be PR followed by 7 digits")
		}
	}
	if luhnDigit(s[2:8]) != s[8] {
		return "", FieldError("register_number", "has a wrong check digit")
	}
	return "PR" + s[2:], nil
}

// NumberFromSerial builds the register number for a serial in [0, NumberSpace).
func NumberFromSerial(serial int) string {
	body := strconv.Itoa(serial)
	for len(body) < 6 {
		body = "0" + body
	}
	return "PR" + body + string(luhnDigit(body))
}

// RandomNumber returns a register number drawn uniformly at random, so that
// numbers cannot be walked. The caller retries on collision.
func RandomNumber() string {
	n, err := rand.Int(rand.Reader, big.NewInt(NumberSpace))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return NumberFromSerial(int(n.Int64()))
}

// luhnDigit computes the Luhn check digit for a string of decimal digits.
func luhnDigit(digits string) byte {
	sum := 0
	double := true // the check digit will sit to the right, so the last body digit is doubled
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}
