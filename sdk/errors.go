package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
)

// Error codes shared by the core and every plugin (DESIGN.md §7), so that clients handle
// both alike. Each code has exactly one HTTP status (StatusOf).
const (
	// CodeMalformed: the request cannot be read at all (not JSON, a value of the wrong
	// JSON type, a field the route does not take, an empty body where one is needed).
	CodeMalformed = "malformed"
	// CodeInvalid: the request was read but breaks a rule; Fields names each field at
	// fault and Fields["rule"] the rule.
	CodeInvalid         = "invalid"
	CodeUnauthenticated = "unauthenticated"
	CodeForbidden       = "forbidden"
	CodeNotFound        = "not_found"
	// CodeMethodNotAllowed: the path exists but not with this method; the answer's Allow
	// header lists the methods it takes.
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	// CodeTooLarge: the request body is larger than the route accepts.
	CodeTooLarge = "too_large"
	// CodeURITooLong and CodeHeaderTooLarge: the URL, or the request's header as a
	// whole, is longer than any route needs; the host answers them before routing.
	CodeURITooLong     = "uri_too_long"
	CodeHeaderTooLarge = "header_too_large"
	CodeRateLimited    = "rate_limited"
	// CodeUnavailable: try again later; the answer carries Retry-After.
	CodeUnavailable = "unavailable"
	CodeInternal    = "internal"
)

// statusOf is the one table from error codes to HTTP statuses, for the core and the SDK.
var statusOf = map[string]int{
	CodeMalformed:        http.StatusBadRequest,
	CodeInvalid:          http.StatusUnprocessableEntity,
	CodeUnauthenticated:  http.StatusUnauthorized,
	CodeForbidden:        http.StatusForbidden,
	CodeNotFound:         http.StatusNotFound,
	CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	CodeConflict:         http.StatusConflict,
	CodeTooLarge:         http.StatusRequestEntityTooLarge,
	CodeURITooLong:       http.StatusRequestURITooLong,
	CodeHeaderTooLarge:   http.StatusRequestHeaderFieldsTooLarge,
	CodeRateLimited:      http.StatusTooManyRequests,
	CodeUnavailable:      http.StatusServiceUnavailable,
	CodeInternal:         http.StatusInternalServerError,
}

// StatusOf is the HTTP status of an error code; an unknown code is an internal error.
func StatusOf(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// CodeOf is the error code of an HTTP error status, CodeInternal for one no code has.
func CodeOf(status int) string {
	for code, s := range statusOf {
		if s == status {
			return code
		}
	}
	return CodeInternal
}

// Codes lists every error code, sorted, for the OpenAPI document.
func Codes() []string {
	out := make([]string, 0, len(statusOf))
	for code := range statusOf {
		out = append(out, code)
	}
	sort.Strings(out)
	return out
}

// Rules named in Fields["rule"] by the common checks of the core and the SDK (the SDK's
// input limits add RuleNUL, RuleUTF8, RuleMaxLength, RuleRange and RuleTimeRange).
// Plugins name their own domain rules beside these.
const (
	RuleRequired  = "required"   // the field must be given
	RuleMinLength = "min_length" // text is shorter than its documented minimum
	RuleFormat    = "format"     // the value is not of the documented form (an email, a slug, a time)
	RuleOneOf     = "one_of"     // the value is not one of the documented choices
	RuleExists    = "exists"     // the value names something that does not exist
	// RuleInvalidValue is the rule of an InvalidField error that names no rule of its
	// own: the message says what is wrong.
	RuleInvalidValue = "invalid_value"
)

// Error is an error a person can act on: a code, a plain-words message and, for bad
// input, the fields at fault (Fields["rule"] names a broken rule, so a client can react
// without parsing prose). Anything that is not an *Error is internal and its text is
// never shown to the caller.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	// RetryAfterSeconds, with CodeRateLimited or CodeUnavailable, says when to try
	// again (the Retry-After header); 0 means the default for the code.
	RetryAfterSeconds int
	// Malformed marks an error as CodeMalformed whatever its Code says.
	//
	// Deprecated: use the code CodeMalformed (Malformed builds one). Kept so plugins
	// written before the code existed still answer 400.
	Malformed bool
}

func (e *Error) Error() string { return e.code() + ": " + e.Message }

// code is the error's code, the deprecated Malformed flag applied.
func (e *Error) code() string {
	if e.Malformed {
		return CodeMalformed
	}
	return e.Code
}

// Status is the HTTP status of the error's code (StatusOf).
func (e *Error) Status() int { return StatusOf(e.code()) }

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports that one input field breaks rule, in plain words: problem completes
// the field's name ("title", "must be at most 200 characters long").
func Invalid(field, rule, problem string) *Error {
	return &Error{Code: CodeInvalid, Message: field + ": " + problem, Fields: map[string]string{field: problem, "rule": rule}}
}

// InvalidField reports a problem with one input field under the generic rule
// RuleInvalidValue; Invalid names the rule.
func InvalidField(field, problem string) *Error {
	return Invalid(field, RuleInvalidValue, problem)
}

// RuleError reports a refusal by a named rule; the rule goes in Fields["rule"].
func RuleError(code, rule, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Fields: map[string]string{"rule": rule}}
}

// Malformed reports a request that could not be read at all (CodeMalformed, 400).
func Malformed(format string, args ...any) *Error {
	return &Error{Code: CodeMalformed, Message: fmt.Sprintf(format, args...)}
}

// MalformedField is Malformed naming the field that could not be read.
func MalformedField(field, problem string) *Error {
	return &Error{Code: CodeMalformed, Message: field + ": " + problem, Fields: map[string]string{field: problem}}
}

// ErrorBody is the JSON shape of every error answer, the core's and every plugin's.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong in plain words. RequestID is the core's id of the
// request, which the logs carry too: the one thing a person reporting a problem needs.
type ErrorDetail struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id"`
}

// Detail is the error's answer body for the request requestID.
func (e *Error) Detail(requestID string) ErrorBody {
	return ErrorBody{Error: ErrorDetail{Code: e.code(), Message: e.Message, Fields: e.Fields, RequestID: requestID}}
}

// RetryAfter is the Retry-After, in seconds, of an answer with this error; 0 for none.
func (e *Error) RetryAfter() int {
	switch {
	case e.RetryAfterSeconds > 0:
		return e.RetryAfterSeconds
	case e.code() == CodeUnavailable:
		return RetryAfterOutage
	}
	return 0
}

// Public turns any error into the *Error a caller may see: an *Error as it is; a
// backend that cannot be reached (IsUnavailable) as CodeUnavailable; anything else as
// CodeInternal without details. internal reports whether err was of the last kind, to
// be logged with the request id.
func Public(err error) (e *Error, internal bool) {
	if errors.As(err, &e) {
		return e, false
	}
	if IsBadValue(err) {
		return &Error{Code: CodeMalformed, Message: "A value in the request cannot be read as the kind of value it stands for."}, false
	}
	if IsUnavailable(err) {
		return &Error{Code: CodeUnavailable, Message: "The service cannot reach its database right now; try again shortly."}, false
	}
	return &Error{Code: CodeInternal, Message: "Something went wrong on our side. The request id identifies it in our logs."}, true
}

// WriteJSON writes v as a JSON response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers err in the error format with the request id of r's context, its
// message in the requester's language (LanguageFrom; InLanguage). An *Error is shown
// as it is; a database that cannot be reached (IsUnavailable) answers
// 503 with Retry-After; anything else is logged with the request id and answered
// "internal" with that id, without details.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	id := RequestIDFrom(r.Context())
	e, internal := Public(err)
	if logger != nil {
		switch {
		case internal:
			logger.ErrorContext(r.Context(), "request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "error", err)
		case IsBadValue(err):
			// The database's message may quote the value: log its code only.
			logger.WarnContext(r.Context(), "the database refused a value from the request", "request_id", id, "method", r.Method, "path", r.URL.Path, "sqlstate", sqlState(err))
		case e.code() == CodeUnavailable && !errors.As(err, new(*Error)):
			logger.WarnContext(r.Context(), "backend unavailable", "request_id", id, "method", r.Method, "path", r.URL.Path, "error", err)
		}
	}
	if s := e.RetryAfter(); s > 0 && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(s))
	}
	WriteJSON(w, e.Status(), e.InLanguage(LanguageFrom(r.Context())).Detail(id))
}
