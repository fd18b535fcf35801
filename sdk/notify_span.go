package sdk

import (
	"time"

	"github.com/kvarter/kvarter/sdk/i18n"
)

// Span is a stretch of time a notification names — a booking, a shift. In the data
// of NotifyCatalog.Texts it is written in each language as a date with its start and
// end times ("7 Jun 2025, 10:00–12:00", "7.6.2025 klo 10.00–12.00"), or as two dates
// and times when it ends on another day, in the time zone Texts is given.
type Span struct {
	Start, End time.Time
}

// In writes s as l writes dates and times, in l's zone.
func (s Span) In(l *i18n.Localizer) string {
	zone := l.Zone()
	start, end := s.Start.In(zone), s.End.In(zone)
	y1, m1, d1 := start.Date()
	y2, m2, d2 := end.Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return l.DateTime(start) + "–" + l.Time(end)
	}
	return l.DateTime(start) + " – " + l.DateTime(end)
}
