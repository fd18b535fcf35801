// Package computetool reads testdata/pabulib/equalshares_compute_tool.jsonl:
// what the equalshares.net compute tool answered on Pabulib files, one line per
// file and parameter set (the file's README explains each parameter). The
// tally, pbcli and plugin tests check Kvarter against it.
package computetool

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

// Case is one line: a file, the tool's parameters and its outcome.
type Case struct {
	File   string `json:"file"`
	Params struct {
		TieBreaking []string `json:"tieBreaking"`
		Completion  string   `json:"completion"`
		Add1Options []string `json:"add1options"`
		Increment   int64    `json:"increment"`
	} `json:"params"`
	Winners   []string `json:"mes_winners"`
	Cost      int64    `json:"mes_cost"`
	Endowment float64  `json:"endowment"`
}

// Read reads every case of the JSONL file at path.
func Read(path string) ([]Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cases []Case
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c Case
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, len(cases)+1, err)
		}
		cases = append(cases, c)
	}
	return cases, sc.Err()
}

// Exhaustive and Integral are the add1 options the case names.
func (c Case) Exhaustive() bool { return slices.Contains(c.Params.Add1Options, "exhaustive") }

// Integral is true when the case starts add1 at floor(budget/n).
func (c Case) Integral() bool { return slices.Contains(c.Params.Add1Options, "integral") }

// Options maps the tool's parameters to tally options; an error names a
// parameter Kvarter's tests do not map.
func (c Case) Options() (tally.Options, error) {
	if !slices.Equal(c.Params.TieBreaking, []string{"minCost", "maxVotes"}) {
		return tally.Options{}, fmt.Errorf("tie-breaking %v not mapped", c.Params.TieBreaking)
	}
	return tally.Options{Rule: tally.MES, Completion: tally.Completion(c.Params.Completion),
		Increment: c.Params.Increment, TieBreak: []tally.TieKey{tally.MinCost, tally.MaxVotes},
		NoExhaustiveStop: !c.Exhaustive(), NoIntegral: !c.Integral()}, nil
}

// Name identifies the case in a test's name.
func (c Case) Name() string {
	return strings.TrimSuffix(c.File, ".pb") + "/" + c.Params.Completion + "/" + strings.Join(c.Params.Add1Options, "+")
}
