package ical

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Error is a problem found by [Validate] or [Unfold]. Line is the 1-based
// physical line where the offending content line starts, so a test failure
// points straight at the feed.
type Error struct {
	Line int
	Msg  string
}

// Error formats the problem with its line number.
func (e *Error) Error() string {
	if e.Line == 0 {
		return "ical: " + e.Msg
	}
	return fmt.Sprintf("ical: line %d: %s", e.Line, e.Msg)
}

func errorf(line int, format string, args ...any) *Error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// textProps hold a single TEXT value in which a bare ';' or ',' is an
// error. Clients split on them, so an unescaped comma in a LOCATION silently
// truncates the address.
var textProps = map[string]bool{
	"SUMMARY": true, "DESCRIPTION": true, "LOCATION": true, "COMMENT": true,
	"CONTACT": true, "X-WR-CALNAME": true, "X-WR-CALDESC": true,
}

// textListProps hold a comma-separated list of TEXT values.
var textListProps = map[string]bool{"CATEGORIES": true, "RESOURCES": true}

// uriProps hold a URI, which cannot carry raw non-ASCII octets or spaces
// (RFC 3986 §2.1): a client either drops the property or mangles the link.
var uriProps = map[string]bool{"URL": true, "ORGANIZER": true, "ATTENDEE": true, "TZURL": true}

// utcProps must be a DATE-TIME in UTC (RFC 5545 §3.8.7).
var utcProps = map[string]bool{"DTSTAMP": true, "LAST-MODIFIED": true, "CREATED": true}

// singleEventProps may appear at most once in a VEVENT.
var singleEventProps = []string{
	"UID", "DTSTAMP", "DTSTART", "DTEND", "DURATION", "SUMMARY", "DESCRIPTION",
	"LOCATION", "URL", "STATUS", "SEQUENCE", "LAST-MODIFIED", "CREATED", "CLASS",
}

// Line is one unfolded content line.
type Line struct {
	// Num is the 1-based physical line on which the content line starts.
	Num int
	// Text is the unfolded line, without CRLF.
	Text string
}

// Unfold joins folded lines back into content lines (RFC 5545 §3.1). It
// insists on CRLF line endings and on a final CRLF; a line that starts with
// a space or tab continues the previous one, minus that first character.
func Unfold(data []byte) ([]Line, error) {
	if len(data) == 0 {
		return nil, &Error{Msg: "empty feed"}
	}
	var lines []Line
	var cur strings.Builder
	start := 0
	for num := 1; len(data) > 0; num++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil, errorf(num, "line does not end with CRLF")
		}
		if i == 0 || data[i-1] != '\r' {
			return nil, errorf(num, "line ends with a bare LF, not CRLF")
		}
		phys := data[:i-1]
		data = data[i+1:]
		if j := bytes.IndexByte(phys, '\r'); j >= 0 {
			return nil, errorf(num, "bare CR inside a line")
		}
		if len(phys) > MaxLineOctets {
			return nil, errorf(num, "line is %d octets, longer than %d", len(phys), MaxLineOctets)
		}
		if !utf8.Valid(phys) {
			// Either the feed is not UTF-8 or a fold split a
			// multi-octet character, which RFC 5545 forbids.
			return nil, errorf(num, "line is not valid UTF-8 on its own (bad encoding or a fold inside a character)")
		}
		if len(phys) == 0 {
			return nil, errorf(num, "empty line")
		}
		if phys[0] == ' ' || phys[0] == '\t' {
			if len(lines) == 0 && cur.Len() == 0 {
				return nil, errorf(num, "continuation line with nothing to continue")
			}
			cur.Write(phys[1:])
			continue
		}
		if cur.Len() > 0 {
			lines = append(lines, Line{Num: start, Text: cur.String()})
			cur.Reset()
		}
		start = num
		cur.Write(phys)
	}
	lines = append(lines, Line{Num: start, Text: cur.String()})
	return lines, nil
}

// property is one parsed content line.
type property struct {
	line   int
	name   string // upper case
	params map[string][]string
	value  string
}

// parseLine splits a content line into name, parameters and value
// (RFC 5545 §3.1). Quoted parameter values may contain ':', ';' and ','.
func parseLine(l Line) (property, error) {
	s := l.Text
	p := property{line: l.Num}
	if !validValueChars(s) {
		return p, errorf(l.Num, "control character in content line")
	}
	i := 0
	for i < len(s) && isNameChar(s[i]) {
		i++
	}
	if i == 0 {
		return p, errorf(l.Num, "content line has no property name")
	}
	p.name = strings.ToUpper(s[:i])
	for i < len(s) && s[i] == ';' {
		i++
		j := i
		for i < len(s) && isNameChar(s[i]) {
			i++
		}
		if i == j || i >= len(s) || s[i] != '=' {
			return p, errorf(l.Num, "%s: malformed parameter", p.name)
		}
		pname := strings.ToUpper(s[j:i])
		i++
		for {
			var v string
			if i < len(s) && s[i] == '"' {
				k := strings.IndexByte(s[i+1:], '"')
				if k < 0 {
					return p, errorf(l.Num, "%s: unterminated quoted parameter", p.name)
				}
				v = s[i+1 : i+1+k]
				i += k + 2
			} else {
				j := i
				for i < len(s) && !strings.ContainsRune("\";:,", rune(s[i])) {
					i++
				}
				v = s[j:i]
			}
			if p.params == nil {
				p.params = map[string][]string{}
			}
			p.params[pname] = append(p.params[pname], v)
			if i < len(s) && s[i] == ',' {
				i++
				continue
			}
			break
		}
	}
	if i >= len(s) || s[i] != ':' {
		return p, errorf(l.Num, "%s: missing ':' before the value", p.name)
	}
	p.value = s[i+1:]
	return p, nil
}

func isNameChar(c byte) bool {
	return c == '-' || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
}

// Validate checks a feed strictly: CRLF line endings only, no physical line
// over 75 octets, folds that do not split UTF-8 sequences, balanced and
// correctly nested BEGIN/END, exactly one VERSION (2.0) and PRODID, at least
// one component (RFC 5545 §3.6), and in every VEVENT exactly one UID, DTSTAMP
// and DTSTART, a DTEND not before the DTSTART, a valid STATUS, properly
// escaped TEXT values and URIs (URL, ORGANIZER) without raw non-ASCII octets
// or spaces. With METHOD:PUBLISH every VEVENT must also have exactly one
// ORGANIZER and a SUMMARY (RFC 5546 §3.2.1), as libical checks. It returns
// the first problem as an [*Error].
//
// DTEND is compared with DTSTART only when both are in the same form (both
// UTC, both DATE, or both local in the same TZID); comparing across zones
// would need the feed's VTIMEZONE definitions.
func Validate(data []byte) error {
	lines, err := Unfold(data)
	if err != nil {
		return err
	}
	v := validator{}
	for _, l := range lines {
		p, err := parseLine(l)
		if err != nil {
			return err
		}
		if err := v.property(p); err != nil {
			return err
		}
	}
	if len(v.stack) > 0 {
		return errorf(lines[len(lines)-1].Num, "BEGIN:%s is never ended", v.stack[len(v.stack)-1])
	}
	if !v.done {
		return &Error{Msg: "no VCALENDAR"}
	}
	return nil
}

type validator struct {
	stack      []string
	done       bool // the VCALENDAR has ended
	cal        map[string]int
	method     string
	components int
	events     []*eventState
	event      *eventState
}

type eventState struct {
	line  int
	count map[string]int
	start *dateValue
	end   *dateValue
}

func (v *validator) property(p property) error {
	if v.done {
		return errorf(p.line, "content after END:VCALENDAR")
	}
	switch p.name {
	case "BEGIN":
		return v.begin(p)
	case "END":
		return v.end(p)
	}
	if len(v.stack) == 0 {
		return errorf(p.line, "%s outside BEGIN:VCALENDAR", p.name)
	}
	if err := checkValue(p); err != nil {
		return err
	}
	switch v.stack[len(v.stack)-1] {
	case "VCALENDAR":
		v.cal[p.name]++
		if p.name == "VERSION" && p.value != "2.0" {
			return errorf(p.line, "VERSION is %q, want 2.0", p.value)
		}
		if p.name == "METHOD" {
			v.method = strings.ToUpper(p.value)
		}
	case "VEVENT":
		e := v.event
		e.count[p.name]++
		switch p.name {
		case "STATUS":
			if !Status(p.value).Valid() {
				return errorf(p.line, "STATUS %q is not TENTATIVE, CONFIRMED or CANCELLED", p.value)
			}
		case "DTSTART", "DTEND":
			d, err := parseDateValue(p)
			if err != nil {
				return err
			}
			if p.name == "DTSTART" {
				e.start = &d
			} else {
				e.end = &d
			}
		}
	}
	return nil
}

func (v *validator) begin(p property) error {
	name := strings.ToUpper(p.value)
	if name == "" {
		return errorf(p.line, "BEGIN without a component name")
	}
	switch {
	case len(v.stack) == 0 && name != "VCALENDAR":
		return errorf(p.line, "BEGIN:%s outside VCALENDAR", name)
	case len(v.stack) > 0 && name == "VCALENDAR":
		return errorf(p.line, "VCALENDAR nested in %s", v.stack[len(v.stack)-1])
	case name == "VEVENT" && v.stack[len(v.stack)-1] != "VCALENDAR":
		return errorf(p.line, "VEVENT nested in %s", v.stack[len(v.stack)-1])
	}
	if len(v.stack) == 1 {
		v.components++
	}
	switch name {
	case "VCALENDAR":
		v.cal = map[string]int{}
	case "VEVENT":
		v.event = &eventState{line: p.line, count: map[string]int{}}
		v.events = append(v.events, v.event)
	}
	v.stack = append(v.stack, name)
	return nil
}

func (v *validator) end(p property) error {
	name := strings.ToUpper(p.value)
	if len(v.stack) == 0 {
		return errorf(p.line, "END:%s without BEGIN", name)
	}
	if top := v.stack[len(v.stack)-1]; top != name {
		return errorf(p.line, "END:%s closes BEGIN:%s", name, top)
	}
	v.stack = v.stack[:len(v.stack)-1]
	switch name {
	case "VCALENDAR":
		v.done = true
		for _, req := range []string{"VERSION", "PRODID"} {
			if n := v.cal[req]; n != 1 {
				return errorf(p.line, "VCALENDAR has %d %s properties, want exactly 1", n, req)
			}
		}
		if v.components == 0 {
			return errorf(p.line, "VCALENDAR has no component; RFC 5545 §3.6 wants at least one")
		}
		if v.method == "PUBLISH" {
			for _, e := range v.events {
				for _, req := range []string{"ORGANIZER", "SUMMARY"} {
					if e.count[req] != 1 {
						return errorf(e.line, "VEVENT has %d %s properties; METHOD:PUBLISH wants exactly 1 (RFC 5546 §3.2.1)", e.count[req], req)
					}
				}
			}
		}
	case "VEVENT":
		return v.event.check()
	}
	return nil
}

func (e *eventState) check() error {
	for _, req := range []string{"UID", "DTSTAMP", "DTSTART"} {
		if e.count[req] == 0 {
			return errorf(e.line, "VEVENT has no %s", req)
		}
	}
	for _, name := range singleEventProps {
		if n := e.count[name]; n > 1 {
			return errorf(e.line, "VEVENT has %d %s properties, want at most 1", n, name)
		}
	}
	if e.count["DTEND"] > 0 && e.count["DURATION"] > 0 {
		return errorf(e.line, "VEVENT has both DTEND and DURATION")
	}
	if e.end != nil {
		s, en := e.start, e.end
		if s.date != en.date {
			return errorf(e.line, "DTEND and DTSTART differ in value type (DATE vs DATE-TIME)")
		}
		comparable := s.date || (s.utc && en.utc) || (!s.utc && !en.utc && s.tzid == en.tzid)
		if comparable && en.t.Before(s.t) {
			return errorf(e.line, "DTEND %s is before DTSTART %s", en.raw, s.raw)
		}
	}
	return nil
}

// checkValue checks what a property's value must look like wherever it
// appears.
func checkValue(p property) error {
	switch {
	case textProps[p.name]:
		if _, err := UnescapeText(p.value); err != nil {
			return errorf(p.line, "%s: %v (escape it as \\; \\, \\\\ or \\n)", p.name, err)
		}
	case textListProps[p.name]:
		for _, item := range splitUnescaped(p.value, ',') {
			if _, err := UnescapeText(item); err != nil {
				return errorf(p.line, "%s: %v", p.name, err)
			}
		}
	case utcProps[p.name]:
		d, err := parseDateValue(p)
		if err != nil {
			return err
		}
		if !d.utc {
			return errorf(p.line, "%s %q must be a UTC date-time (ending in Z)", p.name, p.value)
		}
	case uriProps[p.name]:
		for i := 0; i < len(p.value); i++ {
			if c := p.value[i]; c <= 0x20 || c >= 0x7f {
				return errorf(p.line, "%s: a URI cannot carry a raw space or non-ASCII octet; percent-encode it", p.name)
			}
		}
	case p.name == "GEO":
		lat, lon, ok := strings.Cut(p.value, ";")
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(lon, 64)
		if !ok || err1 != nil || err2 != nil || la < -90 || la > 90 || lo < -180 || lo > 180 {
			return errorf(p.line, "GEO %q is not latitude;longitude in degrees", p.value)
		}
	case p.name == "SEQUENCE":
		if n, err := strconv.Atoi(p.value); err != nil || n < 0 || strings.HasPrefix(p.value, "+") {
			return errorf(p.line, "SEQUENCE %q is not a non-negative integer", p.value)
		}
	}
	return nil
}

// splitUnescaped splits s at each sep not preceded by an escaping
// backslash.
func splitUnescaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// dateValue is a parsed DATE or DATE-TIME. t holds the wall time as if it
// were UTC, which makes values in the same form comparable.
type dateValue struct {
	raw  string
	t    time.Time
	date bool
	utc  bool
	tzid string
}

func parseDateValue(p property) (dateValue, error) {
	d := dateValue{raw: p.value}
	if tz := p.params["TZID"]; len(tz) > 0 {
		d.tzid = tz[0]
	}
	isDate := len(p.params["VALUE"]) > 0 && strings.EqualFold(p.params["VALUE"][0], "DATE")
	var err error
	switch {
	case isDate:
		d.date = true
		d.t, err = time.Parse("20060102", p.value)
	case strings.HasSuffix(p.value, "Z"):
		if d.tzid != "" {
			return d, errorf(p.line, "%s: a UTC time must not carry a TZID", p.name)
		}
		d.utc = true
		d.t, err = time.Parse("20060102T150405Z", p.value)
	default:
		d.t, err = time.Parse("20060102T150405", p.value)
	}
	if err != nil {
		return d, errorf(p.line, "%s %q is not a valid %s", p.name, p.value, map[bool]string{true: "DATE", false: "DATE-TIME"}[isDate])
	}
	return d, nil
}
