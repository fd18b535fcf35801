package pbcli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

// Outcome sums up one rule's result from the voters' side.
type Outcome struct {
	Rule     string   `json:"rule"`
	Winners  []string `json:"winners"`
	Cost     int64    `json:"cost"`
	Leftover int64    `json:"leftover"`
	// Satisfaction is the mean number of funded projects a voter approved;
	// CostSatisfaction the mean money spent on projects a voter approved.
	Satisfaction     float64 `json:"satisfaction"`
	CostSatisfaction float64 `json:"cost_satisfaction"`
	// Unrepresented is how many voters approved no funded project.
	Unrepresented int64    `json:"unrepresented"`
	Endowment     *float64 `json:"endowment,omitempty"`
}

// Comparison is `pb compare`'s answer: greedy and MES on one file, and the
// projects only one of them funds.
type Comparison struct {
	Voters     int64    `json:"voters"`
	Budget     int64    `json:"budget"`
	Greedy     Outcome  `json:"greedy"`
	MES        Outcome  `json:"mes"`
	OnlyGreedy []string `json:"only_greedy"`
	OnlyMES    []string `json:"only_mes"`
}

// Compare tallies e by greedy (by votes) and by MES with the options in mes.
func Compare(e tally.Election, mes tally.Options) (*Comparison, error) {
	if e.Kind != "" && e.Kind != tally.Approval {
		return nil, fmt.Errorf("%w: compare needs approval ballots, the file has %s", tally.ErrInvalid, e.Kind)
	}
	g, err := tally.Tally(e, tally.Options{Rule: tally.Greedy, TieBreak: mes.TieBreak})
	if err != nil {
		return nil, err
	}
	m, err := tally.Tally(e, mes)
	if err != nil {
		return nil, err
	}
	c := &Comparison{Voters: int64(len(e.Ballots)), Budget: e.Budget,
		Greedy: outcome(e, g, "greedy"), MES: outcome(e, m, "mes/"+string(m.Completion))}
	c.OnlyGreedy = minus(g.Winners, m.Winners)
	c.OnlyMES = minus(m.Winners, g.Winners)
	return c, nil
}

func outcome(e tally.Election, r *tally.Result, rule string) Outcome {
	o := Outcome{Rule: rule, Winners: r.Winners, Cost: r.Cost, Leftover: r.Leftover}
	if o.Winners == nil {
		o.Winners = []string{}
	}
	if r.Endowment != nil {
		f := r.EndowmentFloat
		o.Endowment = &f
	}
	cost := map[string]int64{}
	for _, p := range e.Projects {
		cost[p.ID] = p.Cost
	}
	won := map[string]bool{}
	for _, w := range r.Winners {
		won[w] = true
	}
	var sat, costSat float64
	for _, b := range e.Ballots {
		k := 0
		for _, p := range b.Projects {
			if won[p] {
				k++
				costSat += float64(cost[p])
			}
		}
		sat += float64(k)
		if k == 0 {
			o.Unrepresented++
		}
	}
	if n := float64(len(e.Ballots)); n > 0 {
		o.Satisfaction, o.CostSatisfaction = sat/n, costSat/n
	}
	return o
}

// minus lists the elements of a not in b, in a's order.
func minus(a, b []string) []string {
	out := []string{}
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func runCompare(args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags("pb compare", args)
	if err != nil {
		return usageErr(stderr, "compare", err.Error())
	}
	if f.set["rule"] {
		return usageErr(stderr, "compare", "--rule does not apply: compare runs greedy and mes")
	}
	in, ok := readFile("compare", f.file, stderr)
	if !ok {
		return ExitUsage
	}
	o := tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1U}
	if err := f.mesOptions(&o); err != nil {
		return usageErr(stderr, "compare", err.Error())
	}
	c, err := Compare(in.Election(), o)
	if err != nil {
		if errors.Is(err, tally.ErrInvalid) {
			return usageErr(stderr, "compare", err.Error())
		}
		fmt.Fprintf(stderr, "pb compare: %v\n", err)
		return ExitError
	}
	if *f.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(c); err != nil {
			fmt.Fprintf(stderr, "pb compare: %v\n", err)
			return ExitError
		}
		return ExitOK
	}
	writeComparison(stdout, in, c)
	return ExitOK
}

func writeComparison(w io.Writer, in *pabulib.Instance, c *Comparison) {
	fmt.Fprintf(w, "%d voters, budget %d\n\n", c.Voters, c.Budget)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	pct := func(n int64) string {
		if c.Voters == 0 {
			return "-"
		}
		return fmt.Sprintf("%d (%.1f%%)", n, 100*float64(n)/float64(c.Voters))
	}
	fmt.Fprintf(tw, "\t%s\t%s\t\n", c.Greedy.Rule, c.MES.Rule)
	fmt.Fprintf(tw, "projects funded\t%d\t%d\t\n", len(c.Greedy.Winners), len(c.MES.Winners))
	fmt.Fprintf(tw, "cost\t%d\t%d\t\n", c.Greedy.Cost, c.MES.Cost)
	fmt.Fprintf(tw, "left over\t%d\t%d\t\n", c.Greedy.Leftover, c.MES.Leftover)
	fmt.Fprintf(tw, "funded projects a voter approved (mean)\t%.3f\t%.3f\t\n", c.Greedy.Satisfaction, c.MES.Satisfaction)
	fmt.Fprintf(tw, "money on projects a voter approved (mean)\t%.0f\t%.0f\t\n", c.Greedy.CostSatisfaction, c.MES.CostSatisfaction)
	fmt.Fprintf(tw, "voters with no funded project\t%s\t%s\t\n", pct(c.Greedy.Unrepresented), pct(c.MES.Unrepresented))
	if c.MES.Endowment != nil {
		fmt.Fprintf(tw, "MES endowment per voter\t\t%.4f\t\n", *c.MES.Endowment)
	}
	tw.Flush()
	info := map[string]pabulib.Project{}
	for _, p := range in.Projects {
		info[p.ID] = p
	}
	list := func(title string, ids []string) {
		fmt.Fprintf(w, "\n%s (%d):\n", title, len(ids))
		for _, id := range ids {
			p := info[id]
			fmt.Fprintf(w, "  %-10s %12d  %s\n", id, p.Cost, p.Name)
		}
	}
	list("funded by greedy only", c.OnlyGreedy)
	list("funded by "+c.MES.Rule+" only", c.OnlyMES)
}
