package volunteers

import (
	"errors"

	"github.com/kvarter/kvarter/sdk"
)

// Errors are sdk.Errors. This plugin's API has always answered invalid input 400 (its
// OpenAPI document and clients rely on it), so its invalid errors are marked Malformed.

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
	return &sdk.Error{Code: sdk.CodeInvalid, Message: message, Fields: f, Malformed: true}
}

// invalid reports a problem with one input field, answered 400.
func invalid(field, problem, message string) *sdk.Error {
	return &sdk.Error{Code: sdk.CodeInvalid, Message: message, Fields: map[string]string{field: problem}, Malformed: true}
}

// errorCode returns the code of err, sdk.CodeInternal when err is not an *sdk.Error.
func errorCode(err error) string {
	var e *sdk.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return sdk.CodeInternal
}
