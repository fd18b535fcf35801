package core

import (
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckText records a problem with a free-text field: invalid UTF-8, control characters
// (newlines allowed only when multiline), or a length outside [min, max] characters.
func (f Fields) CheckText(field, value string, min, max int, multiline bool) {
	if !utf8.ValidString(value) {
		f.Add(field, RuleUTF8, "must be valid UTF-8 text")
		return
	}
	n := utf8.RuneCountInString(strings.TrimSpace(value))
	switch {
	case n < min && min == 1:
		f.Add(field, RuleRequired, "is required")
		return
	case n < min:
		f.Add(field, RuleMinLength, "must be at least "+strconv.Itoa(min)+" characters long")
		return
	case utf8.RuneCountInString(value) > max:
		f.Add(field, RuleMaxLength, "must be at most "+strconv.Itoa(max)+" characters long")
		return
	}
	for _, r := range value {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			f.Add(field, RuleNoControl, "must not contain control characters")
			return
		}
	}
}

// CheckEmail records a problem with an email address.
func (f Fields) CheckEmail(field, value string) {
	if value == "" {
		f.Add(field, RuleRequired, "is required")
		return
	}
	if len(value) > 254 || !utf8.ValidString(value) {
		f.Add(field, RuleMaxLength, "must be an email address of at most 254 characters")
		return
	}
	addr, err := mail.ParseAddress(value)
	if err != nil || addr.Address != value || !strings.Contains(value[strings.LastIndexByte(value, '@')+1:], ".") {
		f.Add(field, RuleFormat, "must be an email address such as name@example.org")
	}
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// CheckSlug records a problem with a URL slug: lower-case letters, digits and hyphens.
func (f Fields) CheckSlug(field, value string) {
	if value == "" {
		f.Add(field, RuleRequired, "is required")
		return
	}
	if len(value) > 64 || !slugRE.MatchString(value) {
		f.Add(field, RuleFormat, "must be 1 to 64 lower-case letters, digits and single hyphens, such as \"old-town\"")
	}
}

// NormalizeEmail returns the key under which emails are unique: trimmed, lower case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Slugify derives a slug from a name, keeping ASCII letters and digits.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		r = foldASCII(r)
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if len(s) > 64 {
		s = strings.TrimSuffix(s[:64], "-")
	}
	return s
}

// foldASCII maps the letters of the cities' languages that have an obvious ASCII form.
func foldASCII(r rune) rune {
	switch r {
	case 'ä', 'å', 'á', 'à', 'â':
		return 'a'
	case 'ö', 'ø', 'ó', 'ò', 'ô':
		return 'o'
	case 'ü', 'ú', 'ù', 'û':
		return 'u'
	case 'ç':
		return 'c'
	case 'ğ':
		return 'g'
	case 'ı', 'í', 'ì', 'î':
		return 'i'
	case 'ş':
		return 's'
	case 'é', 'è', 'ê', 'æ':
		return 'e'
	}
	return r
}

// LocalPath reports whether s is a path of this site, safe to redirect to or link: it
// starts with one slash and names no other host. A browser drops tabs, newlines and
// other control characters from a URL and reads a backslash as a slash, so
// "/\tevil.example" or "/\\evil.example" would take it to another site: any of them
// anywhere refuses the path, and what is left must parse without a scheme or host.
func LocalPath(s string) bool {
	if plainPath(s) {
		// Nothing url.Parse or the checks below could object to, but where it starts.
		return strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//")
	}
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.Contains(s, `\`) ||
		strings.ContainsFunc(s, func(r rune) bool { return r <= 0x20 || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == ""
}

// plainPath reports whether s holds only letters, digits and / - . _ ~, the bytes of
// the paths Kvarter makes (every page's crumbs pass LocalPath): nothing that could
// begin a scheme, an escape, a query or a fragment.
func plainPath(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}
