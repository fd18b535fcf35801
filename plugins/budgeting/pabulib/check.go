package pabulib

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The rules of the official Pabulib checker (github.com/pabulib/checker: its
// fields.py, fields_validations.py and checker.py), restated in Go so that a test can
// run them on every file Kvarter exports. Check reads the file on its own, as the
// checker does, so it checks what was written, not what the writer meant.

// Problem is one broken checker rule.
type Problem struct {
	// Rule is the checker's name for it ("missing meta obligatory field", ...).
	Rule   string
	Detail string
	// Data marks rules about the vote rather than the format: a project nobody
	// voted for, one that costs nothing, money left that a project would fit in.
	// The checker reports them too; a real vote can have them.
	Data bool
}

func (p Problem) String() string { return p.Rule + ": " + p.Detail }

type field struct {
	name       string
	obligatory bool
	kind       byte // 's' text, 'i' integer, 'f' number, 'l' list
	nullable   bool
	check      func(string) string
}

var (
	metaFields = []field{
		{name: "description", obligatory: true}, {name: "country", obligatory: true}, {name: "unit", obligatory: true},
		{name: "district"}, {name: "subunit"}, {name: "instance", obligatory: true},
		{name: "num_projects", obligatory: true, kind: 'i'}, {name: "num_votes", obligatory: true, kind: 'i'},
		{name: "budget", obligatory: true, kind: 'f'},
		{name: "vote_type", obligatory: true, check: oneOf("vote_type", "ordinal", "approval", "cumulative", "choose-1")},
		{name: "rule", obligatory: true},
		{name: "date_begin", obligatory: true, check: dateFormat}, {name: "date_end", obligatory: true, check: dateFormat},
		{name: "min_length", kind: 'i'}, {name: "max_length", kind: 'i'},
		{name: "min_sum_cost", kind: 'f'}, {name: "max_sum_cost", kind: 'f'},
		{name: "min_points", kind: 'i'}, {name: "max_points", kind: 'i'},
		{name: "min_sum_points", kind: 'i'}, {name: "max_sum_points", kind: 'i'},
		{name: "default_score", kind: 'i'}, {name: "min_project_cost", kind: 'i'}, {name: "max_project_cost", kind: 'i'},
		{name: "min_project_score_threshold", kind: 'i'},
		{name: "neighborhoods"}, {name: "subdistricts"}, {name: "categories"}, {name: "edition"},
		{name: "language", check: matches("language", `^[a-z]{2}$`)},
		{name: "currency", check: matches("currency", `^[A-Z]{3}$`)},
		{name: "fully_funded", kind: 'i', check: oneOf("fully_funded", "1")},
		{name: "experimental", kind: 'i', check: oneOf("experimental", "1")},
		{name: "comment", check: func(v string) string {
			if !strings.HasPrefix(v, "#1: ") {
				return "comment should follow the '#1: ' format"
			}
			return ""
		}},
		{name: "acknowledgments"}, {name: "leftover_budget"}, {name: "budget_per_category", kind: 'l'},
		{name: "budget_per_neighborhood", kind: 'l'}, {name: "min_length_per_category", kind: 'i'},
		{name: "max_length_per_category", kind: 'i'}, {name: "min_sum_cost_per_category", kind: 'l'},
		{name: "max_sum_cost_per_category", kind: 'l'},
	}
	projectFields = []field{
		{name: "project_id", obligatory: true}, {name: "cost", obligatory: true, kind: 'f'},
		{name: "votes", kind: 'i'}, {name: "score", kind: 'i'}, {name: "name"},
		{name: "category", kind: 'l', nullable: true}, {name: "beneficiaries", kind: 'l', nullable: true},
		{name: "selected", kind: 'i', check: oneOf("selected", "0", "1", "2", "3")},
		{name: "neighborhood"}, {name: "subunit"}, {name: "district"}, {name: "description"}, {name: "proposer"},
		{name: "public_id"}, {name: "latitude", kind: 'f', nullable: true}, {name: "longitude", kind: 'f', nullable: true},
	}
	voteFields = []field{
		{name: "voter_id", obligatory: true}, {name: "vote", obligatory: true, kind: 'l'}, {name: "points", kind: 'l'},
		{name: "age", nullable: true}, {name: "sex", nullable: true, check: oneOf("sex", "M", "F", "O")},
		{name: "voting_method", check: oneOf("voting_method", "internet", "paper")},
		{name: "district", nullable: true}, {name: "neighborhood", nullable: true}, {name: "education", nullable: true},
	}
	yearOrDate = regexp.MustCompile(`^(\d{4}|\d{2}\.\d{2}\.\d{4})$`)
)

func oneOf(name string, values ...string) func(string) string {
	return func(v string) string {
		if slices.Contains(values, v) {
			return ""
		}
		return fmt.Sprintf("invalid %s %q; valid: %s", name, v, strings.Join(values, ", "))
	}
}

func matches(name, pattern string) func(string) string {
	re := regexp.MustCompile(pattern)
	return func(v string) string {
		if re.MatchString(v) {
			return ""
		}
		return fmt.Sprintf("invalid %s %q", name, v)
	}
}

func dateFormat(v string) string {
	if yearOrDate.MatchString(v) {
		return ""
	}
	return fmt.Sprintf("date %q is neither YYYY nor DD.MM.YYYY", v)
}

// sortableDate turns YYYY or DD.MM.YYYY into YYYY-MM-DD.
func sortableDate(v string) string {
	if len(v) == 4 {
		return v + "-01-01"
	}
	if len(v) == 10 {
		return v[6:] + "-" + v[3:5] + "-" + v[:2]
	}
	return ""
}

type checkedFile struct {
	meta     map[string]string
	metaKeys []string
	pcols    []string
	projects [][]string
	vcols    []string
	votes    [][]string
}

// Check runs the Pabulib checker's rules on a .pb file and returns what it breaks;
// nil when the file passes. Beyond the checker it requires max_sum_points of a
// cumulative file (Pabulib's format page does; the checker does not yet).
func Check(data []byte) []Problem {
	var out []Problem
	add := func(rule, format string, args ...any) {
		out = append(out, Problem{Rule: rule, Detail: fmt.Sprintf(format, args...)})
	}
	addData := func(rule, format string, args ...any) {
		out = append(out, Problem{Rule: rule, Detail: fmt.Sprintf(format, args...), Data: true})
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			add("empty lines", "line %d is empty", i+1)
		}
	}
	f, err := readSections(data)
	if err != nil {
		add("unreadable", "%v", err)
		return out
	}
	checkFields := func(section string, fields []field, cols []string, values map[string]string) {
		names := make([]string, len(fields))
		for i, fd := range fields {
			names[i] = fd.name
			if _, ok := values[fd.name]; fd.obligatory && !ok {
				add("missing "+section+" obligatory field", "missing %s", fd.name)
			}
		}
		last := -1
		for _, c := range cols {
			i := slices.Index(names, c)
			if i < 0 {
				add("not known "+section+" fields", "%s contains not known field %q", section, c)
				continue
			}
			if i < last {
				add("wrong "+section+" fields order", "%s: %v", section, cols)
			}
			last = max(last, i)
			fd, v := fields[i], values[c]
			if v == "" {
				if !fd.nullable {
					add("invalid "+section+" field value", "%s field %q cannot be empty", section, c)
				}
				continue
			}
			switch fd.kind {
			case 'i':
				if _, err := strconv.ParseInt(v, 10, 64); err != nil {
					add("incorrect "+section+" field datatype", "%s field %q: %q is not an integer", section, c, v)
					continue
				}
			case 'f':
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					add("incorrect "+section+" field datatype", "%s field %q: %q is not a number", section, c, v)
					continue
				}
			}
			if fd.check != nil {
				if msg := fd.check(v); msg != "" {
					add("invalid "+section+" field value", "%s", msg)
				}
			}
		}
	}
	checkFields("meta", metaFields, f.metaKeys, f.meta)
	if b, e := sortableDate(f.meta["date_begin"]), sortableDate(f.meta["date_end"]); b != "" && e != "" && b > e {
		add("date range missmatch", "date_end %s is before date_begin %s", e, b)
	}
	if f.meta["vote_type"] == "cumulative" {
		if _, ok := f.meta["max_sum_points"]; !ok {
			add("missing meta obligatory field", "a cumulative file needs max_sum_points")
		}
	}
	row := func(cols, r []string) map[string]string {
		m := make(map[string]string, len(cols))
		for i, c := range cols {
			if i < len(r) {
				m[c] = r[i]
			}
		}
		return m
	}
	if len(f.projects) > 0 {
		checkFields("projects", projectFields, f.pcols, row(f.pcols, f.projects[0]))
	}
	if len(f.votes) > 0 {
		checkFields("votes", voteFields, f.vcols, row(f.vcols, f.votes[0]))
	}
	for _, r := range f.votes {
		if m := row(f.vcols, r); f.vcols != nil && slices.Contains(f.vcols, "voting_method") {
			if msg := oneOf("voting_method", "internet", "paper")(m["voting_method"]); msg != "" {
				add("invalid votes field value", "voter %s: %s", m["voter_id"], msg)
			}
		}
	}
	if n, err := strconv.Atoi(f.meta["num_votes"]); err == nil && n != len(f.votes) {
		add("different number of votes", "META says %d, VOTES has %d", n, len(f.votes))
	}
	if n, err := strconv.Atoi(f.meta["num_projects"]); err == nil && n != len(f.projects) {
		add("different number of projects", "META says %d, PROJECTS has %d", n, len(f.projects))
	}

	// Counts: votes (ballots naming a project) and score (the points column's sum, or
	// without one, k points for the first of k projects a ballot lists, down to 1).
	votes, scores := map[string]int64{}, map[string]int64{}
	maxLen, _ := strconv.Atoi(f.meta["max_length"])
	for _, r := range f.votes {
		m := row(f.vcols, r)
		ids := strings.Split(m["vote"], ",")
		seen := map[string]bool{}
		for j, id := range ids {
			if seen[id] {
				add("vote with duplicated projects", "voter %s names %s twice", m["voter_id"], id)
			}
			seen[id] = true
			votes[id]++
			if _, ok := m["points"]; ok {
				pts := strings.Split(m["points"], ",")
				if j < len(pts) {
					p, err := strconv.ParseInt(pts[j], 10, 64)
					if err != nil {
						add("incorrect votes field datatype", "voter %s: points %q", m["voter_id"], pts[j])
					}
					scores[id] += p
				}
			} else {
				scores[id] += int64(len(ids) - j)
			}
		}
		if maxLen > 0 && len(ids) > maxLen {
			add("vote length exceeded", "voter %s chose %d of at most %d", m["voter_id"], len(ids), maxLen)
		}
	}
	hasVotes, hasScore := slices.Contains(f.pcols, "votes"), slices.Contains(f.pcols, "score")
	if !hasVotes && !hasScore {
		add("No votes or score counted in PROJECTS section", "there should be a votes or a score column")
	}
	budget, _ := strconv.ParseFloat(f.meta["budget"], 64)
	var spent, all float64
	known := map[string]bool{}
	for _, r := range f.projects {
		m := row(f.pcols, r)
		id := m["project_id"]
		known[id] = true
		cost, _ := strconv.ParseFloat(m["cost"], 64)
		all += cost
		if m["selected"] == "1" {
			spent += cost
		}
		switch {
		case cost == 0:
			addData("project with no cost", "project %s costs nothing", id)
		case cost > budget:
			add("single project exceeded whole budget", "project %s costs %v of a budget of %v", id, cost, budget)
		}
		if hasVotes {
			if v, _ := strconv.ParseInt(m["votes"], 10, 64); v != votes[id] {
				add("different values in votes", "project %s: file %d, counted %d", id, v, votes[id])
			} else if v == 0 {
				addData("project with no votes", "project %s", id)
			}
		}
		if hasScore {
			if s, _ := strconv.ParseInt(m["score"], 10, 64); s != scores[id] {
				add("different values in scores", "project %s: file %d, counted %d", id, s, scores[id])
			}
		}
	}
	for id := range votes {
		if !known[id] {
			add("different values in votes", "a vote names project %s, which PROJECTS does not list", id)
		}
	}
	if spent > budget {
		add("budget exceeded", "selected projects cost %v of a budget of %v", spent, budget)
	}
	if f.meta["fully_funded"] != "1" && budget > all {
		add("all projects funded", "the budget %v covers every project (%v); say fully_funded", budget, all)
	}
	if slices.Contains(f.pcols, "selected") && f.meta["fully_funded"] != "1" {
		for _, r := range f.projects {
			m := row(f.pcols, r)
			if cost, _ := strconv.ParseFloat(m["cost"], 64); m["selected"] == "0" && cost < budget-spent {
				addData("unused budget", "project %s would fit in the money left", m["project_id"])
			}
		}
	}
	return out
}

// readSections splits a file into its META pairs, PROJECTS and VOTES rows, reading
// fields as CSV with ';' (quoted fields may hold separators and line breaks).
func readSections(data []byte) (*checkedFile, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma, r.FieldsPerRecord = ';', -1
	f := &checkedFile{meta: map[string]string{}}
	section, header := "", false
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return nil, err
		}
		if len(rec) == 1 && (rec[0] == "META" || rec[0] == "PROJECTS" || rec[0] == "VOTES") {
			section, header = rec[0], true
			continue
		}
		if header {
			header = false
			switch section {
			case "PROJECTS":
				f.pcols = rec
			case "VOTES":
				f.vcols = rec
			}
			continue
		}
		switch section {
		case "META":
			if len(rec) != 2 {
				return nil, fmt.Errorf("META row %v is not a key and a value", rec)
			}
			f.meta[rec[0]] = rec[1]
			f.metaKeys = append(f.metaKeys, rec[0])
		case "PROJECTS":
			f.projects = append(f.projects, rec)
		case "VOTES":
			f.votes = append(f.votes, rec)
		default:
			return nil, fmt.Errorf("row %v before META", rec)
		}
	}
}
