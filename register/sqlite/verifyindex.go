package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// A registrant's verifications ("who checked me") are found through
// verifications_by_registrant (migration 0011), which a verification's own
// transaction does not write: a bulk check of a thousand registrants would
// otherwise change a thousand pages scattered over that index, inside the
// request. The indexer adds new verifications a moment later instead,
// sorted by registrant and a chunk per transaction, so that each
// transaction touches one stretch of the index and holds the write lock
// for a few milliseconds. Readers look up the verifications above
// verifications_indexed.through directly (findVerificationsQuery), so a
// verification is found from its commit on, indexed or not; the indexer
// only keeps that unindexed tail short. It adds no fact to the register
// (every verification is audited when it is written), so it writes no
// audit entry of its own.

const (
	// verificationIndexEvery is how often the server's indexer looks for
	// verifications to add. The more a pass adds, the more of its entries
	// share index pages; the longer the unindexed tail "who checked me"
	// reads directly (a second of bulk checks is about 20,000 rows, a few
	// milliseconds to read).
	verificationIndexEvery = time.Second
	// verificationIndexRead bounds the verifications one pass reads.
	verificationIndexRead = 50_000
	// verificationIndexChunk is how many entries one transaction adds: at
	// most that many index pages, so that a request waiting for the write
	// lock waits a few milliseconds. (1,000 made bulk checks' p99 100-130 ms
	// once the index held a million entries; 250: 65-77 ms.)
	verificationIndexChunk = 250
)

// findVerificationsQuery lists a registrant's newest verifications: those
// indexed and those above the indexed mark, which are few and read by id.
const findVerificationsQuery = `SELECT v.id, v.register_number, COALESCE(v.organisation_id, 0), COALESCE(o.name, ''), v.method, v.purpose, v.checked_at, v.as_at
	FROM verifications v LEFT JOIN organisations o ON o.id = v.organisation_id
	WHERE v.id IN (
		SELECT verification_id FROM verifications_by_registrant WHERE registrant_id = ?1
		UNION
		SELECT id FROM verifications WHERE id > (SELECT through FROM verifications_indexed) AND registrant_id = ?1)
	ORDER BY v.id DESC LIMIT ?2`

// IndexVerifications adds every verification committed so far that is not
// yet in verifications_by_registrant, and returns how many it added. Safe
// to run beside the server's indexer or another process's: entries already
// there are left alone and the mark only moves forward.
func (db *DB) IndexVerifications(ctx context.Context) (int, error) {
	total := 0
	for {
		n, more, err := db.indexVerifications(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

type verificationEntry struct{ registrant, id int64 }

// indexVerifications adds up to verificationIndexRead verifications; more
// says whether there may be others.
func (db *DB) indexVerifications(ctx context.Context) (n int, more bool, err error) {
	rows, err := db.reader.QueryContext(ctx, `SELECT id, registrant_id FROM verifications
		WHERE id > (SELECT through FROM verifications_indexed) ORDER BY id LIMIT ?`, verificationIndexRead)
	if err != nil {
		return 0, false, err
	}
	var entries []verificationEntry
	var read, through int64
	for rows.Next() {
		var registrant sql.NullInt64
		if err := rows.Scan(&through, &registrant); err != nil {
			rows.Close()
			return 0, false, err
		}
		read++
		if registrant.Valid { // a verification of a number not on the register names no one
			entries = append(entries, verificationEntry{registrant.Int64, through})
		}
	}
	if err := rows.Close(); err != nil {
		return 0, false, err
	}
	if err := rows.Err(); err != nil || read == 0 {
		return 0, false, err
	}
	slices.SortFunc(entries, func(a, b verificationEntry) int {
		return cmp.Or(cmp.Compare(a.registrant, b.registrant), cmp.Compare(a.id, b.id))
	})
	for start := 0; ; start += verificationIndexChunk {
		end := min(start+verificationIndexChunk, len(entries))
		if err := db.addVerificationEntries(ctx, entries[start:end], end == len(entries), through); err != nil {
			return start, false, err
		}
		if end == len(entries) {
			break
		}
	}
	return len(entries), read == verificationIndexRead, nil
}

// addVerificationEntries adds one chunk in one transaction, and when it is
// the last of a pass moves the mark to through with it: a pass stopped
// half way leaves the mark where it was, and the next pass adds the same
// verifications again (entries already there are ignored).
func (db *DB) addVerificationEntries(ctx context.Context, entries []verificationEntry, last bool, through int64) error {
	pairs := make([][2]int64, len(entries))
	for i, e := range entries {
		pairs[i] = [2]int64{e.registrant, e.id}
	}
	doc, err := json.Marshal(pairs)
	if err != nil {
		return err
	}
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return FormatError(err)
	}
	defer tx.Rollback()
	if len(entries) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO verifications_by_registrant (registrant_id, verification_id)
			SELECT value ->> 0, value ->> 1 FROM json_each(?)`, string(doc)); err != nil {
			return err
		}
	}
	if last {
		if _, err := tx.ExecContext(ctx, `UPDATE verifications_indexed SET through = ?1 WHERE through < ?1`, through); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// verificationIndexer runs IndexVerifications every verificationIndexEvery
// until stopped.
type verificationIndexer struct {
	stop context.CancelFunc // ends the pass under way too; safe to call again
	done sync.WaitGroup
}

// StartVerificationIndex keeps verifications_by_registrant up to date in
// the background until Close. Without it "who checked me" stays correct but
// reads every verification written since the index was last brought up to
// date.
func (db *DB) StartVerificationIndex(log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	ix := &verificationIndexer{stop: cancel}
	ix.done.Add(1)
	go func() {
		defer ix.done.Done()
		t := time.NewTicker(verificationIndexEvery)
		defer t.Stop()
		failing := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			_, err := db.IndexVerifications(ctx)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil && !failing:
				log.Warn("verification index behind; it is retried", slog.Any("error", err))
			case err == nil && failing:
				log.Info("verification index up to date again")
			}
			failing = err != nil
		}
	}()
	db.indexer = ix
}

func (ix *verificationIndexer) close() {
	ix.stop()
	ix.done.Wait()
}
