package httpapi

import (
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
)

// maxQueryValue is the most characters of one query parameter; ids, cursors and times
// are far shorter, so a longer value is never meant.
const maxQueryValue = 2000

// checkURL refuses a path or query parameter that no database should see: a NUL
// character or invalid UTF-8 (PostgreSQL answers such a value with an error where
// SQLite compares it), or a query value beyond maxQueryValue. It runs for every API
// route, core and plugin alike, so each handler may pass path and query values to
// storage as they are; JSON bodies get the same rules in decode and the SDK's DecodeJSON.
func (s *Server) checkURL(c *fiber.Ctx) error {
	if err := urlText("path", string(c.Request().URI().Path()), 0); err != nil {
		return err
	}
	var bad error
	c.Request().URI().QueryArgs().VisitAll(func(key, value []byte) {
		if bad == nil {
			bad = urlText("query", string(key), sdk.MaxKey)
		}
		if bad == nil {
			bad = urlText(string(key), string(value), maxQueryValue)
		}
	})
	if bad != nil {
		return bad
	}
	return c.Next()
}

func urlText(field, value string, maxLen int) error {
	rule, problem := "", ""
	switch {
	case !utf8.ValidString(value):
		rule, problem = sdk.RuleUTF8, "must be valid UTF-8 text"
	case strings.IndexByte(value, 0) >= 0:
		rule, problem = sdk.RuleNUL, "must not contain the NUL character"
	case maxLen > 0 && utf8.RuneCountInString(value) > maxLen:
		rule, problem = sdk.RuleMaxLength, "must be at most "+itoa(maxLen)+" characters long"
	default:
		return nil
	}
	return core.Invalid(field+": "+problem, map[string]string{field: problem, "rule": rule})
}
