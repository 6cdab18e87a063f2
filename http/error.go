package http

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

// codes maps each register error code to its HTTP status: the one place
// where error statuses are chosen.
var codes = map[string]int{
	register.EINVALID:       http.StatusBadRequest,
	register.EUNAUTHORIZED:  http.StatusUnauthorized,
	register.EFORBIDDEN:     http.StatusForbidden,
	register.ENOTFOUND:      http.StatusNotFound,
	register.ECONFLICT:      http.StatusConflict,
	register.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	register.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	register.ERATELIMIT:     http.StatusTooManyRequests,
	register.EINTERNAL:      http.StatusInternalServerError,
	register.EUNAVAILABLE:   http.StatusServiceUnavailable,
}

// UnavailableRetryAfter is the Retry-After, in seconds, of a 503: the
// store's write lock was held by another writer (a bulk import, say) for
// the whole busy timeout.
const UnavailableRetryAfter = "5"

// ErrorStatus returns the HTTP status for an error code.
func ErrorStatus(code string) int {
	if s, ok := codes[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// Error writes err as the JSON error body and aborts the request. Internal
// errors are logged and shown to the client as a plain message. A request
// whose client went away is no fault of the register: it is logged at debug
// level and answered 400 without a body, which nobody is left to read.
func (s *Server) Error(c *gin.Context, err error) {
	if c.Request.Context().Err() != nil && errors.Is(err, context.Canceled) {
		s.Logger.Debug("request cancelled by the client", slog.String("request_id", requestID(c)), slog.String("path", c.FullPath()))
		c.AbortWithStatus(http.StatusBadRequest)
		return
	}
	code := s.noteError(c, err)
	c.AbortWithStatusJSON(ErrorStatus(code), errorBody{Error: errorDetail{
		Code:    code,
		Message: register.ErrorMessage(err),
		Fields:  register.ErrorFields(err),
	}})
}

// noteError returns err's code, having logged an internal error (with its
// details, which the client never sees) or an unavailable one, for which
// it also sets Retry-After. The API and the web pages alike call it.
func (s *Server) noteError(c *gin.Context, err error) string {
	code := register.ErrorCode(err)
	switch code {
	case register.EINTERNAL:
		s.Logger.Error("internal error", slog.String("request_id", requestID(c)), slog.String("path", c.FullPath()), slog.Any("error", err))
	case register.EUNAVAILABLE:
		s.Logger.Warn("unavailable", slog.String("request_id", requestID(c)), slog.String("path", c.FullPath()), slog.String("error", register.ErrorMessage(err)))
		c.Header("Retry-After", UnavailableRetryAfter)
	}
	return code
}
