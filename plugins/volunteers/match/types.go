// Package match decides which volunteers may take a shift and ranks them.
//
// Matching happens in two steps, because the two steps answer different
// questions for the people using it:
//
//  1. Hard rules say whether a volunteer may take a shift at all. Every rule
//     that fails is reported by name (see [Rule]) so a coordinator can be told
//     why somebody is missing from a list, rather than guessing.
//  2. Among eligible volunteers an integer score orders them. Integers keep
//     ties exact, ties are broken by volunteer ID, and each point comes with a
//     plain-words reason ("speaks Turkish; first aid; free Saturday morning").
//
// All calendar reasoning (age, background-check expiry, weekly availability,
// dates unavailable, ISO weeks) happens in the city's IANA time zone, handed
// to [NewIndex]. Availability windows are wall-clock times, so "Saturday
// 09:00–13:00" keeps meaning 09:00–13:00 on the Saturdays when the clocks
// change. Times are handled with one-second precision.
//
// The engine never reads the clock: anything that depends on "now" (recent
// hours, no-shows, which shifts are still in the future) is passed in.
//
// An [Index] is built once from all profiles and is safe for concurrent reads;
// it keeps posting lists per skill so that ranking one shift among 100,000
// profiles only looks at volunteers who have every required skill. A [Cache]
// keeps one index per process up to date with a store ([Source]), rebuilding it
// in the background when it is large.
package match

import (
	"fmt"
	"strings"
	"time"
)

// Rule names one hard eligibility rule. The values are stable strings so that
// callers can map them to translated explanations.
type Rule string

// The hard rules, in the order they are reported.
const (
	// RuleAge: the volunteer is younger than the opportunity's minimum age on
	// the local date the shift starts.
	RuleAge Rule = "age"
	// RuleBackgroundCheck: a valid background check is required and the
	// volunteer's is missing, not cleared, or expired on the shift's last
	// local date.
	RuleBackgroundCheck Rule = "background_check"
	// RuleRequiredSkills: at least one required skill is missing.
	RuleRequiredSkills Rule = "required_skills"
	// RuleAvailability: the weekly availability windows do not cover the whole
	// shift.
	RuleAvailability Rule = "availability"
	// RuleDateUnavailable: the shift touches a local date the volunteer marked
	// as unavailable.
	RuleDateUnavailable Rule = "date_unavailable"
	// RuleOverlap: the shift overlaps an existing commitment.
	RuleOverlap Rule = "overlap"
	// RuleWeeklyHours: committed hours in the shift's ISO week plus the shift
	// would exceed the volunteer's weekly maximum.
	RuleWeeklyHours Rule = "weekly_hours"
)

// Date is a civil (calendar) date without a time zone, as used for birth
// dates, expiry dates and dates unavailable.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the civil date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// days returns a day number that orders dates and makes consecutive dates
// differ by one, which is all the engine needs.
func (d Date) days() int64 {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Unix() / 86400
}

// Window is one weekly availability window in the city's wall-clock time.
// Start and End are offsets from local midnight; End at or before Start means
// the window runs overnight into the next day (e.g. Friday 22:00–02:00). End
// may be 24h to mean midnight.
type Window struct {
	Day   time.Weekday
	Start time.Duration
	End   time.Duration
}

// Interval is a half-open time interval [Start, End).
type Interval struct {
	Start, End time.Time
}

// CheckStatus is the state of a volunteer's background check.
type CheckStatus int

// Background check states. Only CheckCleared can satisfy an opportunity that
// requires a check.
const (
	CheckNone CheckStatus = iota
	CheckPending
	CheckCleared
	CheckRejected
)

// BackgroundCheck is a volunteer's background-check record. A cleared check
// is valid up to and including Expires (the expiry date is the last valid
// day); a zero Expires means it does not expire.
type BackgroundCheck struct {
	Status  CheckStatus
	Expires Date
}

// Profile is what a resident keeps about themselves as a volunteer, plus the
// history the caller computed for fairness and reliability.
type Profile struct {
	ID             string
	Skills         []string // skill catalogue IDs
	Tags           []string // free tags; not used for matching
	Languages      []string
	Weekly         []Window
	Unavailable    []Date
	Neighbourhoods []string // where the volunteer is willing to help
	// MaxWeekly is the most the volunteer wants to work in one ISO week;
	// zero means no limit was set.
	MaxWeekly time.Duration
	BirthDate Date
	Check     BackgroundCheck
	// Commitments are shifts the volunteer already holds.
	Commitments []Interval
	// RecentHours and NoShows are computed by the caller over whatever recent
	// period the city chooses; the engine never looks at the clock.
	RecentHours time.Duration
	NoShows     int
}

// Shift is one slot of an opportunity.
type Shift struct {
	ID         string
	Start, End time.Time
	Capacity   int
	// Taken is how many places are already filled; recommendations skip
	// full shifts.
	Taken int
}

// Opportunity is something volunteers can sign up for.
type Opportunity struct {
	ID            string
	Neighbourhood string
	Required      []string // skill IDs every volunteer must have
	Preferred     []string // skill IDs that raise the score
	Languages     []string
	MinAge        int
	NeedsCheck    bool
	Shifts        []Shift
}

// Labels gives the display names used in reasons. The caller passes names in
// the reader's language from its translatable catalogue; a missing entry
// falls back to the ID.
type Labels struct {
	Skills    map[string]string
	Languages map[string]string
}

func label(m map[string]string, id string) string {
	if s, ok := m[id]; ok && s != "" {
		return s
	}
	return id
}

// Weights sets how many points each soft criterion is worth. They are
// integers so that equal scores are truly equal.
type Weights struct {
	PreferredSkill int // per preferred skill held
	Language       int // per shared language
	Neighbourhood  int // willing to help in the opportunity's neighbourhood
	// Fairness is the bonus for someone with no recent hours; it falls by
	// one point per FairnessStep of recent hours, down to zero.
	Fairness     int
	FairnessStep time.Duration
	NoShow       int // subtracted per past no-show
	MaxNoShow    int // cap on the total no-show penalty
}

// DefaultWeights are the weights used when a zero Weights is passed.
var DefaultWeights = Weights{
	PreferredSkill: 20,
	Language:       10,
	Neighbourhood:  15,
	Fairness:       20,
	FairnessStep:   2 * time.Hour,
	NoShow:         10,
	MaxNoShow:      40,
}

// Candidate is one eligible volunteer for a shift, or one shift for a
// volunteer, with its score and reasons.
type Candidate struct {
	VolunteerID   string
	OpportunityID string
	ShiftID       string
	// Start is the shift's start.
	Start time.Time
	Score int
	// Reasons are short English phrases, most important first.
	Reasons []string
	// Codes are the same reasons as codes with data, for wording in any language.
	Codes []Reason
}

// Reason kinds: what made a volunteer and a shift fit.
const (
	ReasonSpeaks        = "speaks"        // Value: a language code both share
	ReasonSkill         = "skill"         // Value: a preferred skill ID the volunteer holds
	ReasonFree          = "free"          // Value: weekday ("saturday"), Part: morning, afternoon, evening or night
	ReasonNeighbourhood = "neighbourhood" // helps in the opportunity's neighbourhood
	ReasonNoRecent      = "no_recent"     // has not volunteered recently
	ReasonFewRecent     = "few_recent"    // few recent hours
	ReasonMissed        = "missed"        // N: shifts missed recently
)

// Reason is one reason as a code with its data; a page words it in its reader's
// language (a message per Kind).
type Reason struct {
	Kind  string `json:"kind" enum:"speaks,skill,free,neighbourhood,no_recent,few_recent,missed"`
	Value string `json:"value,omitempty" doc:"speaks: language code; skill: skill ID; free: weekday in English, lower case"`
	Part  string `json:"part,omitempty" enum:"morning,afternoon,evening,night" doc:"free: the part of the day"`
	N     int    `json:"n,omitempty" doc:"missed: how many shifts"`
}

// English words the reason in English, naming languages and skills by lb.
func (r Reason) English(lb *Labels) string {
	switch r.Kind {
	case ReasonSpeaks:
		return "speaks " + label(lb.Languages, r.Value)
	case ReasonSkill:
		return label(lb.Skills, r.Value)
	case ReasonFree:
		return "free " + strings.ToUpper(r.Value[:1]) + r.Value[1:] + " " + r.Part
	case ReasonNeighbourhood:
		return "helps in this neighbourhood"
	case ReasonNoRecent:
		return "has not volunteered recently"
	case ReasonFewRecent:
		return "few recent hours"
	case ReasonMissed:
		if r.N == 1 {
			return "missed 1 shift"
		}
		return fmt.Sprintf("missed %d shifts", r.N)
	}
	return r.Kind
}

// Reason joins the reasons the way they are shown in lists.
func (c Candidate) Reason() string {
	s := ""
	for i, r := range c.Reasons {
		if i > 0 {
			s += "; "
		}
		s += r
	}
	return s
}

// Verdict is the full answer for one volunteer and one shift: the failing
// rules if any, otherwise the score.
type Verdict struct {
	Eligible bool
	Failed   []Rule
	Candidate
}

// AgeOn returns the age in whole years on date on, by the rule the matcher applies.
func AgeOn(birth, on Date) int { return ageOn(birth, on) }
