// Package pabulib reads and writes participatory-budgeting instances in the
// Pabulib .pb format (pabulib.org), the de-facto exchange format for PB data.
//
// A file has three sections, META, PROJECTS and VOTES, each starting with a
// header row. Rows are ';'-separated with CSV quoting, lines end in LF or CRLF.
// Parse turns a file into an Instance; Write turns an Instance back into a
// file that Parse reads to an equal Instance (used to export anonymised
// ballots).
//
// Money is represented as int64 whole currency units. Pabulib files sometimes
// write costs and budgets as decimals ("400000.0"), but never with a non-zero
// fractional part in practice; such a value is rejected with an error instead
// of being rounded, because a silently rounded cost could change a result.
// The same holds for points, vote counts and score thresholds.
//
// Amounts have a documented range: the budget and every cost are at most
// MaxAmount whole units, points lie within ±MaxPoints. Larger values are
// refused with the line, not stored: a program that keeps money in minor units
// (cents, multiplying by up to 1000) or sums the costs must never overflow
// int64 and wrap a huge cost into a cheap one.
package pabulib

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The ranges of amounts the parser accepts.
const (
	// MaxAmount bounds the budget and each cost, in whole currency units: a
	// trillion, a thousand times the largest participatory budget on record,
	// and small enough that amounts in thousandths still add up within int64.
	MaxAmount = 1_000_000_000_000
	// MaxPoints bounds the absolute value of a cumulative or scoring point
	// count, so that the points of millions of ballots still add up.
	MaxPoints = 1_000_000_000
)

// Vote types named by the META key vote_type.
const (
	VoteApproval   = "approval"
	VoteCumulative = "cumulative"
	VoteOrdinal    = "ordinal"
	VoteChoose1    = "choose-1"
	VoteScoring    = "scoring"
)

// Selected records the official outcome for a project when the file has a
// selected column. It is tri-state because "no column" (unknown) must not be
// confused with "not selected".
type Selected int8

// The values of Selected.
const (
	SelectedUnknown Selected = iota // the file has no selected column
	SelectedNo                      // selected = 0
	SelectedYes                     // selected = 1
)

// Instance is one parsed .pb file.
type Instance struct {
	// Meta holds every META key verbatim, including the typed ones below.
	Meta map[string]string
	// MetaKeys is the order of the META keys in the file, kept so Write
	// reproduces it.
	MetaKeys []string

	// Budget is META budget in whole currency units.
	Budget int64
	// VoteType is META vote_type (approval when absent, as Pabulib defaults).
	VoteType string
	// Rule is META rule as written (e.g. "greedy", "equalshares/add1"); empty
	// when absent.
	Rule string

	// Optional numeric META constraints; nil when the key is absent.
	MinLength                *int64
	MaxLength                *int64
	MinPoints                *int64
	MaxPoints                *int64
	MinSumPoints             *int64
	MaxSumPoints             *int64
	MinProjectScoreThreshold *int64

	// ProjectColumns and VoteColumns are the header rows of PROJECTS and
	// VOTES in file order.
	ProjectColumns []string
	VoteColumns    []string

	Projects []Project
	Votes    []Vote
}

// Project is one row of PROJECTS.
type Project struct {
	ID   string
	Cost int64
	// Votes and Score are the file's own counts; nil when the column is
	// absent. Tallies recompute them from the ballots.
	Votes *int64
	Score *int64
	Name  string
	// Selected is the official outcome, when the file records it.
	Selected Selected
	// Extra holds the other columns, keyed by column name.
	Extra map[string]string
}

// Vote is one row of VOTES.
type Vote struct {
	VoterID string
	// Projects is the vote list in file order; for ordinal ballots the order
	// is the ranking.
	Projects []string
	// Points is parallel to Projects; nil when the file has no points column.
	Points []int64
	// Extra holds the other columns (age, sex, voting_method, ...) in the order
	// of Instance.VoteColumns minus voter_id, vote and points. Kept as a slice,
	// not a map, because large files have ~100k votes.
	Extra []string
}

// ExtraVoteColumns returns the names of the VOTES columns held in Vote.Extra,
// in order.
func (in *Instance) ExtraVoteColumns() []string {
	return in.ExtraVoteColumnsOf(in.VoteColumns)
}

// ParseError is a malformed-input error that names the line.
type ParseError struct {
	Line int    // 1-based line number
	Msg  string // what is wrong
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func errf(line int, format string, args ...any) error {
	return &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// parseWhole parses a non-negative-or-signed decimal that must be a whole
// number ("400000", "400000.0", "400000.00"). Exponents are rejected: no
// Pabulib file uses them and accepting them would hide typos.
func parseWhole(s string, allowNegative bool) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty number")
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if hasDot {
		if frac == "" && intPart == "" {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		for _, r := range frac {
			if r < '0' || r > '9' {
				return 0, fmt.Errorf("%q is not a number", s)
			}
			if r != '0' {
				return 0, fmt.Errorf("%q has a fractional part; amounts must be whole units", s)
			}
		}
	}
	if intPart == "" || intPart == "-" || intPart == "+" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	for i, r := range intPart {
		if (r == '-' || r == '+') && i == 0 {
			continue
		}
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not a number", s)
		}
	}
	v, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	if v < 0 && !allowNegative {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return v, nil
}

// formatWhole is the inverse of parseWhole.
func formatWhole(v int64) string { return strconv.FormatInt(v, 10) }
