package volunteers

import (
	"context"
	"fmt"

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
	Profile *Profile `json:"profile" doc:"The volunteer's profile; null once withdrawn"`
	Contact *Contact `json:"contact" doc:"Name and e-mail, only after acceptance"`
}

// Applications lists an opportunity's applications for its organiser: each with the
// volunteer's profile (they applied or were invited) and, after acceptance, contact.
// They come by shift, then in the order they were made.
func (s *Service) Applications(ctx context.Context, p sdk.Principal, oppID string, q sdk.ListQuery) (sdk.Page[ApplicationView], error) {
	var none sdk.Page[ApplicationView]
	if _, err := s.organiser(ctx, p, oppID); err != nil {
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
			out[i].Profile = &pr
		}
		if c, ok := contacts[a.VolunteerID]; ok && contactStatuses[a.Status] {
			out[i].Contact = &c
		}
	}
	return sdk.NewPage(out, q, func(v ApplicationView) []any { return []any{v.ShiftID, store.Micros(v.CreatedAt), v.ID} }), nil
}
