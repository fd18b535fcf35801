// Package ical writes and checks RFC 5545 iCalendar feeds.
//
// Plugins publish their schedules (assembly meetings, park bookings) as
// subscribable calendar feeds. Calendar clients are unforgiving and silent
// about malformed input: a feed with a bare comma in a summary or a line
// folded inside a UTF-8 sequence shows up as garbage or not at all. So the
// package has two halves that are meant to be used together:
//
//   - [Calendar.WriteTo] renders a calendar with every TEXT value escaped,
//     every time in UTC ("Z" form), CRLF line endings and lines folded at 75
//     octets without splitting a UTF-8 sequence;
//   - [Validate] is a strict checker that plugin tests run over the feeds
//     they produce, so a regression is caught in CI rather than by a
//     resident whose phone drops the feed.
//
// The writer emits only what Kvarter needs (VCALENDAR with VEVENTs), but the
// validator accepts any well-formed feed, including other components such as
// VTIMEZONE or VALARM.
package ical

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxLineOctets is the longest a physical content line may be, excluding the
// CRLF (RFC 5545 §3.1). The limit is in octets, not characters, which is why
// multilingual text needs care when folding.
const MaxLineOctets = 75

// Status is the STATUS of a VEVENT (RFC 5545 §3.8.1.11).
type Status string

// The statuses RFC 5545 allows on a VEVENT.
const (
	StatusTentative Status = "TENTATIVE"
	StatusConfirmed Status = "CONFIRMED"
	StatusCancelled Status = "CANCELLED"
)

// Valid reports whether s is a status RFC 5545 allows on a VEVENT.
func (s Status) Valid() bool {
	switch s {
	case StatusTentative, StatusConfirmed, StatusCancelled:
		return true
	}
	return false
}

// Calendar is one feed. The writer always emits VERSION:2.0. It emits
// METHOD:PUBLISH (Kvarter feeds are read-only subscriptions) when every
// event names its ORGANIZER, which RFC 5546 §3.2.1 requires of a PUBLISH;
// a feed whose events do not is written without METHOD, a plain RFC 5545
// calendar. A calendar without events gets a UTC VTIMEZONE, as RFC 5545
// §3.6 wants at least one component.
type Calendar struct {
	// ProdID identifies the product that made the feed, e.g.
	// "-//Kvarter//parks//EN". Required.
	ProdID string
	// Name is shown by clients as the calendar's title (X-WR-CALNAME).
	// Optional.
	Name string
	// CalScale defaults to GREGORIAN, the only scale clients support.
	CalScale string
	// Events are written in the order given.
	Events []Event
}

// Event is one VEVENT. Times are converted to UTC on output, so the
// location of the time.Time values does not matter.
type Event struct {
	// UID is the stable, globally unique identity of the event; clients use
	// it to update rather than duplicate an event. Required.
	UID string
	// Stamp is when this representation of the event was created
	// (DTSTAMP). Required: pass the clock, never time.Now inside a plugin.
	Stamp time.Time
	// Start is required. End is optional; when set it must not be before
	// Start.
	Start, End time.Time
	// Summary, Description and Location are free text; they are escaped
	// on output, and newlines are kept as "\n".
	Summary, Description, Location string
	// URL links back to the event's page. It must not contain control
	// characters; non-ASCII characters and spaces are percent-encoded on
	// output (RFC 3986 §2.1), as a URI property cannot carry them raw.
	URL string
	// Organizer is who publishes the event (ORGANIZER); see Calendar.
	Organizer *Organizer
	// Geo is where the event takes place (GEO), when known.
	Geo *Geo
	// Status is optional; when set it must be valid.
	Status Status
	// Sequence is the revision number; clients replace an event when it
	// grows.
	Sequence int
	// LastModified is optional (LAST-MODIFIED).
	LastModified time.Time
	// Categories are written as one comma-separated CATEGORIES property;
	// empty entries are skipped.
	Categories []string
}

// Geo is a GEO (RFC 5545 §3.8.1.6): latitude and longitude in degrees.
type Geo struct {
	Latitude, Longitude float64
}

// Organizer is an ORGANIZER (RFC 5545 §3.8.4.3): a calendar user address,
// a URI such as "mailto:parks@example.org" (percent-encoded on output like
// URL), and a common name shown by clients.
type Organizer struct {
	Name    string
	Address string
}

// WriteTo writes the calendar to w. It checks the whole calendar first, so
// on a configuration error nothing is written.
func (c *Calendar) WriteTo(w io.Writer) (int64, error) {
	b, err := c.Bytes()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// Bytes renders the calendar.
func (c *Calendar) Bytes() ([]byte, error) {
	if strings.TrimSpace(c.ProdID) == "" {
		return nil, errors.New("ical: calendar has no PRODID")
	}
	for i := range c.Events {
		if err := c.Events[i].check(); err != nil {
			return nil, fmt.Errorf("ical: event %d: %w", i, err)
		}
	}
	var e encoder
	e.line("BEGIN", "VCALENDAR")
	e.line("VERSION", "2.0")
	e.line("PRODID", EscapeText(c.ProdID))
	scale := c.CalScale
	if scale == "" {
		scale = "GREGORIAN"
	}
	e.line("CALSCALE", EscapeText(scale))
	publish := true
	for i := range c.Events {
		publish = publish && c.Events[i].Organizer != nil
	}
	if publish {
		e.line("METHOD", "PUBLISH")
	}
	if c.Name != "" {
		e.line("X-WR-CALNAME", EscapeText(c.Name))
	}
	for i := range c.Events {
		c.Events[i].encode(&e)
	}
	if len(c.Events) == 0 {
		// RFC 5545 §3.6: a calendar has at least one component. An unused
		// time zone definition is one every client ignores gracefully.
		for _, l := range utcTimeZone {
			e.buf.WriteString(l + "\r\n")
		}
	}
	e.line("END", "VCALENDAR")
	return e.buf.Bytes(), nil
}

func (ev *Event) check() error {
	switch {
	case EscapeText(ev.UID) == "":
		return errors.New("no UID")
	case ev.Stamp.IsZero():
		return errors.New("no DTSTAMP")
	case ev.Start.IsZero():
		return errors.New("no DTSTART")
	case !ev.End.IsZero() && ev.End.Before(ev.Start):
		return errors.New("DTEND before DTSTART")
	case ev.Status != "" && !ev.Status.Valid():
		return fmt.Errorf("invalid STATUS %q", ev.Status)
	case ev.Sequence < 0:
		return errors.New("negative SEQUENCE")
	case !validValueChars(ev.URL):
		return errors.New("URL contains control characters or invalid UTF-8")
	case ev.Geo != nil && (!(ev.Geo.Latitude >= -90 && ev.Geo.Latitude <= 90) || !(ev.Geo.Longitude >= -180 && ev.Geo.Longitude <= 180)):
		return errors.New("GEO out of range")
	case ev.Organizer != nil && (!validValueChars(ev.Organizer.Address) || !strings.Contains(ev.Organizer.Address, ":")):
		return errors.New("ORGANIZER is not a URI such as mailto:parks@example.org")
	}
	for _, t := range []time.Time{ev.Stamp, ev.Start, ev.End, ev.LastModified} {
		if y := t.UTC().Year(); !t.IsZero() && (y < 0 || y > 9999) {
			return fmt.Errorf("time %v outside years 0000-9999", t)
		}
	}
	return nil
}

func (ev *Event) encode(e *encoder) {
	e.line("BEGIN", "VEVENT")
	e.line("UID", EscapeText(ev.UID))
	e.line("DTSTAMP", formatUTC(ev.Stamp))
	e.line("DTSTART", formatUTC(ev.Start))
	if !ev.End.IsZero() {
		e.line("DTEND", formatUTC(ev.End))
	}
	if ev.Summary != "" {
		e.line("SUMMARY", EscapeText(ev.Summary))
	}
	if ev.Description != "" {
		e.line("DESCRIPTION", EscapeText(ev.Description))
	}
	if ev.Location != "" {
		e.line("LOCATION", EscapeText(ev.Location))
	}
	if g := ev.Geo; g != nil {
		e.line("GEO", strconv.FormatFloat(g.Latitude, 'f', -1, 64)+";"+strconv.FormatFloat(g.Longitude, 'f', -1, 64))
	}
	if ev.URL != "" {
		e.line("URL", EncodeURI(ev.URL))
	}
	if o := ev.Organizer; o != nil {
		name := ""
		if cn := paramText(o.Name); cn != "" {
			name = `;CN="` + cn + `"`
		}
		e.line("ORGANIZER"+name, EncodeURI(o.Address))
	}
	if ev.Status != "" {
		e.line("STATUS", string(ev.Status))
	}
	if ev.Sequence != 0 {
		e.line("SEQUENCE", strconv.Itoa(ev.Sequence))
	}
	if !ev.LastModified.IsZero() {
		e.line("LAST-MODIFIED", formatUTC(ev.LastModified))
	}
	var cats []string
	for _, c := range ev.Categories {
		if c := EscapeText(c); c != "" {
			cats = append(cats, c)
		}
	}
	if len(cats) > 0 {
		// The commas between categories are list separators and so stay
		// unescaped; commas inside a category were escaped above.
		e.line("CATEGORIES", strings.Join(cats, ","))
	}
	e.line("END", "VEVENT")
}

// utcTimeZone is the component an otherwise empty calendar carries.
var utcTimeZone = []string{
	"BEGIN:VTIMEZONE", "TZID:UTC", "BEGIN:STANDARD", "DTSTART:19700101T000000",
	"TZOFFSETFROM:+0000", "TZOFFSETTO:+0000", "TZNAME:UTC", "END:STANDARD", "END:VTIMEZONE",
}

// EncodeURI percent-encodes what a URI cannot carry raw (RFC 3986 §2.1):
// every octet outside printable ASCII, the space, the characters " < > \ ^
// backquote { | }, and a % that does not start an escape; so an address typed
// with Turkish or Finnish letters becomes a valid URI value. Existing percent
// escapes are kept.
func EncodeURI(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		escaped := c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2])
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(uriUnsafe, c) >= 0 || (c == '%' && !escaped) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// uriUnsafe are the printable ASCII characters a URI never holds raw.
const uriUnsafe = "\"<>\\^`{|}"

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// paramText makes s a quoted parameter value (RFC 5545 §3.1): it may hold
// anything but a double quote and control characters.
func paramText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}

// formatUTC renders the UTC "Z" form; floating or TZID-qualified times
// would oblige us to ship VTIMEZONE definitions.
func formatUTC(t time.Time) string {
	return t.UTC().Format("20060102T150405Z")
}

type encoder struct {
	buf bytes.Buffer
}

// line writes one content line, folded.
func (e *encoder) line(name, value string) {
	e.buf.WriteString(Fold(name + ":" + value))
}

// Fold splits one logical content line into physical lines of at most
// [MaxLineOctets] octets, each ended by CRLF, continuation lines starting
// with a single space. It never cuts inside a UTF-8 sequence: clients that
// decode each physical line on its own would otherwise show replacement
// characters. line must not contain CR or LF.
func Fold(line string) string {
	var b strings.Builder
	b.Grow(len(line) + len(line)/MaxLineOctets*3 + 2)
	limit := MaxLineOctets
	for len(line) > limit {
		cut := limit
		// Back up to the start of a rune; a cut in the middle of a
		// multi-octet sequence is what breaks Turkish, Finnish and emoji.
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		if cut == 0 {
			// Not UTF-8 at all; cut anyway rather than loop forever.
			cut = limit
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		limit = MaxLineOctets - 1 // the leading space counts
	}
	b.WriteString(line)
	b.WriteString("\r\n")
	return b.String()
}

// EscapeText makes s a valid TEXT value (RFC 5545 §3.3.11): backslash,
// semicolon and comma are escaped, any line break (CRLF, CR or LF) becomes
// "\n". Characters a content line cannot carry at all — control characters
// other than tab and invalid UTF-8 — are dropped or replaced with U+FFFD, so
// that any user-supplied string yields a valid feed.
func EscapeText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == ';':
			b.WriteString(`\;`)
		case c == ',':
			b.WriteString(`\,`)
		case c == '\r':
			b.WriteString(`\n`)
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			// Dropped: no escape exists for other control characters.
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// UnescapeText reverses [EscapeText]. It returns an error for a bare
// semicolon or comma and for an unknown escape, which is what a strict
// reader must reject.
func UnescapeText(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 == len(s) {
				return "", errors.New("dangling backslash")
			}
			i++
			switch s[i] {
			case '\\', ';', ',':
				b.WriteByte(s[i])
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				return "", fmt.Errorf("unknown escape \\%c", s[i])
			}
		case ';', ',':
			return "", fmt.Errorf("unescaped %q", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// validValueChars reports whether s can appear in a content line: valid
// UTF-8 and no control characters other than tab (RFC 5545 VALUE-CHAR).
func validValueChars(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
