package sqlite

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"iter"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/mattn/go-sqlite3"

	"github.com/probation-register/register/register"
)

// ImportOptions tunes a bulk write.
type ImportOptions struct {
	// Spread numbers registrants by a collision-free permutation of the
	// number space chosen by Seed, which stays fast as the space fills (for
	// synthetic data at scale). Otherwise every number is drawn at random,
	// as for real registrants.
	Spread bool
	Seed   uint64
	// Count is how many rows are coming, if known: their numbers are then
	// drawn in advance. A count a little too high (rows later found
	// invalid) only leaves some drawn numbers unused.
	Count int
	// Progress, if set, is called now and then with the count written so far.
	Progress func(written int)
}

// RowError is a row a bulk write refused: Row counts from 1 in the order
// the rows came.
type RowError struct {
	Row int
	Err error
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %v", e.Row, e.Err) }

// Unwrap returns the reason, a register error.
func (e *RowError) Unwrap() error { return e.Err }

// ImportService writes registrants in bulk: imports and synthetic data.
type ImportService struct{ db *DB }

// NewImportService returns the bulk writer.
func NewImportService(db *DB) *ImportService { return &ImportService{db: db} }

// CountRegistrants returns how many registrants the register holds.
func (s *ImportService) CountRegistrants(ctx context.Context) (int, error) {
	var n int
	err := s.db.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM registrants`).Scan(&n)
	return n, err
}

// Import writes every row, with its qualifications, history, current
// standing and an audit entry, in one transaction: all or nothing. It
// returns how many rows it wrote. A row that fails validation fails the
// whole import with a *RowError wrapping EINVALID; an error from rows is
// returned as it is.
//
// Rows are prepared (validated, numbered, encoded) in a second goroutine
// while this one writes them to SQLite in batches, the larger half of the work.
func (s *ImportService) Import(ctx context.Context, rows iter.Seq2[*register.ImportRow, error], opt ImportOptions) (written int, err error) {
	// The bulk write has the one writer connection to itself, with three
	// settings for the purpose, put back afterwards: a page cache far
	// larger than the default 2 MB (it grows only as pages are used), and
	// foreign keys off. This writer gives out the ids the keys refer to;
	// with the keys on, every multi-row INSERT into a table that has one
	// keeps a journal of each page it touches, which more than doubles the
	// cost of the indexes written in random order. (The tests run
	// foreign_key_check on what it wrote.)
	if err := idempotencyFrom(ctx).releaseIfAny(); err != nil {
		return 0, err // as BeginTx does: a held write would keep the connection
	}
	conn, err := s.db.writer.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var cache, keys int
	if err := conn.QueryRowContext(ctx, `SELECT * FROM pragma_cache_size, pragma_foreign_keys`).Scan(&cache, &keys); err != nil {
		return 0, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -262144; PRAGMA foreign_keys = OFF`); err != nil {
		return 0, err
	}
	defer conn.ExecContext(context.Background(), fmt.Sprintf(`PRAGMA cache_size = %d; PRAGMA foreign_keys = %d`, cache, keys))
	// Third, a rollback journal instead of the write-ahead log, when no
	// other connection has the database open: a million registrants are
	// 1.7 GB that the log would take in and then copy into the database
	// (a quarter of the time), while a rollback journal keeps only the
	// pages that held data before, and none of the pages added at the end
	// of the file. As durable: the commit is synced all the same, and a
	// crash leaves a hot journal that the next open rolls back. The pool's
	// idle readers are closed so that they do not hold the file; with
	// readers busy, or another process (a running server) on the file, the
	// switch is refused at once and the write goes through the log as ever.
	s.db.reader.SetMaxIdleConns(0)
	defer s.db.reader.SetMaxIdleConns(8) // as Open sets it
	var mode string
	if err := s.db.withoutWaiting(ctx, conn, func() {
		if conn.QueryRowContext(ctx, `PRAGMA journal_mode = DELETE`).Scan(&mode) != nil {
			mode = ""
		}
	}); err != nil {
		return 0, err
	}
	if mode == "delete" {
		defer func() {
			var back string
			if e := conn.QueryRowContext(context.Background(), `PRAGMA journal_mode = WAL`).Scan(&back); e != nil || back != "wal" {
				err = errors.Join(err, fmt.Errorf("sqlite: bulk write: could not return to the write-ahead log (%q): %v", back, e))
			}
		}()
	}
	// Without ctx's cancellation: database/sql would watch it with a
	// goroutine for every statement. A cancelled ctx still stops the load
	// at the next batch (below), and the transaction is rolled back.
	sqlTx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return 0, err
	}
	tx := &Tx{Tx: sqlTx, db: s.db, now: s.db.now(), actor: register.ActorFromContext(ctx)}
	defer tx.Rollback()
	w, err := newBulkWriter(tx, opt)
	if err != nil {
		return 0, err
	}
	deferred, err := w.deferIndexes()
	if err != nil {
		return 0, err
	}

	batches := make(chan *bulkBatch, 4)
	stop := make(chan struct{})
	var prepErr error
	go func() {
		defer close(batches)
		prepErr = w.prepare(rows, batches, stop)
	}()
	// The batches go to SQLite through the driver's connection itself,
	// inside the transaction begun above: database/sql's work around each
	// statement (checking every argument, a Rows wrapper, its locks) was
	// a tenth of the writer's time, and the writer is the load's critical
	// path. Nothing else may use conn until Raw returns.
	n, ran := 0, false
	rawErr := conn.Raw(func(dc any) error {
		ran = true
		sc, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			err = fmt.Errorf("sqlite: bulk write: unexpected driver connection %T", dc)
			close(stop)
		}
		defer w.closeStatements()
		for b := range batches {
			if err != nil {
				continue // drain what the preparer sent before it stopped
			}
			if err = ctx.Err(); err == nil {
				err = w.write(sc, b)
			}
			if err != nil {
				close(stop)
				continue
			}
			n += len(b.audit)
			if opt.Progress != nil {
				opt.Progress(n)
			}
		}
		if err == nil {
			err = prepErr
		}
		if err == nil {
			err = w.flush(sc)
		}
		return nil
	})
	if !ran {
		close(stop)
		for range batches {
		}
	}
	if err == nil {
		err = rawErr
	}
	if err == nil {
		err = w.rebuildIndexes(deferred)
	}
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, FormatError(err)
	}
	// Give back the space a large write-ahead log took, without waiting:
	// a reader holding the log would make it wait for the busy timeout.
	bg := context.Background()
	if err := s.db.withoutWaiting(bg, conn, func() { conn.ExecContext(bg, `PRAGMA wal_checkpoint(TRUNCATE)`) }); err != nil {
		return n, err
	}
	return n, nil
}

// bulkTable is a multi-row INSERT into one table, run on the driver's
// connection. Rows wait in pending until there are enough for one
// statement; foreign keys are off, so tables may fill in any order. OR
// ROLLBACK ends the whole transaction on a conflict, so that no statement
// needs a journal of its own: the caller stops at the first error.
type bulkTable struct {
	insert  string // "INSERT OR ROLLBACK INTO t (a, b) VALUES "
	columns int
	rows    int // per full statement
	full    driver.Stmt
	pending []driver.NamedValue
}

func (t *bulkTable) statement(c *sqlite3.SQLiteConn, rows int) (driver.Stmt, error) {
	row := "(" + strings.Repeat("?, ", t.columns-1) + "?)"
	return c.Prepare(t.insert + strings.Repeat(row+", ", rows-1) + row)
}

// add queues one row's values, converted as database/sql would convert
// them, and runs the statement when it is full.
func (t *bulkTable) add(c *sqlite3.SQLiteConn, values ...any) error {
	for _, v := range values {
		cv, err := driver.DefaultParameterConverter.ConvertValue(v)
		if err != nil {
			return fmt.Errorf("sqlite: bulk write: column %d: %w", len(t.pending)%t.columns+1, err)
		}
		t.pending = append(t.pending, driver.NamedValue{Ordinal: len(t.pending) + 1, Value: cv})
	}
	if len(t.pending) < t.rows*t.columns {
		return nil
	}
	if t.full == nil {
		var err error
		if t.full, err = t.statement(c, t.rows); err != nil {
			return err
		}
	}
	err := execFused(t.full, t.pending)
	t.pending = t.pending[:0]
	return FormatError(err)
}

func (t *bulkTable) flush(c *sqlite3.SQLiteConn) error {
	if len(t.pending) == 0 {
		return nil
	}
	s, err := t.statement(c, len(t.pending)/t.columns)
	if err != nil {
		return err
	}
	defer s.Close()
	err = execFused(s, t.pending)
	t.pending = t.pending[:0]
	return FormatError(err)
}

// bulkBatch is a run of prepared rows: every table's values in order, and
// the audit entries whose hashes the writer chains.
type bulkBatch struct {
	registrants, tokens, qualifications, periods, registrations []any
	audit                                                       []register.AuditEntry
}

// bulkWriter writes one bulk transaction. prepare runs in its own
// goroutine and owns the counters; write and flush run in the caller's.
type bulkWriter struct {
	tx  *Tx
	now string

	// prepare's: numbers, the next ids, the position of the row, and the
	// audit chain's head with a buffer for hashing (entries are chained in
	// the order they are written, which is the order they are prepared).
	numbers                                *numberPool
	registrantID, qualificationID, auditID int64
	row                                    int
	digest                                 rowDigest
	auditPrev                              string
	canon                                  []byte
	answerSeq                              int64 // of every answer the load stores

	// write's: the tables.
	registrants, tokens, qualifications, periods, registrations, audit *bulkTable
}

func newBulkWriter(tx *Tx, opt ImportOptions) (*bulkWriter, error) {
	w := &bulkWriter{tx: tx, now: formatTime(tx.now)}
	var err error
	if w.numbers, err = loadNumbers(tx, opt); err != nil {
		return nil, err
	}
	if w.answerSeq, err = tx.nextAnswerSeq(); err != nil {
		return nil, err
	}
	// The transaction holds the write lock, so ids can be given out here.
	if err := tx.QueryRow(`SELECT (SELECT COALESCE(MAX(id), 0) FROM registrants), (SELECT COALESCE(MAX(id), 0) FROM qualifications)`).
		Scan(&w.registrantID, &w.qualificationID); err != nil {
		return nil, err
	}
	err = tx.QueryRow(`SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&w.auditID, &w.auditPrev)
	if errors.Is(err, sql.ErrNoRows) {
		w.auditID, w.auditPrev = 0, register.GenesisHash
	} else if err != nil {
		return nil, err
	}
	// About 500 values a statement: few statements, and well inside
	// SQLite's limit on variables.
	table := func(insert string, columns int) *bulkTable {
		return &bulkTable{insert: insert, columns: columns, rows: 500 / columns}
	}
	w.registrants = table(`INSERT OR ROLLBACK INTO registrants (id, register_number, family_name, given_names, previous_names, date_of_birth, email, created_at, updated_at) VALUES `, 9)
	w.tokens = table(`INSERT OR ROLLBACK INTO name_tokens (token, registrant_id) VALUES `, 2)
	w.qualifications = table(`INSERT OR ROLLBACK INTO qualifications (id, registrant_id, level, title, awarding_body, awarded_on, certificate_ref, initial_state, verified_by, verified_at, created_at) VALUES `, 11)
	w.periods = table(`INSERT OR ROLLBACK INTO registration_periods (registrant_id, status, valid_from, valid_to, registered_until, reason, recorded_at) VALUES `, 7)
	w.registrations = table(`INSERT OR ROLLBACK INTO registrations (`+standingColumns+`) VALUES `, 10)
	w.audit = table(`INSERT OR ROLLBACK INTO audit_log (id, at, actor, addr, action, entity, entity_id, before, after, prev_hash, hash) VALUES `, 11)
	return w, nil
}

// deferIndexes drops, when the register is empty, the indexes of the
// tables the writer fills whose keys do not follow the order rows are
// written in (registrant id): entries inserted at random places in a large
// B-tree cost a quarter of a million-row load, while building the index
// afterwards (rebuildIndexes) sorts once. It returns the statements that
// rebuild them. Both run inside the write transaction: a failed load rolls
// the drop back with everything else, and readers see the indexes
// throughout. Into a register that already holds rows the indexes stay, as
// rebuilding them would cost more than the entries a load adds.
func (w *bulkWriter) deferIndexes() ([]string, error) {
	if w.registrantID != 0 {
		return nil, nil
	}
	rows, err := w.tx.Query(`SELECT m.name, m.sql FROM sqlite_schema m
		WHERE m.type = 'index' AND m.sql IS NOT NULL
		  AND m.tbl_name IN ('registrants', 'name_tokens', 'qualifications', 'registration_periods', 'registrations', 'audit_log')
		  AND (SELECT i.name FROM pragma_index_info(m.name) i WHERE i.seqno = 0) IS NOT 'registrant_id'
		ORDER BY m.name`)
	if err != nil {
		return nil, err
	}
	var names, rebuild []string
	for rows.Next() {
		var name, create string
		if err := rows.Scan(&name, &create); err != nil {
			rows.Close()
			return nil, err
		}
		names, rebuild = append(names, name), append(rebuild, create)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, err := w.tx.Exec(`DROP INDEX "` + name + `"`); err != nil {
			return nil, err
		}
	}
	return rebuild, nil
}

// rebuildIndexes runs the statements deferIndexes returned.
func (w *bulkWriter) rebuildIndexes(statements []string) error {
	for _, create := range statements {
		if _, err := w.tx.Exec(create); err != nil {
			return fmt.Errorf("sqlite: bulk write: rebuild index: %w", err)
		}
	}
	return nil
}

// importAudit is what the audit log keeps of an imported registrant: the
// register number and id, how many rows of each kind were written, and a
// SHA-256 digest of every value written for them (registrant, name words,
// qualifications, history, stored answer), each value as its type letter,
// its length and its bytes. A full snapshot per registrant was 40 % of a
// million-row import's database and a third of its time; the digest pins
// the same content, and any row can be checked against it.
func importAudit(number string, id int64, counts [4]int, digest []byte) string {
	b := make([]byte, 0, 200)
	b = append(b, `{"register_number":`...)
	b = strconv.AppendQuote(b, number)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, id, 10)
	for i, k := range [4]string{"name_tokens", "qualifications", "periods", "registrations"} {
		b = append(b, `,"`...)
		b = append(b, k...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, int64(counts[i]), 10)
	}
	b = append(b, `,"sha256":"`...)
	b = hex.AppendEncode(b, digest)
	return string(append(b, `"}`...))
}

// rowDigest hashes the values written for one registrant.
type rowDigest struct {
	h   hash.Hash
	buf []byte
}

func (d *rowDigest) reset() {
	if d.h == nil {
		d.h = sha256.New()
	}
	d.h.Reset()
}

// add hashes values: each as a type letter, its length and its bytes, so
// that no two different sequences hash alike. The values are written out
// first and hashed in one call (a call per value cost a third of the
// hashing), bar long ones.
func (d *rowDigest) add(values []any) {
	b := d.buf[:0]
	for _, v := range values {
		switch v := v.(type) {
		case nil:
			b = append(b, 'n')
		case int64:
			b = append(b, 'i')
			b = strconv.AppendInt(b, v, 10)
		case int:
			b = append(b, 'i')
			b = strconv.AppendInt(b, int64(v), 10)
		case string:
			b = append(b, 's')
			b = strconv.AppendInt(b, int64(len(v)), 10)
			b = append(b, ':')
			b = append(b, v...)
		case []byte:
			b = append(b, 'b')
			b = strconv.AppendInt(b, int64(len(v)), 10)
			b = append(b, ':')
			if len(v) > digestCopyMax {
				// Hashed where it lies rather than copied.
				d.h.Write(b)
				d.h.Write(v)
				b = b[:0]
				break
			}
			b = append(b, v...)
		default:
			// Every value the writer binds is one of the above.
			panic(fmt.Sprintf("sqlite: import digest: unexpected %T", v))
		}
		b = append(b, ';')
	}
	d.buf = b
	d.h.Write(b)
}

// digestCopyMax is the longest value rowDigest copies to hash with the
// others; longer ones (stored answers) are hashed in place.
const digestCopyMax = 128

func (d *rowDigest) sum() []byte { return d.h.Sum(d.buf[:0]) }

// prepare turns rows into batches until rows end, a row fails, or stop closes.
func (w *bulkWriter) prepare(rows iter.Seq2[*register.ImportRow, error], out chan<- *bulkBatch, stop <-chan struct{}) error {
	const size = 256
	b := &bulkBatch{}
	send := func() bool {
		select {
		case out <- b:
			b = &bulkBatch{}
			return true
		case <-stop:
			return false
		}
	}
	for row, err := range rows {
		if err != nil {
			return err
		}
		w.row++
		if err := w.prepareRow(b, row); err != nil {
			return err
		}
		if len(b.audit) == size && !send() {
			return nil
		}
	}
	if len(b.audit) > 0 {
		send()
	}
	return nil
}

func (w *bulkWriter) prepareRow(b *bulkBatch, row *register.ImportRow) error {
	tx := w.tx
	if err := row.Validate(tx.now); err != nil {
		return &RowError{Row: w.row, Err: err}
	}
	rec := row.Record(tx.now)
	r := rec.Registrant
	if r.PreviousNames == nil {
		r.PreviousNames = []string{}
	}
	var err error
	if r.Number, err = w.numbers.next(); err != nil {
		return err
	}
	w.registrantID++
	r.ID, r.Created, r.Updated = w.registrantID, tx.now, tx.now
	prev, _ := json.Marshal(r.PreviousNames)
	mark := [5]int{len(b.registrants), len(b.tokens), len(b.qualifications), len(b.periods), len(b.registrations)}
	b.registrants = append(b.registrants, r.ID, r.Number, r.FamilyName, r.GivenNames, string(prev), r.DateOfBirth.String(), r.Email, w.now, w.now)

	seen := make(map[string]bool, 8)
	for _, name := range append([]string{r.FamilyName, r.GivenNames}, r.PreviousNames...) {
		for _, t := range nameTokens(name) {
			if !seen[t] {
				seen[t] = true
				b.tokens = append(b.tokens, t, r.ID)
			}
		}
	}
	var verifiedBy any
	if tx.actor.UserID != 0 {
		verifiedBy = tx.actor.UserID
	}
	for _, q := range rec.Qualifications {
		w.qualificationID++
		q.ID = w.qualificationID
		var by any
		if q.VerifiedAt != nil {
			by, q.VerifiedBy = verifiedBy, tx.actor.UserID
		}
		b.qualifications = append(b.qualifications, q.ID, r.ID, q.Level, q.Title, q.AwardingBody, nullDate(q.AwardedOn),
			q.CertificateRef, string(q.InitialState), by, nullTime(q.VerifiedAt), formatTime(q.Created))
	}
	for _, p := range rec.Periods {
		b.periods = append(b.periods, r.ID, string(p.Status), formatTime(p.From), nullTime(p.To), p.RegisteredUntil.String(), p.Reason, w.now)
	}
	if len(rec.Periods) > 0 {
		values, err := standingRow(rec, tx.now, w.answerSeq)
		if err != nil {
			return err
		}
		b.registrations = append(b.registrations, values...)
	}
	w.digest.reset()
	var counts [4]int
	for i, t := range []struct {
		values  []any
		columns int
	}{{b.registrants, 9}, {b.tokens, 2}, {b.qualifications, 11}, {b.periods, 7}, {b.registrations, 9}} {
		w.digest.add(t.values[mark[i]:])
		if i > 0 {
			counts[i-1] = (len(t.values) - mark[i]) / t.columns
		}
	}
	w.auditID++
	e := register.AuditEntry{ID: w.auditID, At: w.now, Actor: tx.actor.Name, Addr: tx.actor.Addr,
		Action: "registrant.import", Entity: "registrant", EntityID: r.Number,
		After: importAudit(r.Number, r.ID, counts, w.digest.sum()), PrevHash: w.auditPrev}
	// Chained as Tx.audit does, with the chain's head kept in memory; here
	// rather than in write, which is the load's critical path.
	if e.Hash, err = w.hash(&e); err != nil {
		return err
	}
	w.auditPrev = e.Hash
	b.audit = append(b.audit, e)
	return nil
}

// write adds a batch to the tables.
func (w *bulkWriter) write(c *sqlite3.SQLiteConn, b *bulkBatch) error {
	for _, t := range []struct {
		table  *bulkTable
		values []any
	}{{w.registrants, b.registrants}, {w.tokens, b.tokens}, {w.qualifications, b.qualifications}, {w.periods, b.periods}, {w.registrations, b.registrations}} {
		for i := 0; i < len(t.values); i += t.table.columns {
			if err := t.table.add(c, t.values[i:i+t.table.columns]...); err != nil {
				return err
			}
		}
	}
	for _, e := range b.audit {
		if err := w.audit.add(c, e.ID, e.At, e.Actor, e.Addr, e.Action, e.Entity, e.EntityID, e.Before, e.After, e.PrevHash, e.Hash); err != nil {
			return err
		}
	}
	return nil
}

// hash is e.ComputeHash() without encoding/json: SHA-256 over the previous
// hash, a newline and the canonical form, written here by hand for entries
// whose fields are printable ASCII (every entry the bulk writer makes, bar
// unusual actor names, which take register.AuditEntry.Canonical). One
// entry in 4096 is also hashed the ordinary way, so that a change to the
// canonical form cannot go unnoticed.
func (w *bulkWriter) hash(e *register.AuditEntry) (string, error) {
	fields := [...]struct{ key, value string }{{`,"at":`, e.At}, {`,"actor":`, e.Actor}, {`,"addr":`, e.Addr},
		{`,"action":`, e.Action}, {`,"entity":`, e.Entity}, {`,"entity_id":`, e.EntityID}, {`,"before":`, e.Before},
		{`,"after":`, e.After}, {`,"prev_hash":`, e.PrevHash}}
	b := append(w.canon[:0], e.PrevHash...)
	b = append(b, '\n')
	head := len(b)
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, e.ID, 10)
	for _, f := range fields {
		b = append(b, f.key...)
		if b = appendCanonString(b, f.value); b == nil {
			return e.ComputeHash(), nil
		}
	}
	b = append(b, '}')
	if e.ID%4096 == 1 && string(b[head:]) != string(e.Canonical()) {
		return "", errors.New("sqlite: the bulk writer's audit canonical form differs from register.AuditEntry.Canonical")
	}
	w.canon = b
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// appendCanonString appends s as encoding/json writes a string, or returns
// nil when s is not printable ASCII. Runs that need no escape are copied
// whole.
func appendCanonString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
			continue
		}
		b = append(b, s[start:i]...)
		start = i + 1
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '<':
			b = append(b, `\u003c`...)
		case '>':
			b = append(b, `\u003e`...)
		case '&':
			b = append(b, `\u0026`...)
		default:
			return nil
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// flush writes the rows still pending.
func (w *bulkWriter) flush(c *sqlite3.SQLiteConn) error {
	for _, t := range w.tables() {
		if err := t.flush(c); err != nil {
			return err
		}
	}
	return nil
}

// closeStatements finalizes the tables' statements.
func (w *bulkWriter) closeStatements() {
	for _, t := range w.tables() {
		if t.full != nil {
			t.full.Close()
			t.full = nil
		}
	}
}

func (w *bulkWriter) tables() []*bulkTable {
	return []*bulkTable{w.registrants, w.tokens, w.qualifications, w.periods, w.registrations, w.audit}
}

// numberPool hands out register numbers not yet taken.
type numberPool struct {
	taken []bool // by serial
	free  int
	// a and b define the permutation serial = (i*a + b) mod NumberSpace;
	// a is coprime with NumberSpace, so i in [0, NumberSpace) visits every
	// serial exactly once. a == 0 means draw at random.
	a, b, i int
	// ahead holds numbers drawn in advance, in ascending order.
	ahead []int
}

func loadNumbers(tx *Tx, opt ImportOptions) (*numberPool, error) {
	p := &numberPool{taken: make([]bool, register.NumberSpace), free: register.NumberSpace}
	rows, err := tx.Query(`SELECT register_number FROM registrants`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		p.take(n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if opt.Spread {
		rng := rand.New(rand.NewPCG(opt.Seed, 0x5851f42d4c957f2d))
		// A multiplier far from 0 and 1 keeps consecutive numbers apart;
		// coprime with 10^6 means neither even nor a multiple of 5.
		for p.a%2 == 0 || p.a%5 == 0 {
			p.a = register.NumberSpace/10 + rng.IntN(register.NumberSpace*8/10)
		}
		p.b = rng.IntN(register.NumberSpace)
	}
	// Handing out numbers drawn in advance in ascending order makes every
	// index on the register number grow at its end instead of splitting
	// pages all over: several times faster at scale. The numbers are as
	// random as ever; only the order they are given out in is not.
	if p.a == 0 && opt.Count > p.free/2 {
		// Retrying draws for most of what is left takes ever longer as the
		// space fills; a shuffle of the free numbers by a generator seeded
		// from crypto/rand is as unpredictable and takes one pass.
		var seed [32]byte
		crand.Read(seed[:])
		for serial, taken := range p.taken {
			if !taken {
				p.ahead = append(p.ahead, serial)
			}
		}
		rand.New(rand.NewChaCha8(seed)).Shuffle(len(p.ahead), func(i, j int) { p.ahead[i], p.ahead[j] = p.ahead[j], p.ahead[i] })
		p.ahead = p.ahead[:min(opt.Count, len(p.ahead))]
		for _, serial := range p.ahead {
			p.taken[serial] = true
		}
		p.free -= len(p.ahead)
	}
	for range min(opt.Count-len(p.ahead), p.free) {
		serial, err := p.draw()
		if err != nil {
			return nil, err
		}
		p.ahead = append(p.ahead, serial)
	}
	slices.Sort(p.ahead)
	return p, nil
}

func (p *numberPool) take(number string) bool {
	serial, err := strconv.Atoi(number[2:8])
	if err != nil || p.taken[serial] {
		return false
	}
	p.taken[serial] = true
	p.free--
	return true
}

func (p *numberPool) next() (string, error) {
	if len(p.ahead) > 0 {
		serial := p.ahead[0]
		p.ahead = p.ahead[1:]
		return register.NumberFromSerial(serial), nil
	}
	serial, err := p.draw()
	return register.NumberFromSerial(serial), err
}

// draw takes a free serial: at random, retried on collision, so that
// numbers cannot be walked; or the next one of the permutation.
func (p *numberPool) draw() (int, error) {
	if p.free == 0 {
		return 0, register.Errorf(register.ECONFLICT, "Every one of the %d register numbers is taken.", register.NumberSpace)
	}
	if p.a == 0 {
		for {
			if n := register.RandomNumber(); p.take(n) {
				return strconv.Atoi(n[2:8])
			}
		}
	}
	for ; p.i < register.NumberSpace; p.i++ {
		serial := (p.i*p.a + p.b) % register.NumberSpace
		if !p.taken[serial] {
			p.taken[serial] = true
			p.free--
			p.i++
			return serial, nil
		}
	}
	return 0, fmt.Errorf("sqlite: number permutation exhausted with %d numbers free", p.free)
}

// execFused runs an INSERT through Query rather than Exec: the driver binds
// every argument of a query, and takes its first step, in one call into C
// (Exec makes a call per argument, a quarter of a bulk write's time), and
// it runs a data-modifying statement at Query whether or not the rows are
// read (github.com/mattn/go-sqlite3, SQLiteStmt.query).
func execFused(s driver.Stmt, args []driver.NamedValue) error {
	q, ok := s.(driver.StmtQueryContext)
	if !ok {
		return fmt.Errorf("sqlite: bulk write: statement %T cannot query", s)
	}
	rows, err := q.QueryContext(context.Background(), args)
	if err != nil {
		return err
	}
	return rows.Close()
}
