package pabulib

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Write exports in as a .pb file with LF line endings. Column and META key
// order follow in.ProjectColumns, in.VoteColumns and in.MetaKeys when set, so
// a parsed file round-trips; otherwise a conventional order is used. Typed
// fields win over in.Meta when they disagree, so callers may edit Budget and
// friends directly.
func Write(w io.Writer, in *Instance) error {
	bw := bufio.NewWriter(w)
	if err := writeMeta(bw, in); err != nil {
		return err
	}
	if err := writeProjects(bw, in); err != nil {
		return err
	}
	if err := writeVotes(bw, in); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write pabulib file: %w", err)
	}
	return nil
}

// quote applies CSV quoting when a field would otherwise be misread.
func quote(s string) string {
	if s == "" || !strings.ContainsAny(s, ";\"\r\n") && strings.TrimSpace(s) == s {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func writeRow(w *bufio.Writer, fields ...string) {
	for i, f := range fields {
		if i > 0 {
			w.WriteByte(';')
		}
		w.WriteString(quote(f))
	}
	w.WriteByte('\n')
}

func typedMeta(in *Instance) map[string]string {
	typed := map[string]string{"budget": formatWhole(in.Budget)}
	if _, inFile := in.Meta["vote_type"]; inFile || in.VoteType != "" && in.VoteType != VoteApproval {
		typed["vote_type"] = in.VoteType
	}
	if in.Rule != "" {
		typed["rule"] = in.Rule
	}
	for key, v := range map[string]*int64{
		"min_length": in.MinLength, "max_length": in.MaxLength,
		"min_points": in.MinPoints, "max_points": in.MaxPoints,
		"min_sum_points": in.MinSumPoints, "max_sum_points": in.MaxSumPoints,
		"min_project_score_threshold": in.MinProjectScoreThreshold,
	} {
		if v != nil {
			typed[key] = formatWhole(*v)
		}
	}
	return typed
}

func writeMeta(w *bufio.Writer, in *Instance) error {
	typed := typedMeta(in)
	keys := append([]string(nil), in.MetaKeys...)
	have := map[string]bool{}
	for _, k := range keys {
		have[k] = true
	}
	var missing []string
	for k := range in.Meta {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	for k := range typed {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		if !have[k] {
			have[k] = true
			keys = append(keys, k)
		}
	}
	w.WriteString("META\n")
	writeRow(w, "key", "value")
	for _, k := range keys {
		if strings.ContainsAny(k, ";\r\n") {
			return fmt.Errorf("write pabulib file: META key %q contains a separator", k)
		}
		v := in.Meta[k]
		if t, isTyped := typed[k]; isTyped {
			if k == "vote_type" || k == "rule" {
				v = t
			} else if n, err := parseWhole(v, true); err != nil || formatWhole(n) != t {
				// keep the file's spelling ("400000.0") only when it means the same
				v = t
			}
		}
		writeRow(w, k, v)
	}
	return nil
}

func writeProjects(w *bufio.Writer, in *Instance) error {
	cols := in.ProjectColumns
	if len(cols) == 0 {
		cols = defaultProjectColumns(in)
	}
	w.WriteString("PROJECTS\n")
	writeRow(w, cols...)
	row := make([]string, len(cols))
	for _, p := range in.Projects {
		if p.ID == "" || strings.ContainsAny(p.ID, ",;\"\r\n") {
			return fmt.Errorf("write pabulib file: invalid project id %q", p.ID)
		}
		if p.Cost < 0 {
			return fmt.Errorf("write pabulib file: project %s has negative cost", p.ID)
		}
		for i, c := range cols {
			switch c {
			case "project_id":
				row[i] = p.ID
			case "cost":
				row[i] = formatWhole(p.Cost)
			case "votes":
				row[i] = optWhole(p.Votes)
			case "score":
				row[i] = optWhole(p.Score)
			case "name":
				row[i] = p.Name
			case "selected":
				switch p.Selected {
				case SelectedYes:
					row[i] = "1"
				case SelectedNo:
					row[i] = "0"
				default:
					row[i] = ""
				}
			default:
				row[i] = p.Extra[c]
			}
		}
		writeRow(w, row...)
	}
	return nil
}

func optWhole(v *int64) string {
	if v == nil {
		return ""
	}
	return formatWhole(*v)
}

func defaultProjectColumns(in *Instance) []string {
	cols := []string{"project_id", "cost"}
	var votes, score, name, sel bool
	extra := map[string]bool{}
	for _, p := range in.Projects {
		votes = votes || p.Votes != nil
		score = score || p.Score != nil
		name = name || p.Name != ""
		sel = sel || p.Selected != SelectedUnknown
		for k := range p.Extra {
			extra[k] = true
		}
	}
	for _, c := range []struct {
		on   bool
		name string
	}{{votes, "votes"}, {score, "score"}, {name, "name"}, {sel, "selected"}} {
		if c.on {
			cols = append(cols, c.name)
		}
	}
	var ks []string
	for k := range extra {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return append(cols, ks...)
}

func writeVotes(w *bufio.Writer, in *Instance) error {
	cols := in.VoteColumns
	if len(cols) == 0 {
		cols = []string{"voter_id", "vote"}
		for _, v := range in.Votes {
			if v.Points != nil {
				cols = append(cols, "points")
				break
			}
		}
	}
	extraIx := map[string]int{}
	for i, c := range in.ExtraVoteColumnsOf(cols) {
		extraIx[c] = i
	}
	w.WriteString("VOTES\n")
	writeRow(w, cols...)
	row := make([]string, len(cols))
	for _, v := range in.Votes {
		if v.VoterID == "" {
			return fmt.Errorf("write pabulib file: vote with empty voter_id")
		}
		if v.Points != nil && len(v.Points) != len(v.Projects) {
			return fmt.Errorf("write pabulib file: voter %s has %d projects but %d points", v.VoterID, len(v.Projects), len(v.Points))
		}
		for i, c := range cols {
			switch c {
			case "voter_id":
				row[i] = v.VoterID
			case "vote":
				row[i] = strings.Join(v.Projects, ",")
			case "points":
				parts := make([]string, len(v.Points))
				for j, n := range v.Points {
					parts[j] = strconv.FormatInt(n, 10)
				}
				row[i] = strings.Join(parts, ",")
			default:
				if j := extraIx[c]; j < len(v.Extra) {
					row[i] = v.Extra[j]
				} else {
					row[i] = ""
				}
			}
		}
		writeRow(w, row...)
	}
	return nil
}

// ExtraVoteColumnsOf returns the columns of cols that Vote.Extra holds.
func (in *Instance) ExtraVoteColumnsOf(cols []string) []string {
	var out []string
	for _, c := range cols {
		switch c {
		case "voter_id", "vote", "points":
		default:
			out = append(out, c)
		}
	}
	return out
}
