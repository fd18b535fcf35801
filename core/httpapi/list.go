package httpapi

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
)

// Every list answers {"items": [...], "next_cursor": "..."} and takes limit (default
// core.DefaultPageLimit, at most core.MaxPageLimit) and an opaque cursor (DESIGN.md §7),
// in the SDK's shape (sdk.Page): next_cursor is "" on the last page. The cursors are the
// core's own keyset keys (sqlstore): its times are TIMESTAMP columns, which the SDK's
// cursors (integer times) do not order.

// page reads limit and cursor from the query string.
func page(c *fiber.Ctx) (core.Page, error) {
	p := core.Page{Cursor: c.Query("cursor")}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > core.MaxPageLimit {
			return p, core.InvalidField("limit", core.RuleRange, fmt.Sprintf("must be a whole number from 1 to %d", core.MaxPageLimit))
		}
		p.Limit = n
	}
	return p.Normalize(), nil
}

// list renders one page of a list with the cursor of the next ("" on the last).
func list[T any](c *fiber.Ctx, items []T, next string) error {
	if items == nil {
		items = []T{}
	}
	return c.JSON(sdk.Page[T]{Items: items, NextCursor: next})
}
