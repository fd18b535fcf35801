package parks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
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
	ParkDetails
	// Plan is the park's plan, a static image staff uploaded; null when none.
	Plan      *Plan     `json:"plan"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ParkDetails are what a park's public page and the Schema.org data of its
// events show besides its name: they change nothing about bookings.
type ParkDetails struct {
	Description   string  `json:"description" max:"4000" doc:"What the park is like, for its public page."`
	Address       Address `json:"address"`
	Geo           *Geo    `json:"geo" doc:"Where the park is; null when unknown."`
	Accessibility string  `json:"accessibility" max:"4000" doc:"Step-free routes, toilets, surfaces, seating."`
	Rules         string  `json:"rules" max:"4000" doc:"The park's rules in prose (noise, fires, animals), shown before booking."`
}

// Plan is a park's plan image: the host serves the file at URL to anyone (a
// park's plan is public); Alt describes it for those who cannot see it.
type Plan struct {
	UploadID string `json:"upload_id"`
	URL      string `json:"url"`
	Alt      string `json:"alt"`
}

// Address is a park's postal address, as Schema.org's PostalAddress needs it.
type Address struct {
	StreetAddress string `json:"street_address" max:"200" example:"Kültürpark, Şair Eşref Blv."`
	PostalCode    string `json:"postal_code" max:"20" example:"35220"`
	Locality      string `json:"locality" max:"100" example:"İzmir"`
}

// Geo is a point in WGS 84 degrees.
type Geo struct {
	Latitude  float64 `json:"latitude" min:"-90" max:"90" example:"38.4299"`
	Longitude float64 `json:"longitude" min:"-180" max:"180" example:"27.1432"`
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
	ID           string   `json:"id"`
	ParkID       string   `json:"park_id"`
	ParentID     string   `json:"parent_id"`
	Name         string   `json:"name"`
	Capacity     int      `json:"capacity"`
	OpeningHours HoursDoc `json:"opening_hours"`
	Rules        RulesDoc `json:"rules"`
	// EffectiveRules are the rules a booking must keep: the area's own,
	// narrowed by those of every area it lies in (schedule.Rules.Narrow).
	EffectiveRules RulesDoc  `json:"effective_rules"`
	Description    string    `json:"description"`
	Accessibility  string    `json:"accessibility"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`

	// hours are the own opening hours within those of every ancestor, rules
	// the effective rules: what bookings and availability are checked against.
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
	// CollidesWith names those requests, in lists (the IDs of bookings of
	// the same park; GET …/collisions gives them whole, to a manager).
	CollidesWith []string `json:"collides_with"`
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
	if c.CollidesWith == nil {
		c.CollidesWith = []string{}
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

// Rule names used by the plugin beyond those of package schedule.
const (
	RuleCapacity        = "capacity"
	RuleSupportItems    = "support_items"
	RuleOverlap         = "no_overlap"
	RuleStatus          = "status"
	RuleReasonRequired  = "reason_required"
	RuleRepresentative  = "organisation_representative"
	RuleOrgVerified     = "organisation_verified"
	RuleIndividual      = "individual_bookings"
	RuleParkManager     = "park_manager"
	RuleEnded           = "already_ended"
	RuleSeriesUnit      = "series_unit"
	RuleAreaParent      = "area_parent"
	RuleTimeZone        = "time_zone"
	RuleAreaConfig      = "area_configuration"
	RuleRangeTooLong    = "range_too_long"
	RuleNeighbourhood   = "neighbourhood"
	RuleCategory        = "category"
	RuleTitle           = "title"
	RuleAttendance      = "expected_attendance"
	RuleContact         = "contact"
	RuleSeriesWeeks     = "repeat_weeks"
	RuleClosureOverlap  = "closure_overlap"
	RuleUnknownItem     = "unknown_support_item"
	RuleItemsOverBooked = "support_items_available"
	RuleQueryTime       = "rfc3339_time"
	RuleUnknownArea     = "unknown_area"
	RuleName            = "name"
)
