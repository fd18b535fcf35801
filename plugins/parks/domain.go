package parks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
)

// Park is a public park. It belongs to a neighbourhood so that a park
// manager can be appointed for the parks of one neighbourhood (a role in
// nbh:<id>) or for the whole city (a role in city).
type Park struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	NeighbourhoodID string         `json:"neighbourhood_id"`
	TimeZone        string         `json:"time_zone"`
	SupportItems    map[string]int `json:"support_items"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
}

func (p *Park) location() *time.Location {
	if loc, ok := locations.Load(p.TimeZone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		// Validated at creation; a zone that vanished from the tz database
		// later is better shown in UTC than not at all.
		return time.UTC
	}
	locations.Store(p.TimeZone, loc)
	return loc
}

// locations keeps loaded time zones: time.LoadLocation reads and parses the zone's
// file on every call, and a request needs its park's zone.
var locations sync.Map // name → *time.Location

// Area is a bookable part of a park. Areas form a tree (the whole park ⊃
// the meadow ⊃ the stage): booking an area conflicts with bookings of its
// ancestors and descendants, not of its siblings.
type Area struct {
	ID           string    `json:"id"`
	ParkID       string    `json:"park_id"`
	ParentID     string    `json:"parent_id"`
	Name         string    `json:"name"`
	Capacity     int       `json:"capacity"`
	OpeningHours HoursDoc  `json:"opening_hours"`
	Rules        RulesDoc  `json:"rules"`
	CreatedAt    time.Time `json:"created_at"`

	hours     schedule.OpeningHours
	rules     schedule.Rules
	configErr error // from schedule.ValidateConfig, when the area was loaded
}

// halfPad is half the area's larger buffer. Every approved booking occupies
// its interval widened by its own half pad on each side, so two bookings
// of one area clash exactly when their gap is shorter than the buffer (the
// rule of schedule.Conflicts), and the database can check that with a
// plain range overlap.
func (a *Area) halfPad() time.Duration {
	return max(a.rules.BufferBefore, a.rules.BufferAfter, 0) / 2
}

// HoursDoc is the JSON form of opening hours: seasonal periods with ranges
// per weekday in local wall time.
type HoursDoc struct {
	Periods []PeriodDoc `json:"periods"`
}

// PeriodDoc is one season: From and To are "MM-DD", inclusive; Week maps
// lower-case English weekday names to opening ranges.
type PeriodDoc struct {
	Name   string                `json:"name" max:"200"`
	From   string                `json:"from" max:"5"`
	To     string                `json:"to" max:"5"`
	Closed bool                  `json:"closed"`
	Week   map[string][]RangeDoc `json:"week"`
}

// RangeDoc is an opening range "HH:MM"–"HH:MM" within one day.
type RangeDoc struct {
	Start string `json:"start" max:"5"`
	End   string `json:"end" max:"5"`
}

// alwaysOpen is used when an area is created without opening hours.
func alwaysOpen() HoursDoc {
	week := map[string][]RangeDoc{}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		week[strings.ToLower(wd.String())] = []RangeDoc{{"00:00", "24:00"}}
	}
	return HoursDoc{Periods: []PeriodDoc{{Name: "all year", From: "01-01", To: "12-31", Week: week}}}
}

// toSchedule converts the document, naming the field of the first problem.
func (h HoursDoc) toSchedule() (schedule.OpeningHours, error) {
	var out schedule.OpeningHours
	for i, p := range h.Periods {
		field := fmt.Sprintf("opening_hours.periods[%d]", i)
		from, err := parseMonthDay(p.From)
		if err != nil {
			return out, sdk.InvalidField(field+".from", err.Error())
		}
		to, err := parseMonthDay(p.To)
		if err != nil {
			return out, sdk.InvalidField(field+".to", err.Error())
		}
		sp := schedule.Period{Name: p.Name, From: from, To: to, Closed: p.Closed}
		for day, ranges := range p.Week {
			wd, ok := weekdays[strings.ToLower(day)]
			if !ok {
				return out, sdk.InvalidField(field+".week", fmt.Sprintf("%q is not a weekday", day))
			}
			for j, r := range ranges {
				s, err1 := schedule.ParseClock(r.Start)
				e, err2 := schedule.ParseClock(r.End)
				if err1 != nil || err2 != nil {
					return out, sdk.InvalidField(fmt.Sprintf("%s.week.%s[%d]", field, day, j), "want HH:MM between 00:00 and 24:00")
				}
				sp.Week[wd] = append(sp.Week[wd], schedule.Range{Start: s, End: e})
			}
		}
		out.Periods = append(out.Periods, sp)
	}
	return out, nil
}

var weekdays = func() map[string]time.Weekday {
	m := map[string]time.Weekday{}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		m[strings.ToLower(wd.String())] = wd
	}
	return m
}()

func parseMonthDay(s string) (schedule.MonthDay, error) {
	var m, d int
	if _, err := fmt.Sscanf(s, "%02d-%02d", &m, &d); err != nil || len(s) != 5 {
		return schedule.MonthDay{}, fmt.Errorf("want MM-DD, got %q", s)
	}
	md := schedule.MonthDay{Month: time.Month(m), Day: d}
	if !md.Valid() {
		return md, fmt.Errorf("%q is not a day of the year", s)
	}
	return md, nil
}

// RulesDoc is the JSON form of an area's booking rules; zero means no
// limit. Names match the rule names of violations.
type RulesDoc struct {
	MinDurationMinutes     int `json:"min_duration_minutes" min:"0" max:"527040"`
	MaxDurationMinutes     int `json:"max_duration_minutes" min:"0" max:"527040"`
	SlotGranularityMinutes int `json:"slot_granularity_minutes" min:"0" max:"527040"`
	MinNoticeMinutes       int `json:"min_notice_minutes" min:"0" max:"527040"`
	BookingHorizonDays     int `json:"booking_horizon_days" min:"0" max:"3660"`
	BufferBeforeMinutes    int `json:"buffer_before_minutes" min:"0" max:"527040"`
	BufferAfterMinutes     int `json:"buffer_after_minutes" min:"0" max:"527040"`
	MaxActiveBookings      int `json:"max_active_bookings" min:"0" max:"100000"`
}

func (r RulesDoc) toSchedule() schedule.Rules {
	min := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	return schedule.Rules{
		MinDuration:     min(r.MinDurationMinutes),
		MaxDuration:     min(r.MaxDurationMinutes),
		Granularity:     min(r.SlotGranularityMinutes),
		MinNotice:       min(r.MinNoticeMinutes),
		Horizon:         time.Duration(r.BookingHorizonDays) * 24 * time.Hour,
		BufferBefore:    min(r.BufferBeforeMinutes),
		BufferAfter:     min(r.BufferAfterMinutes),
		MaxActivePerOrg: r.MaxActiveBookings,
	}
}

// Booking kinds.
const (
	KindEvent   = "event"
	KindClosure = "closure"
)

// Booking states. Completed is not stored: an approved booking whose end
// has passed reads as completed, so no background job has to flip it.
const (
	StatusRequested = "requested"
	StatusApproved  = "approved"
	StatusRejected  = "rejected"
	StatusCancelled = "cancelled"
	StatusCompleted = "completed"
)

// Categories a booking may have.
var Categories = []string{"art", "workshop", "play", "sport", "culture", "other"}

// Contact is the person the park staff call about a booking. It is
// personal data: erased when the requester's account is deleted and never
// shown in public feeds.
type Contact struct {
	Name  string `json:"name" max:"200"`
	Email string `json:"email" max:"254"`
	Phone string `json:"phone" max:"40"`
}

// Occurrence is one date of a weekly series.
type Occurrence struct {
	ID     string    `json:"id"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Status string    `json:"status"`
}

// Booking is a request for, or a confirmed use of, an area; closures
// entered by managers are bookings of kind "closure" that start approved.
type Booking struct {
	ID                 string         `json:"id"`
	ParkID             string         `json:"park_id"`
	AreaID             string         `json:"area_id"`
	SeriesID           string         `json:"series_id"`
	Kind               string         `json:"kind"`
	Status             string         `json:"status"`
	OrganisationID     string         `json:"organisation_id"`
	OrganisationName   string         `json:"organisation_name"`
	RequesterID        string         `json:"requester_id"`
	Title              string         `json:"title"`
	Description        string         `json:"description"`
	Category           string         `json:"category"`
	ExpectedAttendance int            `json:"expected_attendance"`
	Public             bool           `json:"public"`
	SupportItems       map[string]int `json:"support_items"`
	AccessibilityNotes string         `json:"accessibility_notes"`
	VolunteersNeeded   bool           `json:"volunteers_needed"`
	Contact            Contact        `json:"contact"`
	Start              time.Time      `json:"start"`
	End                time.Time      `json:"end"`
	Reason             string         `json:"reason"`
	Sequence           int            `json:"sequence"`
	// Contested is set in lists when another open request wants the same
	// place at the same time, so managers see which approvals compete.
	Contested bool `json:"contested"`
	// Series lists every date of a weekly series, in order.
	Series    []Occurrence `json:"series"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`

	decidedBy   string
	wasApproved bool
}

func (b *Booking) interval() schedule.Interval {
	return schedule.Interval{Start: b.Start, End: b.End}
}

// view returns the booking as a reader sees it at now: approved bookings
// that are over read as completed.
func (b *Booking) view(now time.Time) *Booking {
	c := *b
	if c.Status == StatusApproved && c.Kind == KindEvent && !now.Before(c.End) {
		c.Status = StatusCompleted
	}
	if c.SupportItems == nil {
		c.SupportItems = map[string]int{}
	}
	if c.Series == nil {
		c.Series = []Occurrence{}
	}
	return &c
}

func encodeItems(m map[string]int) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func decodeItems(s string) (map[string]int, error) {
	m := map[string]int{}
	if s == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decode support items: %w", err)
	}
	return m, nil
}

// parseItems parses the default_support setting, "chairs=40,tables=8".
func parseItems(s string) (map[string]int, error) {
	out := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, qty, ok := strings.Cut(part, "=")
		var n int
		if _, err := fmt.Sscanf(qty, "%d", &n); !ok || err != nil || n < 0 || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("support item %q: want name=quantity", part)
		}
		out[strings.TrimSpace(name)] = n
	}
	return out, nil
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("parks: marshal %T: %v", v, err)) // only plain structs are passed
	}
	return string(b)
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
