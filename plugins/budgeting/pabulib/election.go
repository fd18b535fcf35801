package pabulib

import (
	"fmt"

	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

// Election converts the instance into the tally package's neutral input.
// choose-1 ballots are approval sets of one; ordinal ballots keep their
// order; cumulative and scoring ballots keep their points.
func (in *Instance) Election() tally.Election {
	e := tally.Election{Budget: in.Budget, Projects: make([]tally.Project, len(in.Projects)),
		Ballots: make([]tally.Ballot, len(in.Votes))}
	switch in.VoteType {
	case VoteCumulative:
		e.Kind = tally.Cumulative
	case VoteScoring:
		e.Kind = tally.Scoring
	case VoteOrdinal:
		e.Kind = tally.Ordinal
	default:
		e.Kind = tally.Approval
	}
	for i, p := range in.Projects {
		e.Projects[i] = tally.Project{ID: p.ID, Cost: p.Cost}
	}
	for i, v := range in.Votes {
		b := tally.Ballot{Projects: v.Projects}
		if e.Kind == tally.Cumulative || e.Kind == tally.Scoring {
			b.Points = v.Points
		}
		e.Ballots[i] = b
	}
	return e
}

// Options maps the instance's META rule to tally options, the way the city
// ran it: "greedy" and "greedy-threshold" (with min_project_score_threshold)
// as named, "equalshares/add1" and "equalshares/add1-comparison" to MES with
// the add1 completion, "unknown" or an absent rule to greedy. Other rules are
// an error so that a caller never silently tallies by the wrong rule.
//
// The MES options a Kvarter export records (kvarter_exhaustive_stop,
// kvarter_integral, kvarter_increment, kvarter_tie_break) are applied too, so
// tallying an exported file reproduces the published result.
func (in *Instance) Options() (tally.Options, error) {
	o, err := in.ruleOptions()
	if err != nil {
		return o, err
	}
	if v, ok := in.Meta["kvarter_tie_break"]; ok {
		chain, err := tally.ParseTieBreak(v)
		if err != nil {
			return o, fmt.Errorf("kvarter_tie_break: %w", err)
		}
		o.TieBreak = chain
	}
	if o.Rule != tally.MES {
		return o, nil
	}
	o.NoExhaustiveStop = in.Meta["kvarter_exhaustive_stop"] == "false"
	o.NoIntegral = in.Meta["kvarter_integral"] == "false"
	if v, ok := in.Meta["kvarter_increment"]; ok {
		inc, err := parseWhole(v, false)
		if err != nil || inc == 0 {
			return o, fmt.Errorf("kvarter_increment %q is not a positive whole number", v)
		}
		o.Increment = inc
	}
	return o, nil
}

func (in *Instance) ruleOptions() (tally.Options, error) {
	switch in.Rule {
	case "greedy", "unknown", "":
		return tally.Options{Rule: tally.Greedy}, nil
	case "greedy-no-skip":
		return tally.Options{Rule: tally.GreedyNoSkip}, nil
	case "greedy-threshold":
		o := tally.Options{Rule: tally.GreedyThreshold}
		if in.MinProjectScoreThreshold != nil {
			o.Threshold = *in.MinProjectScoreThreshold
		}
		return o, nil
	case "equalshares", "equalshares/none":
		return tally.Options{Rule: tally.MES, Completion: tally.CompletionNone}, nil
	case "equalshares/add1", "equalshares/add1-comparison":
		return tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1}, nil
	case "equalshares/add1u":
		return tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1U}, nil
	}
	return tally.Options{}, fmt.Errorf("rule %q is not supported", in.Rule)
}
