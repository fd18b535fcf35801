package parks

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
)

// Error codes, as in the core (DESIGN.md §7).
const (
	EInvalid         = "invalid"
	EUnauthenticated = "unauthenticated"
	EForbidden       = "forbidden"
	ENotFound        = "not_found"
	EConflict        = "conflict"
	EInternal        = "internal"
)

// Error is an error a person can act on. Fields names the input at fault;
// Fields["rule"] names the booking rule that refused a request, so a
// client can translate or highlight it. Anything that is not an *Error is
// internal and its text is never shown.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	// Malformed marks input that could not be parsed at all (400) rather
	// than input that breaks a rule (422).
	Malformed bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// status maps an error to its HTTP status; one table, as in the core.
func (e *Error) status() int {
	switch e.Code {
	case EInvalid:
		if e.Malformed {
			return http.StatusBadRequest
		}
		return http.StatusUnprocessableEntity
	case EUnauthenticated:
		return http.StatusUnauthorized
	case EForbidden:
		return http.StatusForbidden
	case ENotFound:
		return http.StatusNotFound
	case EConflict:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ruleErr is a refusal by a named rule.
func ruleErr(code, rule, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Fields: map[string]string{"rule": rule}}
}

func invalidField(field, problem string) *Error {
	return &Error{Code: EInvalid, Message: field + ": " + problem, Fields: map[string]string{field: problem}}
}

func malformed(format string, args ...any) *Error {
	return &Error{Code: EInvalid, Message: fmt.Sprintf(format, args...), Malformed: true}
}

func notFound(what, id string) *Error {
	return errorf(ENotFound, "%s %s not found", what, id)
}

// fromViolation turns a schedule rule violation into an invalid-input
// error naming the rule; other errors pass through.
func fromViolation(err error) error {
	var v schedule.Violation
	if errors.As(err, &v) {
		return &Error{Code: EInvalid, Message: v.Message, Fields: map[string]string{"rule": v.Rule}}
	}
	return err
}

// Rule names used by the plugin beyond those of package schedule.
const (
	RuleCapacity        = "capacity"
	RuleSupportItems    = "support_items"
	RuleOverlap         = "no_overlap"
	RuleStatus          = "status"
	RuleReasonRequired  = "reason_required"
	RuleRepresentative  = "organisation_representative"
	RuleOrgVerified     = "organisation_verified"
	RuleIndividual      = "individual_bookings"
	RuleParkManager     = "park_manager"
	RuleEnded           = "already_ended"
	RuleSeriesUnit      = "series_unit"
	RuleAreaParent      = "area_parent"
	RuleTimeZone        = "time_zone"
	RuleAreaConfig      = "area_configuration"
	RuleRangeTooLong    = "range_too_long"
	RuleNeighbourhood   = "neighbourhood"
	RuleCategory        = "category"
	RuleTitle           = "title"
	RuleAttendance      = "expected_attendance"
	RuleContact         = "contact"
	RuleSeriesWeeks     = "repeat_weeks"
	RuleClosureOverlap  = "closure_overlap"
	RuleUnknownItem     = "unknown_support_item"
	RuleItemsOverBooked = "support_items_available"
)
