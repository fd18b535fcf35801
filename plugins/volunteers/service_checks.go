package volunteers

import (
	"context"
	"fmt"
	"slices"

	"github.com/kvarter/kvarter/sdk"
)

// CheckEntry is one volunteer on city staff's background-check list.
type CheckEntry struct {
	UserID      string `json:"user_id"`
	DisplayName string `json:"display_name"`
	Status      string `json:"status" enum:"none,pending,cleared,rejected"`
	Expires     string `json:"expires,omitempty" format:"date" doc:"The last valid day; absent when the check does not expire"`
	// NeedsCheck: the volunteer offers a skill that implies a check (working with
	// children), so staff look at them first.
	NeedsCheck bool `json:"needs_check" doc:"Offers a skill that implies a background check"`
}

// BackgroundChecks lists volunteers for city staff (the route is limited to
// PermCheckSet in the city), by user ID, with the given check status or all.
func (s *Service) BackgroundChecks(ctx context.Context, p sdk.Principal, status string, q sdk.ListQuery) (sdk.Page[CheckEntry], error) {
	var none sdk.Page[CheckEntry]
	if err := requireUser(p); err != nil {
		return none, err
	}
	if _, ok := checkStatus[status]; status != "" && !ok {
		return none, invalid("status", "must be one of none, pending, cleared, rejected", RuleEnum)
	}
	rows, err := s.st.profilesByCheck(ctx, status, q)
	if err != nil {
		return none, err
	}
	cat, err := s.st.skills(ctx)
	if err != nil {
		return none, err
	}
	implies := map[string]bool{}
	for _, sk := range cat {
		implies[sk.ID] = sk.NeedsBackgroundCheck
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.UserID
	}
	names := map[string]string{}
	if len(ids) > 0 && s.host != nil {
		users, err := s.host.Users(ctx, ids)
		if err != nil {
			return none, fmt.Errorf("look up users: %w", err)
		}
		for _, u := range users {
			names[u.ID] = u.DisplayName
		}
	}
	out := make([]CheckEntry, len(rows))
	for i, r := range rows {
		out[i] = CheckEntry{UserID: r.UserID, DisplayName: names[r.UserID], Status: r.BackgroundCheck.Status,
			Expires:    r.BackgroundCheck.Expires,
			NeedsCheck: slices.ContainsFunc(r.Skills, func(id string) bool { return implies[id] })}
	}
	return sdk.NewPage(out, q, func(e CheckEntry) []any { return []any{e.UserID} }), nil
}
