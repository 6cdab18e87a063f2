// Package sqlite is the register's store on SQLite.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"

	"github.com/probation-register/register/migrations"
	"github.com/probation-register/register/register"
)

// TimeLayout is the stored form of an instant: fixed width, so text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// pragmas go in the DSN so that every pooled connection gets them.
// synchronous=FULL: the driver's default NORMAL can lose acknowledged commits on power loss.
const pragmas = "_foreign_keys=on&_journal_mode=WAL&_synchronous=FULL"

// DefaultBusyTimeout is how long a write waits for the write lock held by
// another writer (another process's bulk import, say) before it gives up
// with EUNAVAILABLE.
const DefaultBusyTimeout = 5 * time.Second

// DB is the register's database: one writer connection and a read-only pool.
type DB struct {
	Path string
	// Now is the store's one clock; tests move it.
	Now func() time.Time
	// BusyTimeout is how long a connection waits for a lock another
	// connection holds; DefaultBusyTimeout when zero.
	BusyTimeout time.Duration

	writer  *sql.DB
	reader  *sql.DB
	answers *answerCache         // nil unless StartAnswerCache (answercache.go)
	indexer *verificationIndexer // nil unless StartVerificationIndex (verifyindex.go)
}

// NewDB returns a DB for the file at path; call Open.
func NewDB(path string) *DB {
	return &DB{Path: path, Now: time.Now}
}

// Open opens both pools and applies pending migrations.
func (db *DB) Open() error {
	if db.Path == "" {
		return errors.New("sqlite: path required")
	}
	if err := os.MkdirAll(filepath.Dir(db.Path), 0o700); err != nil {
		return fmt.Errorf("sqlite: create data folder: %w", err)
	}
	var err error
	if db.writer, err = sql.Open("sqlite3", db.dsn(false)); err != nil {
		return err
	}
	db.writer.SetMaxOpenConns(1)
	db.writer.SetConnMaxIdleTime(0)
	if err := db.writer.Ping(); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", db.Path, err)
	}
	if err := db.Migrate(context.Background()); err != nil {
		return err
	}
	// Readers open after the writer has created the WAL files.
	if db.reader, err = sql.Open("sqlite3", db.dsn(true)); err != nil {
		return err
	}
	db.reader.SetMaxOpenConns(8)
	db.reader.SetMaxIdleConns(8)
	return db.reader.Ping()
}

func (db *DB) dsn(readOnly bool) string {
	u := "file:" + url.PathEscape(db.Path) + "?" + pragmas + fmt.Sprintf("&_busy_timeout=%d", db.busyTimeout().Milliseconds())
	if readOnly {
		// Readers keep their prepared statements: preparing and finalizing
		// cost as much as the lookup itself (see docs/performance.md). Their
		// page caches are 1 MB instead of SQLite's 2 MB: public answers come
		// from memory, the readers serve searches, derived as-at answers and
		// bulk checks, and eight full 2 MB caches put the server's peak at
		// 146 to 150 MB against 137 MB, with the same throughput.
		return u + "&mode=ro&_txlock=deferred&_stmt_cache_size=32&_cache_size=-1024"
	}
	return u + "&_txlock=immediate"
}

func (db *DB) busyTimeout() time.Duration {
	if db.BusyTimeout > 0 {
		return db.BusyTimeout
	}
	return DefaultBusyTimeout
}

// withoutWaiting runs f on conn with the busy timeout at zero, so that a
// lock held elsewhere refuses at once instead of being waited for, and then
// puts the timeout back.
func (db *DB) withoutWaiting(ctx context.Context, conn *sql.Conn, f func()) error {
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 0`); err != nil {
		return err
	}
	f()
	_, err := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA busy_timeout = %d`, db.busyTimeout().Milliseconds()))
	return err
}

// Close closes both pools.
func (db *DB) Close() error {
	var errs []error
	if db.indexer != nil {
		db.indexer.close()
	}
	if db.answers != nil {
		db.answers.close()
	}
	if db.reader != nil {
		errs = append(errs, db.reader.Close())
	}
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
	}
	return errors.Join(errs...)
}

// Writer is the single writer connection, for tools that need raw access
// (backup, checks). Ordinary writes go through BeginTx.
func (db *DB) Writer() *sql.DB { return db.writer }

// Reader is the read-only pool.
func (db *DB) Reader() *sql.DB { return db.reader }

func (db *DB) provider() (*goose.Provider, error) {
	return goose.NewProvider(goose.DialectSQLite3, db.writer, migrations.FS)
}

// Migrate applies pending migrations.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.provider()
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Ready reports whether the database answers and no migration is pending.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.reader.PingContext(ctx); err != nil {
		return err
	}
	p, err := db.provider()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return err
	}
	if pending {
		return errors.New("migrations pending")
	}
	return nil
}

// now is the store clock, in UTC to the microsecond (the stored precision).
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

// Tx is a transaction with one fixed "now" and the acting principal, so
// that every row and audit entry it writes agree on both.
type Tx struct {
	*sql.Tx
	db    *DB
	now   time.Time
	actor register.Actor
	idem  *Idempotency // holds the commit for the answer (idempotency.go)
	// answerSeq is the answer_seq of the answers this transaction stores,
	// 0 until it stores one (migration 0010).
	answerSeq int64
}

// nextAnswerSeq returns the answer_seq for the answers tx stores: one
// greater than any in the table, the same for all of them.
func (tx *Tx) nextAnswerSeq() (int64, error) {
	if tx.answerSeq == 0 {
		if err := tx.QueryRow(`SELECT coalesce(max(answer_seq), 0) + 1 FROM registrations`).Scan(&tx.answerSeq); err != nil {
			return 0, err
		}
	}
	return tx.answerSeq, nil
}

// commit commits and, when tx stored answers, brings the in-memory
// answers up to date before the write returns.
func (tx *Tx) commit() error {
	if err := tx.Tx.Commit(); err != nil {
		return err
	}
	if tx.answerSeq != 0 {
		tx.db.answersCommitted()
	}
	return nil
}

// BeginTx starts a write transaction (BEGIN IMMEDIATE on the one writer).
func (db *DB) BeginTx(ctx context.Context) (*Tx, error) {
	idem := idempotencyFrom(ctx)
	if err := idem.releaseIfAny(); err != nil {
		return nil, err
	}
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, FormatError(err) // another writer holding the lock throughout: EUNAVAILABLE
	}
	return &Tx{Tx: tx, db: db, now: db.now(), actor: register.ActorFromContext(ctx), idem: idem}, nil
}

// ReadTx starts a read transaction on the read-only pool: one snapshot.
func (db *DB) ReadTx(ctx context.Context) (*Tx, error) {
	if err := idempotencyFrom(ctx).releaseIfAny(); err != nil {
		return nil, err
	}
	tx, err := db.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return &Tx{Tx: tx, db: db, now: db.now(), actor: register.ActorFromContext(ctx)}, nil
}

// formatTime writes t in TimeLayout. It is called for every instant the
// store writes (tens of millions in a bulk load), so the fixed-width digits
// are written directly instead of interpreting the layout each time;
// years outside 0000-9999, which the layout cannot hold in four digits,
// take time.Format. Tested against time.Format.
func formatTime(t time.Time) string {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format(TimeLayout)
	}
	h, mi, s := t.Clock()
	var b [len(TimeLayout)]byte
	digits := func(at, n, v int) {
		for i := at + n - 1; i >= at; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
	digits(0, 4, y)
	b[4] = '-'
	digits(5, 2, int(mo))
	b[7] = '-'
	digits(8, 2, d)
	b[10] = 'T'
	digits(11, 2, h)
	b[13] = ':'
	digits(14, 2, mi)
	b[16] = ':'
	digits(17, 2, s)
	b[19] = '.'
	digits(20, 6, t.Nanosecond()/1000)
	b[26] = 'Z'
	return string(b[:])
}

func parseTime(s string) time.Time {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		// Every stored instant is written by formatTime; anything else is corruption.
		panic(fmt.Sprintf("sqlite: bad stored time %q", s))
	}
	return t
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

func scanNullTime(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t := parseTime(s.String)
	return &t
}

func parseDate(s string) register.Date {
	d, err := register.ParseDate(s)
	if err != nil {
		return register.Date{}
	}
	return d
}

func nullDate(d register.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

// FormatError turns constraint failures into register errors; others pass through.
func FormatError(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.ExtendedCode {
		case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
			return register.Errorf(register.ECONFLICT, "That record already exists.")
		case sqlite3.ErrConstraintForeignKey:
			return register.Errorf(register.EUNPROCESSABLE, "That refers to something that does not exist.")
		}
		if se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked {
			return register.Errorf(register.EUNAVAILABLE, "The register is busy with another write, such as a bulk import; nothing was changed. Please try again in a few seconds.")
		}
	}
	return err
}

func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}
