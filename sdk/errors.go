package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
)

// Error codes shared by the core and every plugin (DESIGN.md §7), so that clients handle
// both alike.
const (
	CodeInvalid         = "invalid"
	CodeUnauthenticated = "unauthenticated"
	CodeForbidden       = "forbidden"
	CodeNotFound        = "not_found"
	CodeConflict        = "conflict"
	CodeUnavailable     = "unavailable"
	CodeInternal        = "internal"
)

// Error is an error a person can act on: a code, a plain-words message and, for bad
// input, the fields at fault (Fields["rule"] names a broken rule, so a client can react
// without parsing prose). Anything that is not an *Error is internal and its text is
// never shown to the caller.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	// Malformed marks input that could not be read at all (400), as opposed to input
	// that was read and broke a rule (422).
	Malformed bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Status is the HTTP status of the error's code; one table, as in the core.
func (e *Error) Status() int {
	switch e.Code {
	case CodeInvalid:
		if e.Malformed {
			return http.StatusBadRequest
		}
		return http.StatusUnprocessableEntity
	case CodeUnauthenticated:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeConflict:
		return http.StatusConflict
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidField reports a problem with one input field.
func InvalidField(field, problem string) *Error {
	return &Error{Code: CodeInvalid, Message: field + ": " + problem, Fields: map[string]string{field: problem}}
}

// RuleError reports a refusal by a named rule; the rule goes in Fields["rule"].
func RuleError(code, rule, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Fields: map[string]string{"rule": rule}}
}

// Malformed reports a request that could not be read at all.
func Malformed(format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Message: fmt.Sprintf(format, args...), Malformed: true}
}

// WriteJSON writes v as a JSON response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers err in the error format. An *Error is shown as it is; a database
// that cannot be reached (IsUnavailable) answers 503 with Retry-After; anything else
// is logged with the request id and answered "internal error" with that id, without
// details.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var e *Error
	if !errors.As(err, &e) && IsUnavailable(err) {
		if logger != nil {
			logger.WarnContext(r.Context(), "backend unavailable", "request_id", RequestIDFrom(r.Context()), "method", r.Method, "path", r.URL.Path, "error", err)
		}
		e = &Error{Code: CodeUnavailable, Message: "The service cannot reach its database right now; try again shortly."}
	}
	if e == nil {
		id := RequestIDFrom(r.Context())
		if logger != nil {
			logger.ErrorContext(r.Context(), "request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "error", err)
		}
		e = &Error{Code: CodeInternal, Message: "internal error (request " + id + ")"}
	}
	if e.Code == CodeUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterOutage))
	}
	body := map[string]any{"code": e.Code, "message": e.Message}
	if len(e.Fields) > 0 {
		body["fields"] = e.Fields
	}
	WriteJSON(w, e.Status(), map[string]any{"error": body})
}
