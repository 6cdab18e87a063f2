package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jszwec/csvutil"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/probation-register/register/register"
	"github.com/probation-register/register/register/sqlite"
)

func newImportCmd(e *env) *cobra.Command {
	var skipInvalid bool
	cmd := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Import registrants with a qualification and status from a CSV file",
		Long: `Imports registrants from a CSV file with a header row. Columns:

  family_name, given_names, date_of_birth, email, status      required
  previous_names                 full names separated by ";"
  qualification_level            3, 5 or empty for none; then also
    qualification_title, awarding_body, awarded_on, certificate_ref,
    qualification_state          claimed, in_training or verified
  status                         applicant, registered, lapsed, suspended, removed
  registered_until               required unless applicant
  status_from                    the day the status began (optional)
  admitted_on                    the day of first admission (optional)

Dates are YYYY-MM-DD. Every row is checked first, with the API's rules, and
each bad one reported (row numbers count the header as row 1, as a
spreadsheet does). A file with any bad row imports nothing unless
--skip-invalid, which imports the good rows. The import is one transaction:
all of it or none of it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := e.main()
			if err != nil {
				return err
			}
			defer m.Close()
			return importFile(cmd.Context(), m, args[0], skipInvalid, e.out, e.err)
		},
	}
	cmd.Flags().BoolVar(&skipInvalid, "skip-invalid", false, "import the valid rows and report the invalid ones")
	return cmd
}

// importRecord is one CSV row as read.
type importRecord struct {
	FamilyName      string `csv:"family_name"`
	GivenNames      string `csv:"given_names"`
	PreviousNames   string `csv:"previous_names"`
	DateOfBirth     string `csv:"date_of_birth"`
	Email           string `csv:"email"`
	Level           string `csv:"qualification_level"`
	Title           string `csv:"qualification_title"`
	AwardingBody    string `csv:"awarding_body"`
	AwardedOn       string `csv:"awarded_on"`
	CertificateRef  string `csv:"certificate_ref"`
	State           string `csv:"qualification_state"`
	Status          string `csv:"status"`
	RegisteredUntil string `csv:"registered_until"`
	StatusFrom      string `csv:"status_from"`
	AdmittedOn      string `csv:"admitted_on"`
}

// importColumns are the known columns in the order they are reported; the
// first five must be in every file.
var importColumns = []string{"family_name", "given_names", "date_of_birth", "email", "status", "previous_names",
	"qualification_level", "qualification_title", "awarding_body", "awarded_on", "certificate_ref", "qualification_state",
	"registered_until", "status_from", "admitted_on"}

// rowError is the report of one bad row: the reason for each failing column.
type rowError struct {
	row    int
	fields map[string]string
}

// String is one line per problem, the row's own first, then by column.
func (r rowError) String() string {
	var b strings.Builder
	if reason, ok := r.fields[""]; ok {
		fmt.Fprintf(&b, "row %d: %s\n", r.row, reason)
	}
	done := map[string]bool{"": true}
	for _, c := range append(slices.Clone(importColumns), slices.Sorted(maps.Keys(r.fields))...) {
		if reason, ok := r.fields[c]; ok && !done[c] {
			fmt.Fprintf(&b, "row %d, %s: %s\n", r.row, c, reason)
			done[c] = true
		}
	}
	return b.String()
}

// importFile reads the file once, checking every row as it goes and
// writing the good ones in one transaction, so that memory does not grow
// with the file; it reports every bad row, and without skipInvalid one bad
// row means nothing is imported.
func importFile(ctx context.Context, m *Main, path string, skipInvalid bool, out, errOut io.Writer) error {
	start := time.Now()
	now := m.DB.Now()
	total, err := countDataRows(path)
	if err != nil {
		return err
	}
	// One pass over the file: rows are checked as they are read and the
	// valid ones go straight to the store's bulk writer. Without
	// --skip-invalid, the first invalid row stops the writing but not the
	// reading, so that the report names every problem, and the load is then
	// refused as a whole (its transaction rolled back).
	var bad []rowError
	good := 0
	errInvalid := errors.New("invalid rows")
	rows := func(yield func(*register.ImportRow, error) bool) {
		stop := errors.New("stopped")
		err := readImport(path, errOut, "importing", func(row int, rec *register.ImportRow, fields map[string]string) error {
			if rec != nil {
				// Every problem in one report: what could not be read, then the rules.
				v := register.Validation{}
				maps.Copy(v, fields)
				for f, reason := range register.ErrorFields(rec.Validate(now)) {
					v.Add(f, reason)
				}
				fields = v
			}
			if len(fields) > 0 {
				bad = append(bad, rowError{row, fields})
				return nil
			}
			good++
			if (len(bad) == 0 || skipInvalid) && !yield(rec, nil) {
				return stop
			}
			return nil
		})
		switch {
		case err == stop:
		case err != nil:
			yield(nil, err)
		case len(bad) > 0 && !skipInvalid:
			yield(nil, errInvalid)
		}
	}
	ctx = register.NewContextWithActor(ctx, register.CLIActor)
	defer bulkCollector()()
	n, err := sqlite.NewImportService(m.DB).Import(ctx, rows, sqlite.ImportOptions{Count: total})
	for _, b := range bad {
		fmt.Fprint(errOut, b)
	}
	var re *sqlite.RowError
	switch {
	case errors.Is(err, errInvalid):
		return fmt.Errorf("%d of %d rows are invalid: nothing imported (--skip-invalid imports the %d valid rows)", len(bad), len(bad)+good, good)
	case errors.As(err, &re):
		// Valid when checked, invalid when written: the day changed.
		row := fileRow(re.Row, bad)
		fmt.Fprint(errOut, rowError{row, register.ErrorFields(err)})
		return fmt.Errorf("row %d is invalid: nothing imported", row)
	case err != nil:
		return fmt.Errorf("nothing imported: %s", errorText(err))
	}
	_, err = fmt.Fprintf(out, "import: %d rows imported, %d skipped as invalid, in %.1f s\n", n, len(bad), time.Since(start).Seconds())
	return err
}

// countDataRows counts the lines of the file after the header: the number
// of rows, or a little more when a quoted field holds a line break. The
// bulk writer draws that many register numbers in advance.
func countDataRows(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	lines, last := 0, byte('\n')
	buf := make([]byte, 1<<20)
	for {
		n, err := f.Read(buf)
		lines += bytes.Count(buf[:n], []byte{'\n'})
		if n > 0 {
			last = buf[n-1]
		}
		if err == io.EOF {
			break
		} else if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		lines++ // a last line without its line break
	}
	return max(lines-1, 0), nil
}

// fileRow is the file's row number of the nth row imported, given the
// rows skipped as invalid (in file order).
func fileRow(n int, skipped []rowError) int {
	row := 1 // the header
	for n > 0 {
		row++
		if len(skipped) > 0 && skipped[0].row == row {
			skipped = skipped[1:]
		} else {
			n--
		}
	}
	return row
}

// errorText is a register error's message, or the error itself: at the
// command line the operator may see the details.
func errorText(err error) string {
	var e *register.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// readImport calls row for every data row of the CSV file at path, with the
// row as read and, if it could not be read into an ImportRow, the reasons
// by column. Rows are numbered as a spreadsheet numbers them: the header is
// row 1. A problem with the file as a whole is returned as an error.
func readImport(path string, progressTo io.Writer, what string, row func(n int, rec *register.ImportRow, fields map[string]string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	counted := &countingReader{r: f}
	cr := csv.NewReader(bufio.NewReaderSize(counted, 1<<16))
	cr.ReuseRecord = true
	dec, err := csvutil.NewDecoder(cr)
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s is empty: expected a header row naming the columns", path)
	} else if err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	if err := dec.NormalizeHeader(func(s string) string { return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))) }); err != nil {
		return fmt.Errorf("%s: the header names a column twice", path)
	}
	if err := checkHeader(dec.Header()); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	bar := newProgress(progressTo, int(size), what)
	defer bar.Finish()
	var rec importRecord
	for n := 2; ; n++ {
		rec = importRecord{}
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			return nil
		}
		var ir *register.ImportRow
		var fields map[string]string
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
			fields = map[string]string{"": fmt.Sprintf("has a different number of fields from the header (%d)", len(dec.Header()))}
		case errors.As(err, &pe):
			fields = map[string]string{"": "is not valid CSV: " + pe.Err.Error()}
		case err != nil:
			return fmt.Errorf("%s: row %d: %w", path, n, err)
		default:
			ir, fields = rec.importRow()
		}
		if err := row(n, ir, fields); err != nil {
			return err
		}
		if n&1023 == 0 {
			bar.Set(int(counted.n))
		}
	}
}

func checkHeader(header []string) error {
	for _, h := range header {
		if !slices.Contains(importColumns, h) {
			return fmt.Errorf("unknown column %q in the header; the columns are %s", h, strings.Join(importColumns, ", "))
		}
	}
	for _, c := range importColumns[:5] {
		if !slices.Contains(header, c) {
			return fmt.Errorf("the header has no %s column; %s are required", c, strings.Join(importColumns[:5], ", "))
		}
	}
	return nil
}

// importRow turns a record into an ImportRow, as far as it can be read, and
// reports what cannot be.
func (r *importRecord) importRow() (*register.ImportRow, map[string]string) {
	v := register.Validation{}
	date := func(column, s string) register.Date {
		if s = strings.TrimSpace(s); s == "" {
			return register.Date{}
		}
		d, err := register.ParseDate(s)
		if err != nil {
			v.Add(column, "must be a date YYYY-MM-DD")
		}
		return d
	}
	row := &register.ImportRow{
		Registrant: register.Registrant{
			FamilyName:    strings.TrimSpace(r.FamilyName),
			GivenNames:    strings.TrimSpace(r.GivenNames),
			PreviousNames: []string{},
			DateOfBirth:   date("date_of_birth", r.DateOfBirth),
			Email:         strings.TrimSpace(r.Email),
		},
		Status:          register.Status(strings.ToLower(strings.TrimSpace(r.Status))),
		RegisteredUntil: date("registered_until", r.RegisteredUntil),
		StatusFrom:      date("status_from", r.StatusFrom),
		AdmittedOn:      date("admitted_on", r.AdmittedOn),
	}
	for _, p := range strings.Split(r.PreviousNames, ";") {
		if p = strings.TrimSpace(p); p != "" {
			row.Registrant.PreviousNames = append(row.Registrant.PreviousNames, p)
		}
	}
	q := &register.Qualification{
		Title:          strings.TrimSpace(r.Title),
		AwardingBody:   strings.TrimSpace(r.AwardingBody),
		AwardedOn:      date("awarded_on", r.AwardedOn),
		CertificateRef: strings.TrimSpace(r.CertificateRef),
		State:          register.QualificationState(strings.ToLower(strings.TrimSpace(r.State))),
	}
	switch level := strings.TrimSpace(r.Level); level {
	case "":
		for column, s := range map[string]string{"qualification_title": r.Title, "awarding_body": r.AwardingBody,
			"awarded_on": r.AwardedOn, "certificate_ref": r.CertificateRef, "qualification_state": r.State} {
			if strings.TrimSpace(s) != "" {
				v.Add(column, "must be empty when qualification_level is empty")
			}
		}
	case "3", "5":
		q.Level, _ = strconv.Atoi(level)
		switch q.State {
		case register.QualificationClaimed, register.QualificationInTraining, register.QualificationVerified:
		default:
			v.Add("qualification_state", "must be claimed, in_training or verified")
		}
		row.Qualifications = []*register.Qualification{q}
	default:
		v.Add("qualification_level", "must be 3, 5 or empty")
	}
	if len(v) == 0 {
		return row, nil
	}
	return row, v
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// progress is a progress bar, shown only on a terminal; the zero value shows nothing.
type progress struct{ bar *progressbar.ProgressBar }

func newProgress(w io.Writer, max int, what string) progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || what == "" {
		return progress{}
	}
	return progress{progressbar.NewOptions(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
}

// Set moves the bar to n.
func (p progress) Set(n int) {
	if p.bar != nil {
		p.bar.Set(n)
	}
}

// Rows moves the bar to n every 1024 rows: cheap enough to call for every row.
func (p progress) Rows(n int) {
	if n&1023 == 0 {
		p.Set(n)
	}
}

// Finish fills and clears the bar.
func (p progress) Finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
