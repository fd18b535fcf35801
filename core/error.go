package core

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP adapter maps each to one status (DESIGN.md §7).
const (
	EINVALID         = "invalid"
	EUNAUTHENTICATED = "unauthenticated"
	EFORBIDDEN       = "forbidden"
	ENOTFOUND        = "not_found"
	ECONFLICT        = "conflict"
	ERATELIMITED     = "rate_limited"
	EUNAVAILABLE     = "unavailable"
	EINTERNAL        = "internal"
)

// Error is an error a person can act on: a code, a plain-words message and, for bad
// input, the fields at fault. Anything that is not an *Error is internal and its text is
// never shown to the caller.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	// RetryAfter, when set with ERATELIMITED or EUNAVAILABLE, says when to try again.
	RetryAfterSeconds int
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming the fields at fault.
func Invalid(message string, fields map[string]string) *Error {
	return &Error{Code: EINVALID, Message: message, Fields: fields}
}

// InvalidField returns an EINVALID error about one field.
func InvalidField(field, problem string) *Error {
	return &Error{Code: EINVALID, Message: field + ": " + problem, Fields: map[string]string{field: problem}}
}

// ErrorCode returns the code of err, or EINTERNAL when err is not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err, or "internal error" when err is not an *Error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Fields collects per-field problems while validating input.
type Fields map[string]string

// Add records a problem with one field; the first problem per field wins.
func (f Fields) Add(field, problem string) {
	if _, ok := f[field]; !ok {
		f[field] = problem
	}
}

// Err returns an EINVALID error listing every field, or nil when there is none.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	msg := "Some fields are not valid."
	if len(f) == 1 {
		for k, v := range f {
			msg = k + ": " + v
		}
	}
	return Invalid(msg, map[string]string(f))
}
