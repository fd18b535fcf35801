package pabulib

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

type section int

const (
	secNone section = iota
	secMeta
	secProjects
	secVotes
)

var sectionNames = map[string]section{"META": secMeta, "PROJECTS": secProjects, "VOTES": secVotes}

// Parse reads a whole .pb file. Malformed input gives a *ParseError naming
// the line.
func Parse(r io.Reader) (*Instance, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read pabulib file: %w", err)
	}
	return ParseBytes(data)
}

// ParseBytes is Parse over a byte slice.
func ParseBytes(data []byte) (*Instance, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // spreadsheet exports add a BOM
	p := parser{src: string(data), in: &Instance{Meta: map[string]string{}}}
	return p.run()
}

type parser struct {
	src  string
	pos  int
	line int // line number of the last physical line read

	in      *Instance
	sec     section
	seen    [4]bool
	secLine [4]int
	header  bool // the next row is the section's header row

	metaLine    map[string]int
	projIndex   map[string]int
	projCol     []string
	voteCol     []string
	voterIDs    map[string]struct{}
	colVote     int
	colPoints   int
	colVoterID  int
	extraVoteIx []int

	// Large files have ~100k votes; carving their small slices out of shared
	// chunks instead of one allocation each halves parse time.
	fieldBuf  []string
	fieldBuf2 []string
	strChunk  []string
	numChunk  []int64
}

// splitInto appends the sep-separated parts of s to dst.
func splitInto(dst []string, s string, sep byte) []string {
	for {
		i := strings.IndexByte(s, sep)
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
}

const chunk = 8192

func (p *parser) strings(n int) []string {
	if n > chunk/4 {
		return make([]string, n)
	}
	if len(p.strChunk) < n {
		p.strChunk = make([]string, chunk)
	}
	out := p.strChunk[:n:n]
	p.strChunk = p.strChunk[n:]
	return out
}

func (p *parser) ints(n int) []int64 {
	if n > chunk/4 {
		return make([]int64, n)
	}
	if len(p.numChunk) < n {
		p.numChunk = make([]int64, chunk)
	}
	out := p.numChunk[:n:n]
	p.numChunk = p.numChunk[n:]
	return out
}

// nextLine returns the next physical line without its terminator.
func (p *parser) nextLine() (string, bool) {
	if p.pos >= len(p.src) {
		return "", false
	}
	p.line++
	rest := p.src[p.pos:]
	i := strings.IndexByte(rest, '\n')
	var l string
	if i < 0 {
		l = rest
		p.pos = len(p.src)
	} else {
		l = rest[:i]
		p.pos += i + 1
	}
	return strings.TrimSuffix(l, "\r"), true
}

// nextRecord returns the next non-blank record split into fields, joining
// physical lines when a quoted field spans them. line is where it starts.
func (p *parser) nextRecord() (fields []string, line int, ok bool, err error) {
	for {
		l, more := p.nextLine()
		if !more {
			return nil, 0, false, nil
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		start := p.line
		if !strings.Contains(l, `"`) {
			p.fieldBuf = splitInto(p.fieldBuf[:0], l, ';')
			return p.fieldBuf, start, true, nil
		}
		for {
			f, complete := splitQuoted(l)
			if complete {
				return f, start, true, nil
			}
			next, more := p.nextLine()
			if !more {
				return nil, start, false, errf(start, "unterminated quoted field")
			}
			l += "\n" + next
		}
	}
}

// splitQuoted splits a ';'-separated record with CSV quoting. complete is
// false when a quoted field is still open at the end of s.
func splitQuoted(s string) (fields []string, complete bool) {
	var b strings.Builder
	i := 0
	for {
		fieldStart := i
		if i < len(s) && s[i] == '"' {
			b.Reset()
			i++
			for {
				j := strings.IndexByte(s[i:], '"')
				if j < 0 {
					return nil, false
				}
				b.WriteString(s[i : i+j])
				i += j + 1
				if i < len(s) && s[i] == '"' { // "" is an escaped quote
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			if i == len(s) {
				return append(fields, b.String()), true
			}
			if s[i] == ';' {
				fields = append(fields, b.String())
				i++
				continue
			}
			// Text after the closing quote (`"Odkupmy" i my`, seen in real
			// files) means the quote was part of the text: take the field
			// verbatim up to the next separator, as a person would read it.
			i = fieldStart
		}
		j := strings.IndexByte(s[i:], ';')
		if j < 0 {
			fields = append(fields, s[i:])
			return fields, true
		}
		fields = append(fields, s[i:i+j])
		i += j + 1
	}
}

func isSectionLike(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && r != '_' {
			return false
		}
	}
	return true
}

func (p *parser) run() (*Instance, error) {
	for {
		fields, line, ok, err := p.nextRecord()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if len(fields) == 1 {
			name := strings.TrimSpace(fields[0])
			if s, known := sectionNames[name]; known {
				if err := p.enter(s, name, line); err != nil {
					return nil, err
				}
				continue
			}
			if isSectionLike(name) {
				return nil, errf(line, "unknown section %q (want META, PROJECTS or VOTES)", name)
			}
		}
		if p.sec == secNone {
			return nil, errf(line, "expected section header META, got %q", strings.Join(fields, ";"))
		}
		if p.header {
			p.header = false
			if err := p.readHeader(fields, line); err != nil {
				return nil, err
			}
			continue
		}
		switch p.sec {
		case secMeta:
			err = p.metaRow(fields, line)
		case secProjects:
			err = p.projectRow(fields, line)
		case secVotes:
			err = p.voteRow(fields, line)
		}
		if err != nil {
			return nil, err
		}
	}
	end := p.line + 1
	for _, s := range []struct {
		sec  section
		name string
	}{{secMeta, "META"}, {secProjects, "PROJECTS"}, {secVotes, "VOTES"}} {
		if !p.seen[s.sec] {
			return nil, errf(end, "missing %s section", s.name)
		}
	}
	if p.header {
		return nil, errf(end, "section has no header row")
	}
	if _, ok := p.in.Meta["budget"]; !ok {
		return nil, errf(p.secLine[secMeta], "META has no budget")
	}
	if p.in.VoteType == "" {
		p.in.VoteType = VoteApproval
	}
	return p.in, nil
}

func (p *parser) enter(s section, name string, line int) error {
	if p.seen[s] {
		return errf(line, "duplicate section %s", name)
	}
	if p.header {
		return errf(line, "section before it has no header row")
	}
	want := p.sec + 1
	if s != want {
		order := []string{"", "META", "PROJECTS", "VOTES"}
		return errf(line, "section %s out of order (expected %s)", name, order[want])
	}
	p.sec, p.seen[s], p.secLine[s], p.header = s, true, line, true
	return nil
}

func columnIndex(cols []string, name string) int {
	for i, c := range cols {
		if c == name {
			return i
		}
	}
	return -1
}

func (p *parser) readHeader(fields []string, line int) error {
	cols := make([]string, len(fields))
	seen := map[string]bool{}
	for i, f := range fields {
		c := strings.TrimSpace(f)
		if c == "" {
			return errf(line, "empty column name in header")
		}
		if seen[c] {
			return errf(line, "duplicate column %q", c)
		}
		seen[c] = true
		cols[i] = c
	}
	switch p.sec {
	case secMeta:
		if len(cols) != 2 || cols[0] != "key" || cols[1] != "value" {
			return errf(line, "META header must be \"key;value\", got %q", strings.Join(fields, ";"))
		}
		p.metaLine = map[string]int{}
	case secProjects:
		for _, need := range []string{"project_id", "cost"} {
			if !seen[need] {
				return errf(line, "PROJECTS header has no %q column", need)
			}
		}
		p.projCol = cols
		p.in.ProjectColumns = cols
		p.projIndex = map[string]int{}
	case secVotes:
		for _, need := range []string{"voter_id", "vote"} {
			if !seen[need] {
				return errf(line, "VOTES header has no %q column", need)
			}
		}
		p.voteCol = cols
		p.in.VoteColumns = cols
		p.colVoterID = columnIndex(cols, "voter_id")
		p.colVote = columnIndex(cols, "vote")
		p.colPoints = columnIndex(cols, "points")
		for i, c := range cols {
			if c != "voter_id" && c != "vote" && c != "points" {
				p.extraVoteIx = append(p.extraVoteIx, i)
			}
		}
		// presize from num_votes when it is plausible; it is only a hint
		hint := 1024
		if n, err := parseWhole(p.in.Meta["num_votes"], false); err == nil && n > 0 && n < 10_000_000 {
			hint = int(n)
		}
		p.voterIDs = make(map[string]struct{}, hint)
		p.in.Votes = make([]Vote, 0, hint)
	}
	return nil
}

func (p *parser) metaRow(fields []string, line int) error {
	if len(fields) != 2 {
		return errf(line, "META row has %d fields, want 2 (key;value)", len(fields))
	}
	key, val := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
	if key == "" {
		return errf(line, "META row has an empty key")
	}
	if prev, dup := p.metaLine[key]; dup {
		return errf(line, "duplicate META key %q (first on line %d)", key, prev)
	}
	p.metaLine[key] = line
	p.in.Meta[key] = val
	p.in.MetaKeys = append(p.in.MetaKeys, key)

	num := func(dst **int64, allowNeg bool) error {
		v, err := parseWhole(val, allowNeg)
		if err != nil {
			return errf(line, "META %s: %v", key, err)
		}
		*dst = &v
		return nil
	}
	in := p.in
	switch key {
	case "budget":
		v, err := parseWhole(val, false)
		if err != nil {
			return errf(line, "META budget: %v", err)
		}
		if v > MaxAmount {
			return errf(line, "META budget %d is above the maximum amount %d", v, int64(MaxAmount))
		}
		in.Budget = v
	case "vote_type":
		switch val {
		case VoteApproval, VoteCumulative, VoteOrdinal, VoteChoose1, VoteScoring:
			in.VoteType = val
		default:
			return errf(line, "unknown vote_type %q", val)
		}
	case "rule":
		in.Rule = val
	case "min_length":
		return num(&in.MinLength, false)
	case "max_length":
		return num(&in.MaxLength, false)
	case "min_points":
		return num(&in.MinPoints, true)
	case "max_points":
		return num(&in.MaxPoints, true)
	case "min_sum_points":
		return num(&in.MinSumPoints, true)
	case "max_sum_points":
		return num(&in.MaxSumPoints, true)
	case "min_project_score_threshold":
		return num(&in.MinProjectScoreThreshold, true)
	}
	return nil
}

func (p *parser) projectRow(fields []string, line int) error {
	if len(fields) != len(p.projCol) {
		return errf(line, "project row has %d fields, want %d", len(fields), len(p.projCol))
	}
	var pr Project
	for i, c := range p.projCol {
		f := fields[i]
		switch c {
		case "project_id":
			pr.ID = strings.TrimSpace(f)
			if pr.ID == "" {
				return errf(line, "empty project_id")
			}
			if strings.ContainsAny(pr.ID, ",;") {
				return errf(line, "project_id %q contains ',' or ';'", pr.ID)
			}
		case "cost":
			v, err := parseWhole(f, false)
			if err != nil {
				return errf(line, "project cost: %v", err)
			}
			if v > MaxAmount {
				return errf(line, "project cost %d is above the maximum amount %d", v, int64(MaxAmount))
			}
			pr.Cost = v
		case "votes", "score":
			if strings.TrimSpace(f) == "" {
				continue
			}
			v, err := parseWhole(f, c == "score")
			if err != nil {
				return errf(line, "project %s: %v", c, err)
			}
			if c == "votes" {
				pr.Votes = &v
			} else {
				pr.Score = &v
			}
		case "name":
			pr.Name = f
		case "selected":
			switch strings.TrimSpace(f) {
			case "":
				pr.Selected = SelectedUnknown
			case "0", "0.0":
				pr.Selected = SelectedNo
			case "1", "1.0":
				pr.Selected = SelectedYes
			default:
				return errf(line, "project selected must be 0 or 1, got %q", f)
			}
		default:
			if f == "" {
				continue // absent and empty mean the same; keeps Extra small
			}
			if pr.Extra == nil {
				pr.Extra = map[string]string{}
			}
			pr.Extra[c] = f
		}
	}
	if prev, dup := p.projIndex[pr.ID]; dup {
		return errf(line, "duplicate project_id %q (first at project %d)", pr.ID, prev+1)
	}
	p.projIndex[pr.ID] = len(p.in.Projects)
	p.in.Projects = append(p.in.Projects, pr)
	return nil
}

func (p *parser) voteRow(fields []string, line int) error {
	if len(fields) != len(p.voteCol) {
		return errf(line, "vote row has %d fields, want %d", len(fields), len(p.voteCol))
	}
	v := Vote{VoterID: strings.TrimSpace(fields[p.colVoterID])}
	if v.VoterID == "" {
		return errf(line, "empty voter_id")
	}
	if _, dup := p.voterIDs[v.VoterID]; dup {
		return errf(line, "duplicate voter_id %q", v.VoterID)
	}
	p.voterIDs[v.VoterID] = struct{}{}

	if list := strings.TrimSpace(fields[p.colVote]); list != "" {
		p.fieldBuf2 = splitInto(p.fieldBuf2[:0], list, ',')
		parts := p.fieldBuf2
		v.Projects = p.strings(len(parts))
		for i, raw := range parts {
			id := strings.TrimSpace(raw)
			ix, ok := p.projIndex[id]
			if !ok {
				return errf(line, "vote references unknown project %q", id)
			}
			id = p.in.Projects[ix].ID // share one string per project
			for _, prev := range v.Projects[:i] {
				if prev == id {
					return errf(line, "vote lists project %q twice", id)
				}
			}
			v.Projects[i] = id
		}
	}
	if p.colPoints >= 0 {
		pts := strings.TrimSpace(fields[p.colPoints])
		var parts []string
		if pts != "" {
			p.fieldBuf2 = splitInto(p.fieldBuf2[:0], pts, ',')
			parts = p.fieldBuf2
		}
		if len(parts) != len(v.Projects) {
			return errf(line, "vote has %d projects but %d points", len(v.Projects), len(parts))
		}
		v.Points = p.ints(len(parts))
		for i, raw := range parts {
			n, err := parseWhole(raw, p.in.VoteType == VoteScoring)
			if err != nil {
				return errf(line, "points: %v", err)
			}
			if n > MaxPoints || n < -MaxPoints {
				return errf(line, "points %d are outside ±%d", n, int64(MaxPoints))
			}
			v.Points[i] = n
		}
	}
	if len(p.extraVoteIx) > 0 {
		v.Extra = p.strings(len(p.extraVoteIx))
		for i, ix := range p.extraVoteIx {
			v.Extra[i] = fields[ix]
		}
	}
	p.in.Votes = append(p.in.Votes, v)
	return nil
}
