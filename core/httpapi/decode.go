package httpapi

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
)

// decode reads a JSON body strictly into v with the SDK's decoder (sdk.DecodeBody), so
// the core refuses bad input exactly as every plugin does: a body that cannot be read
// is malformed (400), one that breaks an input limit is invalid (422) naming the rule.
// An empty body decodes as {} when allowEmpty.
func decode(c *fiber.Ctx, v any, allowEmpty bool) error {
	body := c.Body()
	if ct := c.Get(fiber.HeaderContentType); ct != "" && len(body) > 0 && !strings.HasPrefix(strings.ToLower(ct), fiber.MIMEApplicationJSON) {
		return core.Malformed("The body must be JSON (Content-Type: application/json).")
	}
	return sdk.DecodeBody(body, v, allowEmpty)
}
