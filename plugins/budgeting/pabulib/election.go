package pabulib

import (
	"fmt"
	"strings"

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
// The options a Kvarter export records are applied too, so tallying an exported
// file reproduces the published result: in META comment, as the format lets a file
// say more than its keys ("#1: Kvarter tally options: tie_break=min-cost,max-votes
// increment=1 exhaustive_stop=true integral=true borda=true"), or, in files exported
// before issue 19, as META keys kvarter_tie_break, kvarter_increment,
// kvarter_exhaustive_stop and kvarter_integral.
func (in *Instance) Options() (tally.Options, error) {
	o, err := in.ruleOptions()
	if err != nil {
		return o, err
	}
	opts := in.KvarterOptions()
	if v, ok := opts["tie_break"]; ok {
		chain, err := tally.ParseTieBreak(v)
		if err != nil {
			return o, fmt.Errorf("kvarter tie_break: %w", err)
		}
		o.TieBreak = chain
	}
	o.Borda = opts["borda"] == "true" && in.VoteType == VoteOrdinal
	if o.Rule != tally.MES {
		return o, nil
	}
	o.NoExhaustiveStop = opts["exhaustive_stop"] == "false"
	o.NoIntegral = opts["integral"] == "false"
	if v, ok := opts["increment"]; ok {
		inc, err := parseWhole(v, false)
		if err != nil || inc == 0 {
			return o, fmt.Errorf("kvarter increment %q is not a positive whole number", v)
		}
		o.Increment = inc
	}
	return o, nil
}

// KvarterOptionsLabel opens the part of META comment a Kvarter export writes its
// tally options in, as space-separated key=value pairs.
const KvarterOptionsLabel = "Kvarter tally options:"

// KvarterOptions returns the tally options a Kvarter export recorded, by name
// (tie_break, increment, exhaustive_stop, integral, borda, amounts): from META
// comment, or from the kvarter_* META keys of older exports.
func (in *Instance) KvarterOptions() map[string]string {
	out := map[string]string{}
	for k, v := range in.Meta {
		if name, ok := strings.CutPrefix(k, "kvarter_"); ok {
			out[name] = v
		}
	}
	_, rest, ok := strings.Cut(in.Meta["comment"], KvarterOptionsLabel)
	if !ok {
		return out
	}
	// The comment's next numbered part ("; #2: ...") ends the options.
	if i := strings.Index(rest, "; #"); i >= 0 {
		rest = rest[:i]
	}
	for _, pair := range strings.Fields(rest) {
		if k, v, ok := strings.Cut(pair, "="); ok {
			out[k] = v
		}
	}
	return out
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
