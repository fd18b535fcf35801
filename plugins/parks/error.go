package parks

import (
	"errors"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
)

// notFound reports a missing resource by kind and id.
func notFound(what, id string) *sdk.Error {
	return sdk.Errorf(sdk.CodeNotFound, "%s %s not found", what, id)
}

// fromViolation turns a schedule rule violation into an invalid-input
// error naming the rule; other errors pass through.
func fromViolation(err error) error {
	var v schedule.Violation
	if errors.As(err, &v) {
		return sdk.RuleError(sdk.CodeInvalid, v.Rule, "%s", v.Message)
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
