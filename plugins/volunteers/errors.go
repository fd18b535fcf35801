package volunteers

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes, the same as the core's (DESIGN.md §7), so clients handle plugin and core
// errors alike.
const (
	EInvalid         = "invalid"
	EUnauthenticated = "unauthenticated"
	EForbidden       = "forbidden"
	ENotFound        = "not_found"
	EConflict        = "conflict"
	EInternal        = "internal"
)

// Error is an error a person can act on: a code, a plain-words message that names the
// rule, and for bad input the fields at fault. Anything that is not an *Error is internal
// and its text is never shown to the caller.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fields collects per-field problems while validating input.
type fields map[string]string

func (f fields) add(field, problem string) {
	if _, ok := f[field]; !ok {
		f[field] = problem
	}
}

func (f fields) err(message string) error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: EInvalid, Message: message, Fields: f}
}

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[string]int{
	EInvalid:         http.StatusBadRequest,
	EUnauthenticated: http.StatusUnauthorized,
	EForbidden:       http.StatusForbidden,
	ENotFound:        http.StatusNotFound,
	EConflict:        http.StatusConflict,
	EInternal:        http.StatusInternalServerError,
}

// errorCode returns the code of err, EInternal when err is not an *Error.
func errorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}
