package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/klauspost/compress/zstd"

	"github.com/probation-register/register/register"
)

// The answer cache keeps every stored public answer (the registrations
// table's public_json, with the window in which it holds) in memory, so
// that a verification is answered without a call into SQLite: such a call
// costs more server time than everything else a verification does
// (docs/performance.md, "What limits verification"). Each answer is
// compressed with zstd against a dictionary of answers sampled from the
// register (a million answers take about 85 MB) and kept outside the Go
// heap, so that the collector neither scans it nor lets the heap grow by
// its size before collecting.
//
// It never serves an answer that a commit has replaced:
//   - every write transaction that stores answers gives them one
//     answer_seq, greater than any in the table (migration 0010);
//   - after each of this process's commits that stored answers, before the
//     write returns to its caller, the rows with an answer_seq above the
//     last one seen are read into memory (catchUp);
//   - other processes' commits (the command line, a bulk import) are seen
//     the way SQLite's own readers see them: every commit in WAL mode
//     rewrites the header of the WAL index, the -shm file that every
//     connection to the database maps (https://sqlite.org/walformat.html,
//     "The WAL-Index Header"). The cache maps it too, and each lookup
//     compares the header with the one read just before the last catch-up,
//     a few memory reads; when it differs, the lookup first catches up.
//     The cache holds a connection of its own open throughout, so that the
//     file stays the one every process uses;
//   - an entry is only ever replaced by one with a greater answer_seq, so
//     a slow reader of old rows cannot put an old answer back.
//
// Answers whose window has closed (changes_at has passed) or that are
// asked at an instant outside it are derived from the history in SQLite,
// exactly as without the cache. Until the first build finishes, and after
// a change too large to read row by row, every question goes to SQLite.

// answerPoll is how often the cache catches up with commits when no
// lookup has asked it to (and starts a rebuild when one would pay).
const answerPoll = time.Second

const (
	answerSlots = register.NumberSpace // one slot per register number
	answerChunk = 1 << 20              // bytes per arena chunk
	// answerCatchUpMax is the most changed rows read one by one; a larger
	// change (a bulk import by another process) rebuilds the cache instead.
	answerCatchUpMax = 10000
	answerLoadBatch  = 2000
	answerDictBytes  = 112 << 10 // measured: 55 bytes an answer against 64 with 32 KB
)

// AnswerCacheStats describes the cache, for logs and the benchmark.
type AnswerCacheStats struct {
	Entries  int64 // answers held
	Bytes    int64 // arena bytes in use, live and replaced
	Complete bool  // every answer on the register is held
	Builds   int64 // full builds finished
}

type answerCache struct {
	db  *DB
	log *slog.Logger
	gen atomic.Pointer[answerGen]
	// conn is the cache's own connection, held open for its lifetime:
	// catch-ups use it, and while it is open SQLite keeps the -shm file
	// that shm maps.
	pool   *sql.DB
	conn   *sql.Conn
	shm    *walIndex
	synced atomic.Pointer[walHeader] // read just before the last catch-up

	mu       sync.Mutex // catch-ups and swaps; guards last and building
	last     int64      // the highest answer_seq read into gen
	building bool
	builds   atomic.Int64
	stop     chan struct{}
	closing  sync.Once
	done     sync.WaitGroup
}

// StartAnswerCache builds the answer cache in the background and keeps it
// up to date until Close. Until it is built, answers come from SQLite.
func (db *DB) StartAnswerCache(log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	c := &answerCache{db: db, log: log, stop: make(chan struct{})}
	ctx := context.Background()
	var err error
	if c.pool, err = sql.Open("sqlite3", db.dsn(true)); err != nil {
		return err
	}
	c.pool.SetMaxOpenConns(1)
	if c.conn, err = c.pool.Conn(ctx); err == nil {
		// Begin and end a read so that the connection has the WAL index open.
		err = c.conn.QueryRowContext(ctx, `SELECT coalesce(max(answer_seq), 0) FROM registrations`).Scan(&c.last)
	}
	if err == nil {
		c.shm, err = mapWALIndex(db.Path + "-shm")
	}
	if err != nil {
		c.pool.Close()
		return fmt.Errorf("sqlite: answer cache: %w", err)
	}
	// The header is read before the changes are; since the max above was
	// read, a commit may have come, so catch up once more under the lock.
	c.gen.Store(newAnswerGen(nil, 0))
	c.mu.Lock()
	h := c.shm.header()
	last, _, err := c.readChanges(ctx, c.gen.Load(), c.last, answerCatchUpMax)
	if err == nil {
		c.last = last
		c.synced.Store(&h)
	}
	c.startBuild()
	c.mu.Unlock()
	db.answers = c
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		t := time.NewTicker(answerPoll)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.catchUp(false)
			}
		}
	}()
	return nil
}

// AnswerCacheStats reports the answer cache; ok is false when it is not running.
func (db *DB) AnswerCacheStats() (s AnswerCacheStats, ok bool) {
	c := db.answers
	if c == nil {
		return s, false
	}
	g := c.acquire()
	defer g.release()
	return AnswerCacheStats{Entries: g.entries.Load(), Bytes: g.bytes.Load(), Complete: g.complete.Load(), Builds: c.builds.Load()}, true
}

func (c *answerCache) close() { c.closing.Do(c.doClose) }

func (c *answerCache) doClose() {
	close(c.stop)
	c.done.Wait()
	c.mu.Lock()
	closed := &answerGen{retired: true} // holds nothing: every lookup now goes to the database
	closed.chunks.Store(&[][]byte{})
	old := c.gen.Swap(closed)
	c.synced.Store(nil)
	c.conn.Close()
	c.pool.Close()
	c.shm.close()
	c.mu.Unlock()
	old.retire()
}

// SyncAnswers reads into memory, now rather than at the next poll, the
// answers committed outside this DB's transactions: by another process,
// or by raw SQL through Writer that sets answer_seq. A no-op without the
// cache.
func (db *DB) SyncAnswers() {
	if db.answers != nil {
		db.answers.catchUp(true)
	}
}

// answersCommitted is called after every commit that stored answers.
func (db *DB) answersCommitted() {
	if db.answers != nil {
		db.answers.catchUp(true)
	}
}

// acquire returns the current generation, which the caller must release;
// its memory stays mapped until every holder has released it.
func (c *answerCache) acquire() *answerGen {
	for {
		g := c.gen.Load()
		g.refs.Add(1)
		if c.gen.Load() == g {
			return g
		}
		g.refs.Add(-1)
	}
}

// swap publishes g; the caller holds c.mu.
func (c *answerCache) swap(g *answerGen) {
	old := c.gen.Swap(g)
	go old.retire()
}

// startBuild starts a full build unless one is running; the caller holds c.mu.
func (c *answerCache) startBuild() {
	if c.building {
		return
	}
	c.building = true
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		err := c.build()
		c.mu.Lock()
		c.building = false
		c.mu.Unlock()
		if err != nil {
			select {
			case <-c.stop:
				return // closing: the store is going away under the build
			default:
			}
			c.log.Error("answer cache: build failed; answers come from the database", slog.Any("error", err))
		}
	}()
}

// build reads every stored answer into a new generation and publishes it.
func (c *answerCache) build() error {
	started := time.Now()
	ctx := context.Background()
	var from int64
	if err := c.db.reader.QueryRowContext(ctx, `SELECT coalesce(max(answer_seq), 0) FROM registrations`).Scan(&from); err != nil {
		return err
	}
	dict, samples, err := c.sampleDict(ctx)
	if err != nil {
		return err
	}
	g := newAnswerGen(dict, samples)
	g.complete.Store(true)
	after := int64(0)
	for {
		select {
		case <-c.stop:
			g.retire()
			return errors.New("closing")
		default:
		}
		rows, err := c.db.reader.QueryContext(ctx, `SELECT registrant_id, `+answerColumns+` FROM registrations
			WHERE registrant_id > ? ORDER BY registrant_id LIMIT ?`, after, answerLoadBatch)
		if err != nil {
			g.retire()
			return err
		}
		n := 0
		for rows.Next() {
			var r answerRow
			if err := rows.Scan(append([]any{&after}, r.dest()...)...); err != nil {
				rows.Close()
				g.retire()
				return err
			}
			g.put(&r)
			n++
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			g.retire()
			return err
		}
		if n < answerLoadBatch {
			break
		}
	}
	// Most of what was committed during the build is read before taking
	// the lock, the rest under it, so that writes wait only briefly.
	last, _, err := c.readChanges(ctx, g, from, 0)
	if err != nil {
		g.retire()
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.shm.header()
	last, _, err = c.readChanges(ctx, g, last, 0)
	if err != nil {
		g.retire()
		return err
	}
	c.swap(g)
	c.last = last
	c.synced.Store(&h)
	c.builds.Add(1)
	// The build read every answer through the Go heap; give that back now
	// rather than when the runtime gets round to it.
	go debug.FreeOSMemory()
	c.log.Info("answer cache built", slog.Int64("answers", g.entries.Load()), slog.Int64("bytes", g.bytes.Load()),
		slog.Bool("complete", g.complete.Load()), slog.Duration("took", time.Since(started).Round(time.Millisecond)))
	return nil
}

// catchUp reads the answers committed since the last it saw; unless
// always, only when the WAL index says something was committed since. A
// change too large to read row by row, or a failure to read it, empties
// the cache (every answer then comes from the database) and rebuilds it.
func (c *answerCache) catchUp(always bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.stop:
		return
	default:
	}
	h := c.shm.header()
	if !always && !c.stale(h) {
		if c.gen.Load().needsBuild() {
			c.startBuild()
		}
		return
	}
	g := c.gen.Load() // only this function, under c.mu, writes to it
	ctx := context.Background()
	last, more, err := c.readChanges(ctx, g, c.last, answerCatchUpMax)
	if err == nil && !more {
		c.last = last
		c.synced.Store(&h)
		return
	}
	if err != nil {
		c.log.Warn("answer cache: could not read changes; answers come from the database until it is rebuilt", slog.Any("error", err))
	}
	// Start again from what is committed now; the build reads the rest.
	c.swap(newAnswerGen(nil, 0))
	if err := c.conn.QueryRowContext(ctx, `SELECT coalesce(max(answer_seq), 0) FROM registrations`).Scan(&last); err == nil {
		c.last = last
		c.synced.Store(&h)
	}
	c.startBuild()
}

// stale reports whether a commit may have come since the last catch-up.
func (c *answerCache) stale(h walHeader) bool {
	synced := c.synced.Load()
	return synced == nil || *synced != h
}

// readChanges puts into g the rows whose answer_seq is above from and
// returns the highest seen; with max > 0 it stops after max rows and
// reports more.
func (c *answerCache) readChanges(ctx context.Context, g *answerGen, from int64, max int) (last int64, more bool, err error) {
	q := `SELECT answer_seq, ` + answerColumns + ` FROM registrations WHERE answer_seq > ? ORDER BY answer_seq`
	args := []any{from}
	if max > 0 {
		q += ` LIMIT ?`
		args = append(args, max+1)
	}
	rows, err := c.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return from, false, err
	}
	defer rows.Close()
	last = from
	n := 0
	for rows.Next() {
		if n++; max > 0 && n > max {
			return last, true, nil
		}
		var r answerRow
		var seq int64
		if err := rows.Scan(append([]any{&seq}, r.dest()...)...); err != nil {
			return from, false, err
		}
		g.put(&r)
		last = seq
	}
	return last, false, rows.Err()
}

// sampleDict reads answers spread over the register as the compression
// dictionary: they share their keys and most of their phrases with every
// other answer.
func (c *answerCache) sampleDict(ctx context.Context) ([]byte, int, error) {
	var lo, hi sql.NullInt64
	if err := c.db.reader.QueryRowContext(ctx, `SELECT min(registrant_id), max(registrant_id) FROM registrations`).Scan(&lo, &hi); err != nil || !lo.Valid {
		return nil, 0, err
	}
	var dict []byte
	samples := 0
	const want = 512
	for i := int64(0); i < want && len(dict) < answerDictBytes; i++ {
		var body []byte
		err := c.db.reader.QueryRowContext(ctx, `SELECT public_json FROM registrations WHERE registrant_id >= ? ORDER BY registrant_id LIMIT 1`,
			lo.Int64+(hi.Int64-lo.Int64)*i/want).Scan(&body)
		if err != nil {
			return nil, 0, err
		}
		dict = append(dict, body...)
		samples++
	}
	return dict, samples, nil
}

// answerColumns are what the cache reads of a registrations row.
const answerColumns = `answer_seq, register_number, public_json, changes_at, standing_from, history_from`

type answerRow struct {
	seq                                  int64
	number                               string
	body                                 []byte
	changesAt, standingFrom, historyFrom sql.NullString
}

func (r *answerRow) dest() []any {
	return []any{&r.seq, &r.number, &r.body, &r.changesAt, &r.standingFrom, &r.historyFrom}
}

// cachedAnswer is an answer read from the cache, with its window (public.go).
type cachedAnswer struct {
	body                                 []byte
	changesAt, standingFrom, historyFrom instant
}

// instant is a stored instant in microseconds since 1970; ok false for NULL.
type instant struct {
	us int64
	ok bool
}

// holds is storedHolds for a cached answer.
func (a *cachedAnswer) holds(t, now time.Time) bool {
	tu := t.UnixMicro()
	if a.changesAt.ok && a.changesAt.us <= tu {
		return false
	}
	return !t.Before(now) || (a.standingFrom.ok && a.standingFrom.us <= tu)
}

// lookup returns number's answer from memory. found reports whether the
// cache knows the answer: an answer, or, when the cache holds every
// answer, that number is not on the register (a nil answer).
func (c *answerCache) lookup(number string, dst []byte) (a *cachedAnswer, found bool, err error) {
	serial, ok := numberSerial(number)
	if !ok {
		return nil, false, nil
	}
	if c.stale(c.shm.header()) {
		c.catchUp(false)
	}
	g := c.acquire()
	defer g.release()
	e := g.entry(serial)
	if e == nil {
		return nil, g.complete.Load(), nil
	}
	a = &cachedAnswer{}
	var rest []byte
	if _, rest, ok = readEntryHeader(e, a); !ok {
		return nil, false, errors.New("sqlite: answer cache: bad entry")
	}
	f := framePool.Get().(*[]byte)
	defer framePool.Put(f)
	*f = append(append((*f)[:0], zstdMagic...), rest...)
	if a.body, err = g.dec.DecodeAll(*f, dst); err != nil {
		return nil, false, fmt.Errorf("sqlite: answer cache: %w", err)
	}
	return a, true, nil
}

// zstdMagic begins every zstd frame (RFC 8878, section 3.1.1).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// framePool holds buffers for putting a frame's magic number back.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// numberSerial is the six-digit serial of a canonical register number.
func numberSerial(number string) (int, bool) {
	if len(number) != 9 || number[0] != 'P' || number[1] != 'R' {
		return 0, false
	}
	n := 0
	for i := 2; i < 8; i++ {
		d := number[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int(d)
	}
	return n, true
}

// answerGen is one generation of the cache: a table of slots, one per
// register number, pointing into an arena of chunks, both mapped outside
// the Go heap (the table's pages take memory only once written to). Entries are written once and never changed; a changed answer is
// a new entry and the slot moves to it. A full build makes a new
// generation (with a fresh dictionary), which also drops replaced entries.
type answerGen struct {
	slots  []uint32 // read and written atomically; 0 is empty, else position+1
	table  []byte   // the mapping that holds slots
	chunks atomic.Pointer[[][]byte]
	enc    *zstd.Encoder
	dec    *zstd.Decoder
	refs   atomic.Int64

	// Written only by the one goroutine filling the generation (a build
	// before publishing it, catchUp under the cache's lock after).
	fill      int         // bytes used in the last chunk
	live      int64       // bytes of current entries
	samples   int         // answers in the dictionary
	complete  atomic.Bool // every row on the register is in the cache
	scratch   []byte
	entries   atomic.Int64
	bytes     atomic.Int64
	retiredMu sync.Mutex
	retired   bool
}

func newAnswerGen(dict []byte, samples int) *answerGen {
	g := &answerGen{samples: samples}
	g.table = allocArena(answerSlots * 4)
	g.slots = unsafe.Slice((*uint32)(unsafe.Pointer(&g.table[0])), answerSlots)
	encOpts := []zstd.EOption{zstd.WithEncoderCRC(false), zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(1), zstd.WithSingleSegment(true), zstd.WithLowerEncoderMem(true)}
	decOpts := []zstd.DOption{zstd.WithDecoderConcurrency(2 * runtime.GOMAXPROCS(0)), zstd.IgnoreChecksum(true)}
	if len(dict) > 0 {
		encOpts = append(encOpts, zstd.WithEncoderDictRaw(1, dict))
		decOpts = append(decOpts, zstd.WithDecoderDictRaw(1, dict))
	}
	var err error
	if g.enc, err = zstd.NewWriter(nil, encOpts...); err != nil {
		panic(err) // only for invalid options, fixed above
	}
	if g.dec, err = zstd.NewReader(nil, decOpts...); err != nil {
		panic(err)
	}
	empty := [][]byte{}
	g.chunks.Store(&empty)
	return g
}

func (g *answerGen) release() { g.refs.Add(-1) }

// retire frees the generation's memory once no reader holds it.
func (g *answerGen) retire() {
	g.retiredMu.Lock()
	defer g.retiredMu.Unlock()
	if g.retired {
		return
	}
	g.retired = true
	for g.refs.Load() != 0 {
		time.Sleep(time.Millisecond)
	}
	for _, ch := range *g.chunks.Load() {
		freeArena(ch)
	}
	g.chunks.Store(&[][]byte{})
	if g.table != nil {
		freeArena(g.table)
		g.slots, g.table = nil, nil
	}
	if g.dec != nil {
		g.dec.Close()
	}
}

// needsBuild reports whether a rebuild would pay: replaced entries take
// more room than current ones, or the dictionary was sampled from a
// register too small to be representative.
func (g *answerGen) needsBuild() bool {
	used := g.bytes.Load()
	return (used > 2*g.live && used > 16<<20) || (g.samples < 64 && g.entries.Load() > 4096)
}

// entry returns the bytes of serial's entry, or nil.
func (g *answerGen) entry(serial int) []byte {
	if g.slots == nil {
		return nil // retired
	}
	v := atomic.LoadUint32(&g.slots[serial])
	if v == 0 {
		return nil
	}
	chunks := *g.chunks.Load()
	pos := v - 1
	ch := chunks[pos/answerChunk]
	off := int(pos % answerChunk)
	n, k := binary.Uvarint(ch[off:])
	return ch[off+k : off+k+int(n)]
}

// put stores r unless the generation holds the same or a later answer.
func (g *answerGen) put(r *answerRow) {
	serial, ok := numberSerial(r.number)
	if !ok {
		g.complete.Store(false)
		return
	}
	var prev cachedAnswer
	old := g.entry(serial)
	if old != nil {
		if seq, _, ok := readEntryHeader(old, &prev); ok && seq >= r.seq {
			return
		}
	}
	b := g.scratch[:0]
	b = binary.AppendUvarint(b, uint64(r.seq))
	for _, s := range []sql.NullString{r.changesAt, r.standingFrom, r.historyFrom} {
		v, ok := encodeInstant(s)
		if !ok {
			g.complete.Store(false)
			g.drop(serial, old)
			return
		}
		b = binary.AppendUvarint(b, v)
	}
	at := len(b)
	b = g.enc.EncodeAll(r.body, b)
	// Every frame starts with the same four-byte magic number: kept once,
	// not a million times (lookup puts it back).
	b = append(b[:at], b[at+len(zstdMagic):]...)
	g.scratch = b
	size := binary.PutUvarint(make([]byte, binary.MaxVarintLen64), uint64(len(b))) + len(b)
	if size > answerChunk {
		g.complete.Store(false)
		g.drop(serial, old)
		return
	}
	chunks := *g.chunks.Load()
	if len(chunks) == 0 || g.fill+size > answerChunk {
		if len(chunks) >= 1<<32/answerChunk-1 { // a slot holds a 32-bit position
			g.complete.Store(false)
			g.drop(serial, old)
			return
		}
		next := append(chunks[:len(chunks):len(chunks)], allocArena(answerChunk))
		g.chunks.Store(&next)
		chunks, g.fill = next, 0
		g.bytes.Add(answerChunk)
	}
	last := len(chunks) - 1
	ch := chunks[last]
	k := binary.PutUvarint(ch[g.fill:], uint64(len(b)))
	copy(ch[g.fill+k:], b)
	pos := uint32(last)*answerChunk + uint32(g.fill)
	g.fill += size
	if old != nil {
		g.live -= int64(len(old))
	} else {
		g.entries.Add(1)
	}
	g.live += int64(size)
	atomic.StoreUint32(&g.slots[serial], pos+1)
}

// drop removes serial's entry, when an answer cannot be held (it is then
// read from the database).
func (g *answerGen) drop(serial int, old []byte) {
	if old == nil {
		return
	}
	atomic.StoreUint32(&g.slots[serial], 0)
	g.live -= int64(len(old))
	g.entries.Add(-1)
}

// encodeInstant packs a stored instant in as few bytes as it needs: 0 for
// NULL, then midnights (most expiries and imported dates) as days, whole
// seconds as seconds, and the rest in microseconds. Instants before 1970
// are not held.
func encodeInstant(s sql.NullString) (uint64, bool) {
	if !s.Valid {
		return 0, true
	}
	t, err := time.Parse(TimeLayout, s.String)
	if err != nil || t.Unix() < 0 {
		return 0, false
	}
	us := t.UnixMicro()
	switch {
	case us%(86400*1e6) == 0:
		return uint64(us/(86400*1e6))<<2 | 1, true
	case us%1e6 == 0:
		return uint64(us/1e6)<<2 | 2, true
	}
	return uint64(us)<<2 | 3, true
}

func decodeInstant(v uint64) instant {
	switch v & 3 {
	case 1:
		return instant{us: int64(v>>2) * 86400 * 1e6, ok: true}
	case 2:
		return instant{us: int64(v>>2) * 1e6, ok: true}
	case 3:
		return instant{us: int64(v >> 2), ok: true}
	}
	return instant{}
}

// readEntryHeader reads an entry's answer_seq and window into a and
// returns the compressed answer after them.
func readEntryHeader(e []byte, a *cachedAnswer) (seq int64, rest []byte, ok bool) {
	var vals [4]uint64
	for i := range vals {
		v, k := binary.Uvarint(e)
		if k <= 0 {
			return 0, nil, false
		}
		vals[i], e = v, e[k:]
	}
	a.changesAt, a.standingFrom, a.historyFrom = decodeInstant(vals[1]), decodeInstant(vals[2]), decodeInstant(vals[3])
	return int64(vals[0]), e, true
}
