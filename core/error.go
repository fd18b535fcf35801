package core

import (
	"errors"
	"fmt"
)

// Error codes: the codes of the SDK's error table (sdk.StatusOf), which the HTTP adapter
// maps to statuses, so that core and plugins answer alike (DESIGN.md §7).
const (
	// EMALFORMED: the request cannot be read (not JSON, a value of the wrong type).
	EMALFORMED = "malformed"
	// EINVALID: the request was read but breaks a rule; Fields names each field and
	// Fields["rule"] the rule.
	EINVALID         = "invalid"
	EUNAUTHENTICATED = "unauthenticated"
	EFORBIDDEN       = "forbidden"
	ENOTFOUND        = "not_found"
	ECONFLICT        = "conflict"
	ETOOLARGE        = "too_large"
	ERATELIMITED     = "rate_limited"
	EUNAVAILABLE     = "unavailable"
	EINTERNAL        = "internal"
)

// Rules named in Fields["rule"] by the core's checks; the common ones are spelled as
// the SDK's, so a client reads core and plugin errors alike.
const (
	RuleRequired  = "required"   // the field must be given
	RuleMinLength = "min_length" // text is shorter than its minimum
	RuleMaxLength = "max_length" // text is longer than its maximum
	RuleUTF8      = "utf8"       // text must be valid UTF-8
	RuleFormat    = "format"     // not of the documented form (an email, a slug, a boundary, a cursor)
	RuleOneOf     = "one_of"     // not one of the documented choices
	RuleExists    = "exists"     // names something that does not exist
	RuleRange     = "range"      // a number is outside its range
	// Rules of the core's own domain.
	RuleNoControl      = "no_control_characters" // text holds a control character
	RulePassword       = "password_strength"     // a password too short or too common
	RuleNoCycle        = "no_cycle"              // a neighbourhood would become its own ancestor
	RuleNotArchived    = "not_archived"          // names an archived neighbourhood
	RuleReasonRequired = "reason_required"       // a refusal must say why
	RuleMaxItems       = "max_items"             // a list holds more items than allowed
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

// Invalid returns an EINVALID error naming the fields at fault and, in fields["rule"],
// the rule broken.
func Invalid(message string, fields map[string]string) *Error {
	return &Error{Code: EINVALID, Message: message, Fields: fields}
}

// InvalidField returns an EINVALID error about one field that breaks rule; problem
// completes the field's name in plain words ("must be at most 100 characters long").
func InvalidField(field, rule, problem string) *Error {
	return &Error{Code: EINVALID, Message: field + ": " + problem, Fields: map[string]string{field: problem, "rule": rule}}
}

// MalformedField returns an EMALFORMED error about one field that cannot be read.
func MalformedField(field, problem string) *Error {
	return &Error{Code: EMALFORMED, Message: field + ": " + problem, Fields: map[string]string{field: problem}}
}

// Malformed returns an EMALFORMED error: the request cannot be read at all.
func Malformed(format string, args ...any) *Error {
	return Errorf(EMALFORMED, format, args...)
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

// Fields collects per-field problems while validating input, and under "rule" the rule
// of the first problem found (the wire format's fields.rule).
type Fields map[string]string

// Add records that field breaks rule; the first problem per field, and the first rule,
// win.
func (f Fields) Add(field, rule, problem string) {
	if _, ok := f[field]; !ok {
		f[field] = problem
	}
	if _, ok := f["rule"]; !ok {
		f["rule"] = rule
	}
}

// Err returns an EINVALID error listing every field, or nil when there is none.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	msg := "Some fields are not valid."
	if len(f) == 2 {
		for k, v := range f {
			if k != "rule" {
				msg = k + ": " + v
			}
		}
	}
	return Invalid(msg, map[string]string(f))
}
