package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

// IdempotencyStore keeps the answers to writes sent with an Idempotency-Key
// (register/sqlite/idempotency.go). Track returns a context whose write
// transaction is held open; finish stores the answer in it and commits both.
type IdempotencyStore interface {
	FindAnswer(ctx context.Context, principal, key string) (requestHash string, status int, body []byte, err error)
	Track(ctx context.Context, principal, key, requestHash string) (context.Context, func(ctx context.Context, status int, body []byte) error, func())
}

// maxIdempotencyKey bounds the header: a UUID or similar is expected.
const maxIdempotencyKey = 200

// idempotent runs an authenticated request. A write (any method but GET and
// HEAD) with an Idempotency-Key header is done at most once per user and key:
// its answer is stored in the write's own transaction and replayed, marked
// Idempotent-Replayed, to any retry with the same key and the same request.
// The same key with a different request is refused. Requests that write
// nothing (refused, invalid) store nothing, so their retries run afresh.
func (s *Server) idempotent(c *gin.Context) {
	key := c.GetHeader("Idempotency-Key")
	if s.Idempotency == nil || key == "" || c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Next()
		return
	}
	if len(key) > maxIdempotencyKey || !printable(key) {
		s.Error(c, register.FieldError("Idempotency-Key", "must be 1 to 200 printable ASCII characters"))
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		s.Error(c, decodeError(err))
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256([]byte(c.Request.Method + " " + c.Request.URL.RequestURI() + "\n" + string(body)))
	hash := hex.EncodeToString(sum[:])
	principal := ""
	if u, ok := c.Get(userKey); ok {
		principal = "user:" + strconv.FormatInt(u.(*register.User).ID, 10)
	} else if p, ok := c.Get(orgKey); ok { // an organisation's API key
		principal = "org:" + strconv.FormatInt(p.(*register.OrgPrincipal).OrganisationID, 10)
	} else {
		c.Next()
		return
	}
	ctx := c.Request.Context()

	storedHash, status, stored, err := s.Idempotency.FindAnswer(ctx, principal, key)
	if err != nil {
		s.Error(c, err)
		return
	}
	if status != 0 {
		if storedHash != hash {
			s.Error(c, register.Errorf(register.EUNPROCESSABLE, "This Idempotency-Key was used for a different request."))
			return
		}
		c.Header("Idempotent-Replayed", "true")
		c.Data(status, "application/json; charset=utf-8", stored)
		c.Abort()
		return
	}

	tracked, finish, abandon := s.Idempotency.Track(ctx, principal, key, hash)
	w := &heldWriter{ResponseWriter: c.Writer, status: http.StatusOK}
	defer func() {
		// After a panic the recovery must answer on the real writer, and the
		// held write must go (both no-ops once finished).
		c.Writer = w.ResponseWriter
		abandon()
	}()
	c.Writer = w
	c.Request = c.Request.WithContext(tracked)
	c.Next()
	c.Writer = w.ResponseWriter
	if w.status >= 500 {
		abandon()
	} else if err := finish(ctx, w.status, w.body.Bytes()); err != nil {
		c.Writer.Header().Del("Content-Type")
		s.Error(c, err)
		return
	}
	if w.status == http.StatusNoContent || w.body.Len() == 0 {
		c.Writer.WriteHeader(w.status)
		c.Writer.WriteHeaderNow()
		return
	}
	c.Writer.WriteHeader(w.status)
	_, _ = c.Writer.Write(w.body.Bytes())
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// heldWriter keeps the answer back until the write it reports is committed.
type heldWriter struct {
	gin.ResponseWriter
	status  int
	written bool
	body    bytes.Buffer
}

func (w *heldWriter) WriteHeader(code int) {
	if !w.written {
		w.status = code
	}
}

func (w *heldWriter) WriteHeaderNow() { w.written = true }

func (w *heldWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.body.Write(b)
}

func (w *heldWriter) WriteString(s string) (int, error) {
	w.written = true
	return w.body.WriteString(s)
}

func (w *heldWriter) Status() int   { return w.status }
func (w *heldWriter) Size() int     { return w.body.Len() }
func (w *heldWriter) Written() bool { return w.written }
