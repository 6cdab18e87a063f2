package register

import (
	"encoding/json"
	"time"
)

// DateLayout is the one format of a calendar date at the API and in the store.
const DateLayout = "2006-01-02"

// Date is a calendar date (UTC). The zero Date means "not set".
type Date struct{ t time.Time }

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.ParseInLocation(DateLayout, s, time.UTC)
	if err != nil {
		return Date{}, err
	}
	return Date{t}, nil
}

// MustDate parses YYYY-MM-DD and panics on error; for tests and fixed data.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf returns the UTC calendar date of an instant.
func DateOf(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.t.IsZero() }

// String formats the date as YYYY-MM-DD, or "" when unset.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	y, m, day := d.t.Date()
	if y < 0 || y > 9999 {
		return d.t.Format(DateLayout)
	}
	// The fixed-width digits directly: a bulk load writes millions of dates,
	// and Format interprets the layout each time. Tested against Format.
	b := [len(DateLayout)]byte{'0' + byte(y/1000), '0' + byte(y/100%10), '0' + byte(y/10%10), '0' + byte(y%10), '-',
		'0' + byte(m/10), '0' + byte(m%10), '-', '0' + byte(day/10), '0' + byte(day%10)}
	return string(b[:])
}

// Start is the first instant of the date.
func (d Date) Start() time.Time { return d.t }

// End is the first instant after the date: a registration "until" a date
// holds through the whole of that day.
func (d Date) End() time.Time { return d.t.AddDate(0, 0, 1) }

// AddDate returns the date moved by years, months and days.
func (d Date) AddDate(years, months, days int) Date { return Date{d.t.AddDate(years, months, days)} }

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.t.Before(o.t) }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.t.After(o.t) }

// Year is the calendar year.
func (d Date) Year() int { return d.t.Year() }

// MarshalJSON writes "YYYY-MM-DD" or null.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "YYYY-MM-DD" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
