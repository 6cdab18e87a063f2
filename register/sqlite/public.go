package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/probation-register/register/register"
)

// PublicService answers public verification and search.
type PublicService struct{ db *DB }

// NewPublicService returns the public answer store.
func NewPublicService(db *DB) *PublicService { return &PublicService{db: db} }

var _ register.PublicService = (*PublicService)(nil)

// publicRowQuery reads a stored answer, the window in which it holds and
// the instant before which the answer is the empty one.
const publicRowQuery = `SELECT public_json, changes_at, standing_from, history_from FROM registrations WHERE register_number = ?`

// storedHolds reports whether a stored answer answers the question at t.
// It holds from standing_from (or, when that is unknown, at least from
// now: every write rewrites it) until changes_at. Stored instants have a
// fixed width, so text order is time order.
func storedHolds(t, now time.Time, changesAt, standingFrom sql.NullString) bool {
	ts := formatTime(t)
	if changesAt.Valid && changesAt.String <= ts {
		return false
	}
	return !t.Before(now) || (standingFrom.Valid && standingFrom.String <= ts)
}

// PublicRecord serves the stored answer when it holds at the instant asked
// (from memory when the server holds the answers, answercache.go; else one
// indexed read) and derives it from the history otherwise.
func (s *PublicService) PublicRecord(ctx context.Context, number string, at *time.Time) (*register.PublicAnswer, error) {
	now := s.db.now()
	t := now
	if at != nil {
		t = *at
	}
	if err := ctx.Err(); err != nil {
		return nil, err // a request already given up is not served
	}
	if c := s.db.answers; c != nil {
		// From memory when the cache knows the answer (answercache.go).
		a, found, err := c.lookup(number, nil)
		switch {
		case err != nil:
			return nil, err
		case !found:
		case a == nil:
			return nil, notOnRegister(number)
		case a.holds(t, now):
			return &register.PublicAnswer{Body: a.body, AsAt: t}, nil
		case a.historyFrom.ok && t.UnixMicro() < a.historyFrom.us:
			return emptyAnswer(a.body, t)
		default:
			return s.derive(ctx, number, t)
		}
	}
	var body []byte
	var changesAt, standingFrom, historyFrom sql.NullString
	// One indexed read of a few microseconds, asked without the request's
	// cancellation: with it, database/sql starts a goroutine per query to
	// watch the context, a cost that shows in the server's throughput
	// (docs/performance.md).
	err := s.db.reader.QueryRowContext(context.WithoutCancel(ctx), publicRowQuery, number).Scan(&body, &changesAt, &standingFrom, &historyFrom)
	if err == sql.ErrNoRows {
		return nil, notOnRegister(number)
	} else if err != nil {
		return nil, err
	}
	if storedHolds(t, now, changesAt, standingFrom) {
		return &register.PublicAnswer{Body: body, AsAt: t}, nil
	}
	if historyFrom.Valid && formatTime(t) < historyFrom.String {
		return emptyAnswer(body, t)
	}
	return s.derive(ctx, number, t)
}

// emptyAnswer is the answer at an instant before anything in the history
// takes effect: not registered, nothing shown, under the names that the
// stored answer carries (every write that changes a name rewrites it).
func emptyAnswer(stored []byte, t time.Time) (*register.PublicAnswer, error) {
	var names struct {
		Number     string `json:"register_number"`
		FamilyName string `json:"family_name"`
		GivenNames string `json:"given_names"`
	}
	if err := json.Unmarshal(stored, &names); err != nil {
		return nil, err
	}
	r := &register.Registrant{Number: names.Number, FamilyName: names.FamilyName, GivenNames: names.GivenNames}
	body, err := register.MarshalPublic(register.NewPublicRecord(r, (&register.Record{Registrant: r}).StandingAt(t)))
	if err != nil {
		return nil, err
	}
	return &register.PublicAnswer{Body: body, AsAt: t}, nil
}

// derive computes the answer at t from the registrant's whole history.
func (s *PublicService) derive(ctx context.Context, number string, t time.Time) (*register.PublicAnswer, error) {
	tx, err := s.db.ReadTx(context.WithoutCancel(ctx)) // a few indexed reads, as above
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rec, err := loadRecord(tx, number)
	if register.ErrorCode(err) == register.ENOTFOUND || (err == nil && len(rec.Periods) == 0) {
		return nil, notOnRegister(number)
	} else if err != nil {
		return nil, err
	}
	body, err := register.MarshalPublic(register.NewPublicRecord(rec.Registrant, rec.StandingAt(t)))
	if err != nil {
		return nil, err
	}
	return &register.PublicAnswer{Body: body, AsAt: t}, nil
}

// answerWindow returns, for the standing_from and history_from columns,
// the instant from which rec's standing at now has held unchanged and the
// earliest instant that anything in rec takes effect. StandingAt depends
// on its instant only through comparisons with the record's instants
// (period starts, ends and registration expiries, order starts and ends,
// qualification records and verifications): between two of them the
// standing is the same, and before the first of them it is the empty one.
// standing_from is the latest of them at or before now. NULL when unknown.
func answerWindow(rec *register.Record, now time.Time) (standingFrom, historyFrom any) {
	var from, first time.Time
	see := func(t time.Time) {
		if !t.After(now) && t.After(from) {
			from = t
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	for _, p := range rec.Periods {
		see(p.From)
		if p.To != nil {
			see(*p.To)
		}
		if !p.RegisteredUntil.IsZero() {
			see(p.RegisteredUntil.End())
		}
	}
	for _, o := range rec.Orders {
		see(o.From)
		if o.To != nil {
			see(*o.To)
		}
	}
	for _, q := range rec.Qualifications {
		see(q.Created)
		if q.VerifiedAt != nil {
			see(*q.VerifiedAt)
		}
	}
	if from.IsZero() {
		return nil, nil
	}
	return formatTime(from), formatTime(first)
}

func notOnRegister(number string) error {
	return register.Errorf(register.ENOTFOUND, "%s is not on the register.", number)
}

// SearchPublic finds registrants on the register whose names have a word
// starting with each word of name. The most selective (longest) word drives
// the index range scan; the others are checked per candidate.
func (s *PublicService) SearchPublic(ctx context.Context, name string, limit int) ([]*register.PublicAnswer, error) {
	words := nameTokens(name)
	if len(words) == 0 {
		return nil, register.FieldError("name", "must contain letters or digits")
	}
	if len(words) > 5 {
		words = words[:5]
	}
	lead := 0
	for i, w := range words {
		if len(w) > len(words[lead]) {
			lead = i
		}
	}
	q := `SELECT g.public_json, g.changes_at, g.register_number FROM name_tokens t
		JOIN registrations g ON g.registrant_id = t.registrant_id
		WHERE t.token >= ? AND t.token < ?`
	args := []any{words[lead], words[lead] + "\uffff"}
	for i, w := range words {
		if i == lead {
			continue
		}
		q += ` AND EXISTS (SELECT 1 FROM name_tokens o WHERE o.registrant_id = t.registrant_id AND o.token >= ? AND o.token < ?)`
		args = append(args, w, w+"\uffff")
	}
	// A registrant may match on two words of their names: ask for spares.
	q += ` LIMIT ?`
	args = append(args, limit*3)
	rows, err := s.db.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now := s.db.now()
	seen := map[string]bool{}
	var out []*register.PublicAnswer
	var stale []string
	for rows.Next() && len(out)+len(stale) < limit {
		var body []byte
		var changesAt sql.NullString
		var number string
		if err := rows.Scan(&body, &changesAt, &number); err != nil {
			return nil, err
		}
		if seen[number] {
			continue
		}
		seen[number] = true
		if changesAt.Valid && changesAt.String <= formatTime(now) {
			stale = append(stale, number)
			continue
		}
		out = append(out, &register.PublicAnswer{Body: body, AsAt: now})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for _, n := range stale {
		a, err := s.derive(ctx, n, now)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if out == nil {
		out = []*register.PublicAnswer{}
	}
	return out, nil
}

// nameTokens splits a name into lower-case, accent-free words.
func nameTokens(s string) []string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// drop combining accents: "Zoë" matches "zoe"
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’':
			// "O'Brien" is one word: obrien
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

func writeNameTokens(tx *Tx, r *register.Registrant) error {
	seen := map[string]bool{}
	names := append([]string{r.FamilyName, r.GivenNames}, r.PreviousNames...)
	for _, n := range names {
		for _, t := range nameTokens(n) {
			if seen[t] {
				continue
			}
			seen[t] = true
			if _, err := tx.Exec(`INSERT INTO name_tokens (token, registrant_id) VALUES (?, ?)`, t, r.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
