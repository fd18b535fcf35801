package httpapi

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
)

// statusOf is the one table from error codes to HTTP statuses (DESIGN.md §7).
var statusOf = map[string]int{
	core.EINVALID:         fiber.StatusBadRequest,
	core.EUNAUTHENTICATED: fiber.StatusUnauthorized,
	core.EFORBIDDEN:       fiber.StatusForbidden,
	core.ENOTFOUND:        fiber.StatusNotFound,
	core.ECONFLICT:        fiber.StatusConflict,
	core.ERATELIMITED:     fiber.StatusTooManyRequests,
	core.EUNAVAILABLE:     fiber.StatusServiceUnavailable,
	core.EINTERNAL:        fiber.StatusInternalServerError,
}

// codeTooLarge is DESIGN.md §7's code for 413; only Fiber's body limit raises it.
const codeTooLarge = "too_large"

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong in plain words.
type ErrorDetail struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// renderError writes err in the error format. Internal errors are logged with the
// request id and shown only as "internal error".
func (s *Server) renderError(c *fiber.Ctx, err error) error {
	code := core.ErrorCode(err)
	if code == core.EINTERNAL && sdk.IsUnavailable(err) {
		// The database is down or refusing connections: a passing state, not a bug.
		s.logger.WarnContext(c.UserContext(), "database unavailable", "err", err, "method", c.Method(), "path", c.Path())
		err = &core.Error{Code: core.EUNAVAILABLE, Message: "The service cannot reach its database right now; try again shortly.",
			RetryAfterSeconds: sdk.RetryAfterOutage}
		code = core.EUNAVAILABLE
	}
	status := statusOf[code]
	body := ErrorDetail{Code: code, Message: core.ErrorMessage(err), RequestID: requestID(c)}
	var e *core.Error
	if errors.As(err, &e) {
		body.Fields = e.Fields
		if code == core.EINVALID && e.Fields["rule"] != "" {
			// Well-formed input that breaks a named rule (DESIGN.md §7); the core's
			// older field checks without a rule still answer 400.
			status = fiber.StatusUnprocessableEntity
		}
		if e.RetryAfterSeconds > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(e.RetryAfterSeconds))
		}
	}
	if code == core.EINTERNAL {
		s.logger.ErrorContext(c.UserContext(), "internal error", "err", err, "method", c.Method(), "path", c.Path())
		body.Message = "internal error"
	}
	return c.Status(status).JSON(ErrorBody{Error: body})
}

// fiberError renders errors raised by Fiber itself (unknown route, body too large) and
// by handlers, all in one format.
func (s *Server) fiberError(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case fiber.StatusNotFound:
			err = core.Errorf(core.ENOTFOUND, "There is no route %s %s.", c.Method(), c.Path())
		case fiber.StatusRequestEntityTooLarge:
			c.Status(fiber.StatusRequestEntityTooLarge)
			return c.JSON(ErrorBody{Error: ErrorDetail{Code: codeTooLarge, Message: "The request body is larger than this route accepts.", RequestID: requestID(c)}})
		case fiber.StatusMethodNotAllowed:
			return c.Status(fe.Code).JSON(ErrorBody{Error: ErrorDetail{Code: core.EINVALID, Message: "This route does not accept " + c.Method() + ".", RequestID: requestID(c)}})
		default:
			if fe.Code >= 400 && fe.Code < 500 {
				err = core.Errorf(core.EINVALID, "%s", fe.Message)
			}
		}
	}
	return s.renderError(c, err)
}
