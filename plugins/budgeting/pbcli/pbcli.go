// Package pbcli is the `pb` command line: tally a Pabulib file by a chosen
// rule, or compare greedy with the Method of Equal Shares on it. The kvarter
// binary calls Run for `kvarter pb ...`; it lives here so that it shares the
// budgeting plugin's parser and tally engine.
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
                [--completion none|add1|add1u] [--no-exhaustive-stop] [--no-integral]
                [--tie-break min-cost,max-votes] [--increment N] [--format text|json]
       pb compare FILE.pb [--completion none|add1|add1u] [--no-exhaustive-stop] [--no-integral]
                [--tie-break min-cost,max-votes] [--increment N] [--format text|json]

tally: without --rule, the rule named in the file's META is used. MES's add1
completion starts from floor(budget/voters) whole units per voter, as
equalshares.net does; --no-integral starts from budget/voters exactly.
compare: greedy (by votes) and MES (add1u unless --completion says otherwise)
side by side: costs, voters' satisfaction, and the projects only one selects.`

// Run executes `pb` with args (args[0] is the subcommand) and returns the
// process exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "tally":
			return runTally(args[1:], stdout, stderr)
		case "compare":
			return runCompare(args[1:], stdout, stderr)
		case "-h", "--help", "help":
			fmt.Fprintln(stdout, usage)
			return ExitOK
		}
	}
	fmt.Fprintln(stderr, usage)
	return ExitUsage
}

// flags are the options tally and compare share.
type flags struct {
	fs         *flag.FlagSet
	rule       *string
	completion *string
	noStop     *bool
	noIntegral *bool
	tieBreak   *string
	increment  *int64
	format     *string
	set        map[string]bool
	file       string
}

// parseFlags reads args with the file anywhere among them (Go's flag package
// stops at the first non-flag, so the pieces around it are parsed in turn).
func parseFlags(name string, args []string) (*flags, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &flags{fs: fs,
		rule:       fs.String("rule", "", ""),
		completion: fs.String("completion", "", ""),
		noStop:     fs.Bool("no-exhaustive-stop", false, ""),
		noIntegral: fs.Bool("no-integral", false, ""),
		tieBreak:   fs.String("tie-break", "", ""),
		increment:  fs.Int64("increment", 0, ""),
		format:     fs.String("format", "text", ""),
		set:        map[string]bool{},
	}
	var files []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		return nil, fmt.Errorf("want exactly one FILE.pb, got %d", len(files))
	}
	f.file = files[0]
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if *f.format != "text" && *f.format != "json" {
		return nil, fmt.Errorf("unknown --format %q", *f.format)
	}
	return f, nil
}

// mesOptions applies the MES flags to o, whose rule is already chosen.
func (f *flags) mesOptions(o *tally.Options) error {
	if f.set["completion"] {
		if o.Rule != tally.MES {
			return errors.New("--completion applies to --rule mes only")
		}
		switch c := tally.Completion(*f.completion); c {
		case tally.CompletionNone, tally.CompletionAdd1, tally.CompletionAdd1U:
			o.Completion = c
		default:
			return fmt.Errorf("unknown --completion %q", *f.completion)
		}
	}
	if (f.set["no-exhaustive-stop"] || f.set["increment"] || f.set["no-integral"]) && o.Rule != tally.MES {
		return errors.New("--no-exhaustive-stop, --no-integral and --increment apply to --rule mes only")
	}
	o.NoExhaustiveStop = *f.noStop
	o.NoIntegral = *f.noIntegral
	if f.set["increment"] {
		if *f.increment <= 0 {
			return errors.New("--increment must be a positive whole number")
		}
		o.Increment = *f.increment
	}
	if f.set["tie-break"] {
		chain, err := tally.ParseTieBreak(*f.tieBreak)
		if err != nil {
			return err
		}
		o.TieBreak = chain
	}
	return nil
}

// readFile parses the file named on the command line.
func readFile(cmd, path string, stderr io.Writer) (*pabulib.Instance, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "pb %s: %v\n", cmd, err)
		return nil, false
	}
	in, err := pabulib.ParseBytes(data)
	if err != nil {
		fmt.Fprintf(stderr, "pb %s: %s: %v\n", cmd, path, err)
		return nil, false
	}
	return in, true
}

func runTally(args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags("pb tally", args)
	if err != nil {
		return usageErr(stderr, "tally", err.Error())
	}
	in, ok := readFile("tally", f.file, stderr)
	if !ok {
		return ExitUsage
	}
	var o tally.Options
	if f.set["rule"] {
		switch r := tally.Rule(*f.rule); r {
		case tally.Greedy, tally.GreedyNoSkip, tally.GreedyThreshold, tally.MES:
			o.Rule = r
		default:
			return usageErr(stderr, "tally", fmt.Sprintf("unknown --rule %q", *f.rule))
		}
		if o.Rule == tally.GreedyThreshold && in.MinProjectScoreThreshold != nil {
			o.Threshold = *in.MinProjectScoreThreshold
		}
	} else {
		o, err = in.Options()
		if err != nil {
			return usageErr(stderr, "tally", fmt.Sprintf("%s: %v; pass --rule", f.file, err))
		}
	}
	if err := f.mesOptions(&o); err != nil {
		return usageErr(stderr, "tally", err.Error())
	}
	res, err := tally.Tally(in.Election(), o)
	if err != nil {
		if errors.Is(err, tally.ErrInvalid) {
			return usageErr(stderr, "tally", err.Error())
		}
		fmt.Fprintf(stderr, "pb tally: %v\n", err)
		return ExitError
	}
	if *f.format == "json" {
		return writeJSON(stdout, stderr, res)
	}
	writeText(stdout, in, res, o)
	return ExitOK
}

func usageErr(stderr io.Writer, cmd, msg string) int {
	fmt.Fprintf(stderr, "pb %s: %s\n%s\n", cmd, msg, usage)
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
	if res.Completion == tally.CompletionAdd1 || res.Completion == tally.CompletionAdd1U {
		start := "budget/voters"
		if res.Integral {
			start = "floor(budget/voters), whole units (integral)"
		}
		fmt.Fprintf(w, "add1: from %s, +%d per voter, exhaustive stop %v\n", start, res.Increment, res.ExhaustiveStop)
	}
	fmt.Fprintf(w, "winners (%d, in selection order):\n", len(res.Winners))
	for i, id := range res.Winners {
		fmt.Fprintf(w, "%4d. %-10s %12d  %6d votes  %s\n", i+1, id, costs[id], res.Votes[id], names[id])
	}
	if len(res.Purchases) > 0 {
		fmt.Fprintf(w, "what supporters paid (MES):\n")
		for _, p := range res.Purchases {
			fmt.Fprintf(w, "%4d. %-10s %6d voters paid %.2f each", p.Step, p.Project, p.PaidPrice, p.Price)
			if p.PaidAll > 0 {
				fmt.Fprintf(w, ", %d paid all they had left", p.PaidAll)
			}
			fmt.Fprintln(w)
		}
		if len(res.Completed) > 0 {
			fmt.Fprintf(w, "added by the completion (by votes, in the money left): %s\n", strings.Join(res.Completed, ", "))
		}
		fmt.Fprintf(w, "not bought by MES (supporters' money left vs cost):\n")
		for _, s := range res.Shortfalls {
			fmt.Fprintf(w, "      %-10s %14.2f of %d\n", s.Project, s.Money, s.Cost)
		}
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
