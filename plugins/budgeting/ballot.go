package budgeting

import (
	"sort"

	"github.com/kvarter/kvarter/sdk"
)

// Ballot rule names, used in errors so a client can tell which rule a ballot broke.
const (
	RuleType          = "type"            // the ballot's shape does not match the cycle's type
	RuleKnownProjects = "known_projects"  // a project is unknown or not on the ballot
	RuleNoDuplicates  = "no_duplicates"   // a project appears twice
	RuleMin           = "min"             // fewer projects than the minimum
	RuleMax           = "max"             // more projects than the maximum
	RuleMaxCost       = "max_cost"        // chosen projects cost more than the limit
	RulePoints        = "points"          // more points than the cycle hands out
	RuleMaxPerProject = "max_per_project" // one project got more than its maximum
	RulePositive      = "positive_points" // points must be whole numbers above zero
)

// validateRules checks a cycle's ballot rules and fills in their defaults.
func validateRules(r *BallotRules) error {
	switch r.Type {
	case BallotApproval, BallotOrdinal:
		if r.Points != 0 || r.MaxPerProject != 0 {
			return sdk.InvalidField("ballot.points", "only cumulative ballots have points")
		}
	case BallotCumulative:
		if r.Points <= 0 {
			return sdk.InvalidField("ballot.points", "a cumulative ballot needs points > 0 to distribute")
		}
		if r.MaxPerProject < 0 || r.MaxPerProject > r.Points {
			return sdk.InvalidField("ballot.max_per_project", "must be between 0 (no cap) and points")
		}
		if r.MaxCost != 0 {
			return sdk.InvalidField("ballot.max_cost", "only approval ballots have a cost limit")
		}
	default:
		return sdk.InvalidField("ballot.type", "must be approval, cumulative or ordinal")
	}
	if r.Type == BallotOrdinal && r.MaxCost != 0 {
		return sdk.InvalidField("ballot.max_cost", "only approval ballots have a cost limit")
	}
	if r.Min == 0 {
		r.Min = 1
	}
	if r.Min < 0 || r.Max < 0 {
		return sdk.InvalidField("ballot.min", "min and max must not be negative")
	}
	if r.Max != 0 && r.Max < r.Min {
		return sdk.InvalidField("ballot.max", "must be at least min (or 0 for no maximum)")
	}
	if r.MaxCost < 0 {
		return sdk.InvalidField("ballot.max_cost", "must not be negative")
	}
	return nil
}

// validateBallot checks b against the cycle's rules. onBallot maps the IDs of the
// projects on the ballot to their final costs. It returns the ballot in canonical form:
// approval projects sorted (the order carries no meaning and must not hint at anything),
// ordinal ranking as given, cumulative points without zero entries.
func validateBallot(r BallotRules, b Ballot, onBallot map[string]int64) (Ballot, error) {
	switch r.Type {
	case BallotApproval, BallotOrdinal:
		if len(b.Points) > 0 {
			return Ballot{}, ruleError(RuleType, "points", "a %s ballot lists projects, not points", r.Type)
		}
		seen := make(map[string]bool, len(b.Projects))
		var cost int64
		for _, id := range b.Projects {
			c, ok := onBallot[id]
			if !ok {
				return Ballot{}, ruleError(RuleKnownProjects, "projects", "project %q is not on this ballot", id)
			}
			if seen[id] {
				return Ballot{}, ruleError(RuleNoDuplicates, "projects", "project %q is listed twice", id)
			}
			seen[id] = true
			cost += c
		}
		n := len(b.Projects)
		if n < max(r.Min, 1) {
			return Ballot{}, ruleError(RuleMin, "projects", "choose at least %d project(s), got %d", max(r.Min, 1), n)
		}
		if r.Max > 0 && n > r.Max {
			return Ballot{}, ruleError(RuleMax, "projects", "choose at most %d project(s), got %d", r.Max, n)
		}
		if r.MaxCost > 0 && cost > r.MaxCost {
			return Ballot{}, ruleError(RuleMaxCost, "projects", "chosen projects cost %d, more than the limit of %d", cost, r.MaxCost)
		}
		out := Ballot{Projects: append([]string(nil), b.Projects...)}
		if r.Type == BallotApproval {
			sort.Strings(out.Projects)
		}
		return out, nil
	case BallotCumulative:
		if len(b.Projects) > 0 {
			return Ballot{}, ruleError(RuleType, "projects", "a cumulative ballot gives points, not a list of projects")
		}
		perMax := r.MaxPerProject
		if perMax == 0 {
			perMax = r.Points
		}
		var sum int64
		out := Ballot{Points: make(map[string]int64, len(b.Points))}
		for id, pts := range b.Points {
			if _, ok := onBallot[id]; !ok {
				return Ballot{}, ruleError(RuleKnownProjects, "points", "project %q is not on this ballot", id)
			}
			if pts <= 0 {
				return Ballot{}, ruleError(RulePositive, "points", "project %q: points must be above zero, got %d", id, pts)
			}
			if pts > perMax {
				return Ballot{}, ruleError(RuleMaxPerProject, "points", "project %q: at most %d points per project, got %d", id, perMax, pts)
			}
			sum += pts
			out.Points[id] = pts
		}
		if len(out.Points) < max(r.Min, 1) {
			return Ballot{}, ruleError(RuleMin, "points", "give points to at least %d project(s), got %d", max(r.Min, 1), len(out.Points))
		}
		if r.Max > 0 && len(out.Points) > r.Max {
			return Ballot{}, ruleError(RuleMax, "points", "give points to at most %d project(s), got %d", r.Max, len(out.Points))
		}
		if sum > r.Points {
			return Ballot{}, ruleError(RulePoints, "points", "at most %d points in total, got %d", r.Points, sum)
		}
		return out, nil
	}
	return Ballot{}, ruleError(RuleType, "type", "unknown ballot type %q", r.Type)
}
