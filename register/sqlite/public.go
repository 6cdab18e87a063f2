package sqlite

import (
	"context"
	"database/sql"
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

// PublicRecord serves the stored answer when it is still current (one
// indexed read) and derives it from the history otherwise.
func (s *PublicService) PublicRecord(ctx context.Context, number string, at *time.Time) (*register.PublicAnswer, error) {
	now := s.db.now()
	if at == nil {
		var body []byte
		var changesAt sql.NullString
		err := s.db.reader.QueryRowContext(ctx, `SELECT public_json, changes_at FROM registrations WHERE register_number = ?`, number).Scan(&body, &changesAt)
		if err == sql.ErrNoRows {
			return nil, notOnRegister(number)
		} else if err != nil {
			return nil, err
		}
		// The stored answer holds from now until changes_at, so it also
		// answers a later instant before then.
		t := now
		if at != nil {
			t = *at
		}
		if !changesAt.Valid || changesAt.String > formatTime(t) {
			return &register.PublicAnswer{Body: body, AsAt: t}, nil
		}
		at = &t
	}
	tx, err := s.db.ReadTx(ctx)
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
	body, err := register.MarshalPublic(register.NewPublicRecord(rec.Registrant, rec.StandingAt(*at)))
	if err != nil {
		return nil, err
	}
	return &register.PublicAnswer{Body: body, AsAt: *at}, nil
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
		a, err := s.PublicRecord(ctx, n, &now)
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
