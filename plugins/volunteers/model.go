package volunteers

import "time"

// Opportunity states.
const (
	StateDraft     = "draft"
	StatePublished = "published"
	StateClosed    = "closed"
	StateCancelled = "cancelled"
)

// Application statuses. A volunteer applies (or is invited), the organiser accepts, the
// volunteer confirms and is then either confirmed or, when the shift is full, wait-listed.
const (
	StatusApplied    = "applied"
	StatusInvited    = "invited"
	StatusAccepted   = "accepted"
	StatusConfirmed  = "confirmed"
	StatusWaitlisted = "waitlisted"
	StatusDeclined   = "declined"
	StatusWithdrawn  = "withdrawn"
	StatusAttended   = "attended"
	StatusNoShow     = "no_show"
)

// heldStatuses take a place on a shift: attendance is recorded on confirmed places, so
// recording it must not free the place for the wait list.
var heldStatuses = []string{StatusConfirmed, StatusAttended, StatusNoShow}

// contactStatuses are the statuses after the organiser accepted (or the volunteer took up
// an invitation); only then does the organiser see the volunteer's contact details.
var contactStatuses = map[string]bool{
	StatusAccepted: true, StatusConfirmed: true, StatusWaitlisted: true,
	StatusAttended: true, StatusNoShow: true,
}

// Background-check statuses, set only by city staff.
const (
	CheckNone     = "none"
	CheckPending  = "pending"
	CheckCleared  = "cleared"
	CheckRejected = "rejected"
)

// Skill is one entry of the city's skill catalogue with its names per language.
type Skill struct {
	ID    string            `json:"id"`
	Names map[string]string `json:"names"`
}

// AvailabilityWindow is a weekly window in the city's wall-clock time, "HH:MM" to
// "HH:MM"; an end at or before the start runs past midnight, "24:00" is midnight.
type AvailabilityWindow struct {
	Day   string `json:"day" max:"16"`
	Start string `json:"start" max:"5"`
	End   string `json:"end" max:"5"`
}

// BackgroundCheck is a volunteer's check; Expires is the last valid day (YYYY-MM-DD),
// empty when it does not expire.
type BackgroundCheck struct {
	Status  string `json:"status" max:"32"`
	Expires string `json:"expires,omitempty" max:"10"`
}

// Profile is what a resident says once about what they can do and when.
type Profile struct {
	UserID           string               `json:"user_id"`
	Skills           []string             `json:"skills"`
	Tags             []string             `json:"tags"`
	Languages        []string             `json:"languages"`
	Availability     []AvailabilityWindow `json:"availability"`
	UnavailableDates []string             `json:"unavailable_dates"`
	Neighbourhoods   []string             `json:"neighbourhoods"`
	MaxHoursPerWeek  int                  `json:"max_hours_per_week"`
	BirthDate        string               `json:"birth_date"`
	BackgroundCheck  BackgroundCheck      `json:"background_check"`
	CreatedAt        time.Time            `json:"created_at"`
	UpdatedAt        time.Time            `json:"updated_at"`
}

// ProfileInput is the body of PUT /profile. The background check is not part of it: only
// city staff set it.
type ProfileInput struct {
	Skills           []string             `json:"skills" max:"64"`
	Tags             []string             `json:"tags" max:"64"`
	Languages        []string             `json:"languages" max:"16"`
	Availability     []AvailabilityWindow `json:"availability"`
	UnavailableDates []string             `json:"unavailable_dates" max:"10"`
	Neighbourhoods   []string             `json:"neighbourhoods" max:"64"`
	MaxHoursPerWeek  int                  `json:"max_hours_per_week"`
	BirthDate        string               `json:"birth_date" max:"10"`
}

// Shift is one slot of an opportunity. Taken counts confirmed places (attended and
// no-show included); Waitlisted counts the wait list.
type Shift struct {
	ID         string    `json:"id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Capacity   int       `json:"capacity"`
	Taken      int       `json:"taken"`
	Waitlisted int       `json:"waitlisted"`
}

// Opportunity is volunteer work an organisation or the city needs done.
type Opportunity struct {
	ID                   string    `json:"id"`
	OrganisationID       string    `json:"organisation_id"`
	Title                string    `json:"title"`
	Description          string    `json:"description"`
	NeighbourhoodID      string    `json:"neighbourhood_id"`
	Place                string    `json:"place"`
	RequiredSkills       []string  `json:"required_skills"`
	PreferredSkills      []string  `json:"preferred_skills"`
	Languages            []string  `json:"languages"`
	MinAge               int       `json:"min_age"`
	NeedsBackgroundCheck bool      `json:"needs_background_check"`
	AutoAccept           bool      `json:"auto_accept"`
	State                string    `json:"state"`
	Shifts               []Shift   `json:"shifts"`
	CreatedAt            time.Time `json:"created_at"`
	UpdatedAt            time.Time `json:"updated_at"`

	createdBy     string
	sourceEventID string
}

// ShiftInput is one shift in a create request.
type ShiftInput struct {
	Start    string `json:"start" max:"64"`
	End      string `json:"end" max:"64"`
	Capacity int    `json:"capacity" max:"100000"`
}

// OpportunityInput is the body of POST /opportunities. An empty OrganisationID means the
// city itself posts it, which only city staff may do.
type OpportunityInput struct {
	OrganisationID       string       `json:"organisation_id" max:"64"`
	Title                string       `json:"title" max:"200"`
	Description          string       `json:"description" max:"10000"`
	NeighbourhoodID      string       `json:"neighbourhood_id" max:"64"`
	Place                string       `json:"place" max:"300"`
	RequiredSkills       []string     `json:"required_skills" max:"64"`
	PreferredSkills      []string     `json:"preferred_skills" max:"64"`
	Languages            []string     `json:"languages" max:"16"`
	MinAge               int          `json:"min_age"`
	NeedsBackgroundCheck bool         `json:"needs_background_check"`
	AutoAccept           bool         `json:"auto_accept"`
	Shifts               []ShiftInput `json:"shifts"`
}

// Application is one volunteer's sign-up for one shift.
type Application struct {
	ID            string    `json:"id"`
	OpportunityID string    `json:"opportunity_id"`
	ShiftID       string    `json:"shift_id"`
	VolunteerID   string    `json:"volunteer_id"`
	Status        string    `json:"status"`
	Origin        string    `json:"origin"`
	Minutes       int       `json:"minutes"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`

	waitlistedAt string
}

// Contact is what the organiser learns about a volunteer once accepted.
type Contact struct {
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
}

// ApplicationView is an application as its organiser sees it: the profile because the
// volunteer applied or was invited, the contact only after acceptance.
type ApplicationView struct {
	Application
	Profile *Profile `json:"profile"`
	Contact *Contact `json:"contact"`
}

// MatchCandidate is one eligible volunteer for a shift with the reasons for the score.
type MatchCandidate struct {
	VolunteerID string   `json:"volunteer_id"`
	Score       int      `json:"score"`
	Reasons     []string `json:"reasons"`
}

// Recommendation is one shift a volunteer may take.
type Recommendation struct {
	OpportunityID string    `json:"opportunity_id"`
	Title         string    `json:"title"`
	ShiftID       string    `json:"shift_id"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Score         int       `json:"score"`
	Reasons       []string  `json:"reasons"`
}

// RosterAssignment is one proposed placement.
type RosterAssignment struct {
	OpportunityID string `json:"opportunity_id"`
	ShiftID       string `json:"shift_id"`
	VolunteerID   string `json:"volunteer_id"`
	Score         int    `json:"score"`
}

// Roster is a proposal: organisers invite, volunteers confirm; nothing is booked by it.
type Roster struct {
	OpportunityID string             `json:"opportunity_id"`
	Assignments   []RosterAssignment `json:"assignments"`
	TotalScore    int                `json:"total_score"`
	Optimal       bool               `json:"optimal"`
	Canonical     bool               `json:"canonical"`
}

// DayRoster is one proposal for every shift of a local date the caller organises,
// solved together: nobody is proposed for overlapping shifts, and weekly limits hold
// across the opportunities.
type DayRoster struct {
	Date string `json:"date"`
	// OrganisationID is the organisation asked for; empty for everything the caller
	// organises.
	OrganisationID string             `json:"organisation_id"`
	OpportunityIDs []string           `json:"opportunity_ids"`
	Assignments    []RosterAssignment `json:"assignments"`
	TotalScore     int                `json:"total_score"`
	Optimal        bool               `json:"optimal"`
	Canonical      bool               `json:"canonical"`
}

// HoursEntry is one shift in a volunteer's hours summary.
type HoursEntry struct {
	ApplicationID string    `json:"application_id"`
	OpportunityID string    `json:"opportunity_id"`
	Title         string    `json:"title"`
	ShiftID       string    `json:"shift_id"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Status        string    `json:"status"`
	Minutes       int       `json:"minutes"`
}

// Hours is a volunteer's hours summary.
type Hours struct {
	VolunteerID  string       `json:"volunteer_id"`
	TotalMinutes int          `json:"total_minutes"`
	TotalHours   float64      `json:"total_hours"`
	Attended     int          `json:"attended"`
	NoShows      int          `json:"no_shows"`
	Entries      []HoursEntry `json:"entries"`
}
