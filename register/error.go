package register

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in package http; the string is
// what API clients see in the error body.
const (
	EINVALID       = "validation_failed" // 400
	EUNAUTHORIZED  = "unauthorized"      // 401
	EFORBIDDEN     = "forbidden"         // 403
	ENOTFOUND      = "not_found"         // 404
	ECONFLICT      = "conflict"          // 409
	ETOOLARGE      = "payload_too_large" // 413
	EUNPROCESSABLE = "unprocessable"     // 422
	ERATELIMIT     = "rate_limited"      // 429
	EINTERNAL      = "internal"          // 500
	EUNAVAILABLE   = "unavailable"       // 503: try again shortly
)

// Error is a register error a client may see. Anything that is not an *Error
// is reported as EINTERNAL with a plain message, and logged.
type Error struct {
	Code    string
	Message string
	// Fields names each failing request field (by its JSON name) with a
	// plain-words reason.
	Fields map[string]string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("register error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an Error with the given code and formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error naming one field.
func FieldError(field, reason string) *Error {
	return &Error{Code: EINVALID, Message: field + " " + reason, Fields: map[string]string{field: reason}}
}

// ErrorCode returns the code of a register error, or EINTERNAL for any other.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of a register error, or a plain message
// for any other error, whose details must not reach a client.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorFields returns the per-field details of a register error, if any.
func ErrorFields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Validation collects per-field problems and returns them as one EINVALID.
type Validation map[string]string

// Add records a problem with field unless one is already recorded.
func (v Validation) Add(field, reason string) {
	if _, ok := v[field]; !ok {
		v[field] = reason
	}
}

// Err returns nil when nothing was recorded, otherwise an EINVALID error.
func (v Validation) Err() error {
	if len(v) == 0 {
		return nil
	}
	msg := "request has invalid fields"
	if len(v) == 1 {
		for f, r := range v {
			msg = f + " " + r
		}
	}
	return &Error{Code: EINVALID, Message: msg, Fields: map[string]string(v)}
}
