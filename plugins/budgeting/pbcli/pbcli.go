// Package pbcli is the `pb` command line: tally a Pabulib file by a chosen
// rule. The kvarter binary calls Run for `kvarter pb ...`; it lives here so
// that it shares the budgeting plugin's parser and tally engine.
package pbcli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // the tally itself failed
	ExitUsage = 2 // bad arguments or an unreadable/malformed file
)

const usage = `usage: pb tally FILE.pb [--rule greedy|greedy-no-skip|greedy-threshold|mes]
                [--completion none|add1|add1u] [--no-exhaustive-stop]
                [--tie-break min-cost,max-votes] [--increment N] [--format text|json]

Without --rule, the rule named in the file's META is used.`

// Run executes `pb` with args (args[0] is the subcommand) and returns the
// process exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "tally" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(stdout, usage)
			return ExitOK
		}
		fmt.Fprintln(stderr, usage)
		return ExitUsage
	}
	return runTally(args[1:], stdout, stderr)
}

func runTally(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pb tally", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	rule := fs.String("rule", "", "")
	completion := fs.String("completion", "", "")
	noStop := fs.Bool("no-exhaustive-stop", false, "")
	tieBreak := fs.String("tie-break", "", "")
	increment := fs.Int64("increment", 0, "")
	format := fs.String("format", "text", "")
	// Go's flag package stops at the first non-flag, so accept the file
	// anywhere by parsing the pieces around it.
	var files []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return usageErr(stderr, err.Error())
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		return usageErr(stderr, fmt.Sprintf("want exactly one FILE.pb, got %d", len(files)))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *format != "text" && *format != "json" {
		return usageErr(stderr, fmt.Sprintf("unknown --format %q", *format))
	}

	data, err := os.ReadFile(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "pb tally: %v\n", err)
		return ExitUsage
	}
	in, err := pabulib.ParseBytes(data)
	if err != nil {
		fmt.Fprintf(stderr, "pb tally: %s: %v\n", files[0], err)
		return ExitUsage
	}

	var o tally.Options
	if set["rule"] {
		switch r := tally.Rule(*rule); r {
		case tally.Greedy, tally.GreedyNoSkip, tally.GreedyThreshold, tally.MES:
			o.Rule = r
		default:
			return usageErr(stderr, fmt.Sprintf("unknown --rule %q", *rule))
		}
		if o.Rule == tally.GreedyThreshold && in.MinProjectScoreThreshold != nil {
			o.Threshold = *in.MinProjectScoreThreshold
		}
	} else {
		o, err = in.Options()
		if err != nil {
			return usageErr(stderr, fmt.Sprintf("%s: %v; pass --rule", files[0], err))
		}
	}
	if set["completion"] {
		if o.Rule != tally.MES {
			return usageErr(stderr, "--completion applies to --rule mes only")
		}
		switch c := tally.Completion(*completion); c {
		case tally.CompletionNone, tally.CompletionAdd1, tally.CompletionAdd1U:
			o.Completion = c
		default:
			return usageErr(stderr, fmt.Sprintf("unknown --completion %q", *completion))
		}
	}
	if (set["no-exhaustive-stop"] || set["increment"]) && o.Rule != tally.MES {
		return usageErr(stderr, "--no-exhaustive-stop and --increment apply to --rule mes only")
	}
	o.NoExhaustiveStop = *noStop
	if set["increment"] {
		if *increment <= 0 {
			return usageErr(stderr, "--increment must be a positive whole number")
		}
		o.Increment = *increment
	}
	if set["tie-break"] {
		chain, err := tally.ParseTieBreak(*tieBreak)
		if err != nil {
			return usageErr(stderr, err.Error())
		}
		o.TieBreak = chain
	}

	res, err := tally.Tally(in.Election(), o)
	if err != nil {
		if errors.Is(err, tally.ErrInvalid) {
			return usageErr(stderr, err.Error())
		}
		fmt.Fprintf(stderr, "pb tally: %v\n", err)
		return ExitError
	}
	if *format == "json" {
		return writeJSON(stdout, stderr, res)
	}
	writeText(stdout, in, res, o)
	return ExitOK
}

func usageErr(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "pb tally: %s\n%s\n", msg, usage)
	return ExitUsage
}

// jsonResult is the documented JSON shape; endowment only for MES.
type jsonResult struct {
	Winners   []string    `json:"winners"`
	Cost      int64       `json:"cost"`
	Budget    int64       `json:"budget"`
	Endowment *float64    `json:"endowment,omitempty"`
	Ties      []tally.Tie `json:"ties"`
}

func writeJSON(stdout, stderr io.Writer, res *tally.Result) int {
	out := jsonResult{Winners: res.Winners, Cost: res.Cost, Budget: res.Budget, Ties: res.Ties}
	if out.Winners == nil {
		out.Winners = []string{}
	}
	if out.Ties == nil {
		out.Ties = []tally.Tie{}
	}
	if res.Endowment != nil {
		e := res.EndowmentFloat
		out.Endowment = &e
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(stderr, "pb tally: %v\n", err)
		return ExitError
	}
	return ExitOK
}

func writeText(w io.Writer, in *pabulib.Instance, res *tally.Result, o tally.Options) {
	names := map[string]string{}
	for _, p := range in.Projects {
		names[p.ID] = p.Name
	}
	costs := map[string]int64{}
	for _, p := range in.Projects {
		costs[p.ID] = p.Cost
	}
	rule := string(res.Rule)
	if res.Rule == tally.MES {
		rule += "/" + string(res.Completion)
	}
	fmt.Fprintf(w, "rule: %s\n", rule)
	fmt.Fprintf(w, "budget: %d  cost: %d  leftover: %d\n", res.Budget, res.Cost, res.Leftover)
	if res.Endowment != nil {
		fmt.Fprintf(w, "endowment per voter: %s (%s)\n", res.Endowment.FloatString(4), res.Endowment.String())
	}
	fmt.Fprintf(w, "winners (%d, in selection order):\n", len(res.Winners))
	for i, id := range res.Winners {
		fmt.Fprintf(w, "%4d. %-10s %12d  %6d votes  %s\n", i+1, id, costs[id], res.Votes[id], names[id])
	}
	for _, t := range res.Ties {
		kind := "not decisive"
		if t.Decisive {
			kind = "DECISIVE"
		}
		fmt.Fprintf(w, "tie (%s, %s step %d): %s; took %s\n", kind, t.Phase, t.Step, strings.Join(t.Projects, ", "), t.Chosen)
	}
	fmt.Fprintf(w, "\n%s\n", tally.Explain(o))
}
