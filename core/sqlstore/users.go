package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kvarter/kvarter/core"
)

// People as city administrators find them: by part of an email address or a name,
// so that a role is granted to a person picked from a list, never to a typed id.

// SearchUsers finds people whose email address or display name holds q, in any case,
// ordered by name. The email is matched against its stored key (lower case) and the
// name through lower(), which is Unicode-aware on both databases (see db.go), so
// "şule" finds "Şule" and "ÄNGEL" finds "Ängel".
func (s *IdentityService) SearchUsers(ctx context.Context, q string, page core.Page) ([]core.User, string, error) {
	if err := s.canReadUsers(ctx); err != nil {
		return nil, "", err
	}
	q = strings.TrimSpace(q)
	f := core.Fields{}
	f.CheckText("q", q, 0, core.MaxUserQuery, false) // a NUL byte is a 422, never the database's error
	if err := f.Err(); err != nil {
		return nil, "", err
	}
	page = page.Normalize()
	key, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	query := `SELECT ` + userColumns + ` FROM users WHERE deleted_at IS NULL`
	var args []any
	if q != "" {
		pattern := "%" + escapeLike(strings.ToLower(q)) + "%"
		query += ` AND (email_key LIKE ? ESCAPE '\' OR lower(display_name) LIKE ? ESCAPE '\')`
		args = append(args, pattern, pattern)
	}
	if key != "" {
		// The key is the id, then the name: an id never holds keySep, a name may.
		id, name, ok := strings.Cut(key, keySep)
		if !ok {
			return nil, "", badCursor()
		}
		query += ` AND (display_name, id) > (?, ?)`
		args = append(args, name, id)
	}
	var rows []userRow
	if err := selectAll(ctx, s.DB.db, &rows, query+` ORDER BY display_name, id LIMIT ?`, append(args, page.Limit+1)...); err != nil {
		return nil, "", fmt.Errorf("search users: %w", err)
	}
	rows, next := pageRows(rows, page, func(r userRow) string { return r.ID + keySep + r.DisplayName })
	out := make([]core.User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, next, nil
}

// FindUser is one person who has not deleted their account.
func (s *IdentityService) FindUser(ctx context.Context, id string) (*core.User, error) {
	if err := s.canReadUsers(ctx); err != nil {
		return nil, err
	}
	if !plainID(id) {
		return nil, core.Errorf(core.ENOTFOUND, "The person was not found.")
	}
	var row userRow
	if err := get(ctx, s.DB.db, &row, `SELECT `+userColumns+` FROM users WHERE id = ? AND deleted_at IS NULL`, id); err != nil {
		return nil, notFound(err, "The person")
	}
	u := row.user()
	return &u, nil
}

// canReadUsers lets holders of core.users.read in the city find and read people.
func (s *IdentityService) canReadUsers(ctx context.Context) error {
	p, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if !s.Authz.Can(p, core.PermUsersRead, core.DomainCity) {
		return core.Errorf(core.EFORBIDDEN, "Only city administrators may look people up.")
	}
	return nil
}

// escapeLike makes LIKE's wildcards (and its escape character) in s literal, for a
// pattern written with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// plainID reports whether id could be an id the core made: short, printable text.
// Anything else (a NUL byte, which PostgreSQL refuses in text, or a megabyte) names
// nobody without asking the database.
func plainID(id string) bool {
	if id == "" || len(id) > 64 || !utf8.ValidString(id) {
		return false
	}
	return !strings.ContainsFunc(id, unicode.IsControl)
}
