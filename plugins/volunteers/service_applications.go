package volunteers

import (
	"context"
	"fmt"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// contactStatuses are the statuses after the organiser accepted (or the volunteer took up
// an invitation); only then does the organiser see the volunteer's contact details.
var contactStatuses = map[string]bool{
	StatusAccepted: true, StatusConfirmed: true, StatusWaitlisted: true,
	StatusAttended: true, StatusNoShow: true,
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
	Profile *VolunteerProfile `json:"profile" doc:"The volunteer's profile as organisers see it; null once withdrawn"`
	Contact *Contact          `json:"contact" doc:"Name and e-mail, only after acceptance"`
}

// VolunteerProfile is a profile as an organiser sees it: what the volunteer offers, and
// for the rules only the answers the rule needs — never the birth date nor the
// background check's status or dates.
type VolunteerProfile struct {
	UserID           string               `json:"user_id"`
	Skills           []string             `json:"skills" nullable:"false"`
	Tags             []string             `json:"tags" nullable:"false"`
	Languages        []string             `json:"languages" nullable:"false"`
	Availability     []AvailabilityWindow `json:"availability" nullable:"false"`
	UnavailableDates []string             `json:"unavailable_dates" nullable:"false" format:"date"`
	Neighbourhoods   []string             `json:"neighbourhoods" nullable:"false"`
	MaxHoursPerWeek  int                  `json:"max_hours_per_week"`
	// MeetsMinAge answers the age rule on the shift's local date; true when the
	// opportunity has no minimum age.
	MeetsMinAge bool `json:"meets_min_age" doc:"Old enough on the shift's local date; true when there is no minimum age"`
	// BackgroundCheckValid answers the check rule on the shift's local date.
	BackgroundCheckValid bool `json:"background_check_valid" doc:"A cleared background check valid on the shift's local date"`
}

// organiserView is prof as an organiser of o sees it for a sign-up on shift sh.
func (s *Service) organiserView(prof Profile, o Opportunity, sh Shift) VolunteerProfile {
	on := match.DateOf(sh.Start, s.cfg.Location)
	v := VolunteerProfile{UserID: prof.UserID, Skills: prof.Skills, Tags: prof.Tags, Languages: prof.Languages,
		Availability: prof.Availability, UnavailableDates: prof.UnavailableDates, Neighbourhoods: prof.Neighbourhoods,
		MaxHoursPerWeek: prof.MaxHoursPerWeek, MeetsMinAge: o.MinAge == 0}
	if birth, err := parseDate(prof.BirthDate); err == nil && o.MinAge > 0 {
		v.MeetsMinAge = match.AgeOn(birth, on) >= o.MinAge
	}
	c := prof.BackgroundCheck
	v.BackgroundCheckValid = c.Status == CheckCleared && (c.Expires == "" || c.Expires >= on.String())
	return v
}

// Applications lists an opportunity's applications for its organiser: each with the
// volunteer's profile (they applied or were invited) and, after acceptance, contact.
// They come by shift, then in the order they were made.
func (s *Service) Applications(ctx context.Context, p sdk.Principal, oppID string, q sdk.ListQuery) (sdk.Page[ApplicationView], error) {
	var none sdk.Page[ApplicationView]
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return none, err
	}
	apps, err := s.st.applicationsPage(ctx, oppID, q)
	if err != nil {
		return none, err
	}
	var ids, contactIDs []string
	for _, a := range apps {
		if a.Status == StatusWithdrawn {
			continue // withdrawing takes the profile back
		}
		ids = append(ids, a.VolunteerID)
		if contactStatuses[a.Status] {
			contactIDs = append(contactIDs, a.VolunteerID)
		}
	}
	profs, err := s.st.profiles(ctx, dedupe(ids))
	if err != nil {
		return none, err
	}
	contacts := map[string]Contact{}
	if len(contactIDs) > 0 {
		users, err := s.host.Users(ctx, dedupe(contactIDs))
		if err != nil {
			return none, fmt.Errorf("look up users: %w", err)
		}
		for _, u := range users {
			contacts[u.ID] = Contact{DisplayName: u.DisplayName, Email: u.Email}
		}
	}
	out := make([]ApplicationView, len(apps))
	for i, a := range apps {
		out[i] = ApplicationView{Application: a}
		if a.Status == StatusWithdrawn {
			continue
		}
		if pr, ok := profs[a.VolunteerID]; ok {
			sh, _ := findShift(o, a.ShiftID)
			v := s.organiserView(pr, o, sh)
			out[i].Profile = &v
		}
		if c, ok := contacts[a.VolunteerID]; ok && contactStatuses[a.Status] {
			out[i].Contact = &c
		}
	}
	return sdk.NewPage(out, q, func(v ApplicationView) []any { return []any{v.ShiftID, store.Micros(v.CreatedAt), v.ID} }), nil
}
