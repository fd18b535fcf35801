package pabulib_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
)

// testdataDir is the Pabulib corpus copied into the repository (see its README).
const testdataDir = "../testdata/pabulib"

func corpus(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(testdataDir, "*.pb"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no .pb files under %s", testdataDir)
	}
	return files
}

func parseFile(tb testing.TB, path string) *pabulib.Instance {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	in, err := pabulib.ParseBytes(data)
	if err != nil {
		tb.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return in
}

func TestParse_Corpus(t *testing.T) {
	for _, path := range corpus(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			in := parseFile(t, path)
			if in.Budget <= 0 {
				t.Errorf("budget = %d", in.Budget)
			}
			if n := in.Meta["num_projects"]; n != "" && n != itoa(len(in.Projects)) {
				t.Errorf("num_projects %s, parsed %d", n, len(in.Projects))
			}
			if n := in.Meta["num_votes"]; n != "" && n != itoa(len(in.Votes)) {
				t.Errorf("num_votes %s, parsed %d", n, len(in.Votes))
			}
			// the file's own vote counts must match the ballots
			count := map[string]int64{}
			for _, v := range in.Votes {
				for _, id := range v.Projects {
					count[id]++
				}
				if in.VoteType == pabulib.VoteCumulative && v.Points == nil {
					t.Fatalf("cumulative vote %s without points", v.VoterID)
				}
			}
			for _, p := range in.Projects {
				if p.Votes != nil && *p.Votes != count[p.ID] {
					t.Errorf("project %s: votes column %d, ballots %d", p.ID, *p.Votes, count[p.ID])
				}
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestParse_Typed(t *testing.T) {
	t.Run("Lodz", func(t *testing.T) {
		in := parseFile(t, filepath.Join(testdataDir, "Poland_Lodz_2022.pb"))
		if in.Budget != 6112868 || in.Rule != "greedy-threshold" || in.VoteType != pabulib.VoteApproval {
			t.Errorf("budget %d rule %q type %q", in.Budget, in.Rule, in.VoteType)
		}
		if in.MinProjectScoreThreshold == nil || *in.MinProjectScoreThreshold != 100 {
			t.Errorf("threshold = %v", in.MinProjectScoreThreshold)
		}
		if in.MaxLength == nil || *in.MaxLength != 5 || in.MinLength != nil {
			t.Errorf("lengths %v %v", in.MinLength, in.MaxLength)
		}
		var quoted *pabulib.Project
		for i := range in.Projects {
			if in.Projects[i].ID == "L132" {
				quoted = &in.Projects[i]
			}
		}
		if quoted == nil || !strings.HasSuffix(quoted.Name, `senora"`) || quoted.Selected != pabulib.SelectedNo {
			t.Errorf("quoted project = %+v", quoted)
		}
		if got := in.ExtraVoteColumns(); !reflect.DeepEqual(got, []string{"age", "sex", "voting_method"}) {
			t.Errorf("extra vote columns %v", got)
		}
	})
	t.Run("Cumulative", func(t *testing.T) {
		in := parseFile(t, filepath.Join(testdataDir, "France_Toulouse_2019.pb"))
		if in.MaxSumPoints == nil || *in.MaxSumPoints != 7 {
			t.Errorf("max_sum_points %v", in.MaxSumPoints)
		}
		v := in.Votes[0]
		if !reflect.DeepEqual(v.Projects, []string{"15", "22", "25", "10"}) || !reflect.DeepEqual(v.Points, []int64{2, 2, 2, 1}) {
			t.Errorf("first vote %+v", v)
		}
	})
	t.Run("SelectedAbsent", func(t *testing.T) {
		in := parseFile(t, filepath.Join(testdataDir, "France_Toulouse_2019.pb"))
		for _, p := range in.Projects {
			if p.Selected != pabulib.SelectedUnknown {
				t.Fatalf("project %s selected = %v without a column", p.ID, p.Selected)
			}
		}
	})
	t.Run("DecimalCost", func(t *testing.T) {
		in, err := pabulib.ParseBytes([]byte("META\r\nkey;value\r\nbudget;400000.0\r\nPROJECTS\r\nproject_id;cost\r\nc1;1000.00\r\nVOTES\r\nvoter_id;vote\r\n1;c1\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if in.Budget != 400000 || in.Projects[0].Cost != 1000 {
			t.Errorf("budget %d cost %d", in.Budget, in.Projects[0].Cost)
		}
	})
}

const good = "META\nkey;value\nbudget;100\nvote_type;approval\nPROJECTS\nproject_id;cost;name\nx1;10;A\nx2;20;B\nVOTES\nvoter_id;vote\n1;x1,x2\n"

func TestParse_Malformed(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantLine int
		wantMsg  string
	}{
		{"UnknownProject", strings.Replace(good, "1;x1,x2", "1;x1,x9", 1), 11, `vote references unknown project "x9"`},
		{"UnknownSection", strings.Replace(good, "VOTES\n", "BALLOTS\n", 1), 9, `unknown section "BALLOTS"`},
		{"ColumnCount", strings.Replace(good, "x2;20;B", "x2;20", 1), 8, "project row has 2 fields, want 3"},
		{"NonNumericCost", strings.Replace(good, "x2;20;B", "x2;twenty;B", 1), 8, `"twenty" is not a number`},
		{"NegativeCost", strings.Replace(good, "x2;20;B", "x2;-20;B", 1), 8, "negative"},
		{"FractionalCost", strings.Replace(good, "x2;20;B", "x2;20.5;B", 1), 8, "fractional"},
		{"BadBudget", strings.Replace(good, "budget;100", "budget;lots", 1), 3, "META budget"},
		{"NoBudget", strings.Replace(good, "budget;100\n", "", 1), 1, "META has no budget"},
		{"DuplicateProject", strings.Replace(good, "x2;20;B", "x1;20;B", 1), 8, `duplicate project_id "x1"`},
		{"DuplicateVoter", good + "1;x2\n", 12, `duplicate voter_id "1"`},
		{"RepeatedInBallot", strings.Replace(good, "1;x1,x2", "1;x1,x1", 1), 11, "twice"},
		{"DataBeforeMeta", "budget;100\n" + good, 1, "expected section header META"},
		{"MissingVotes", strings.SplitAfter(good, "x2;20;B\n")[0], 9, "missing VOTES section"},
		{"OutOfOrder", "META\nkey;value\nbudget;1\nVOTES\n", 4, "out of order"},
		{"Unterminated", strings.Replace(good, "x2;20;B", `x2;20;"B`, 1), 8, "unterminated quoted field"},
		{"PointsMismatch", strings.Replace(strings.Replace(good, "voter_id;vote", "voter_id;vote;points", 1), "1;x1,x2", "1;x1,x2;3", 1), 11, "2 projects but 1 points"},
		{"BadSelected", strings.Replace(strings.Replace(good, "project_id;cost;name", "project_id;cost;name;selected", 1), "x1;10;A", "x1;10;A;yes", 1), 7, "selected must be 0 or 1"},
		{"BadVoteType", strings.Replace(good, "vote_type;approval", "vote_type;quadratic", 1), 4, `unknown vote_type "quadratic"`},
		{"ProjectsHeader", strings.Replace(good, "project_id;cost;name", "id;cost;name", 1), 6, `no "project_id" column`},
		{"CRLF", strings.ReplaceAll(strings.Replace(good, "x2;20;B", "x2;;B", 1), "\n", "\r\n"), 8, "empty number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pabulib.ParseBytes([]byte(tt.src))
			var pe *pabulib.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			if pe.Line != tt.wantLine || !strings.Contains(pe.Msg, tt.wantMsg) {
				t.Errorf("err = %q, want line %d containing %q", err, tt.wantLine, tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Errorf("message %q does not start with the line", err)
			}
		})
	}
}

func TestWrite_RoundTrip(t *testing.T) {
	for _, path := range corpus(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			in := parseFile(t, path)
			var buf bytes.Buffer
			if err := pabulib.Write(&buf, in); err != nil {
				t.Fatal(err)
			}
			back, err := pabulib.ParseBytes(buf.Bytes())
			if err != nil {
				t.Fatalf("reparse: %v", err)
			}
			if !reflect.DeepEqual(in, back) {
				t.Errorf("round trip changed the instance")
			}
		})
	}
	t.Run("Built", func(t *testing.T) {
		seven := int64(7)
		in := &pabulib.Instance{
			Meta:     map[string]string{"description": "a; b \"c\""},
			Budget:   50,
			VoteType: pabulib.VoteCumulative,
			Rule:     "greedy",
			Projects: []pabulib.Project{
				{ID: "p1", Cost: 10, Votes: &seven, Name: "line\nbreak", Selected: pabulib.SelectedYes},
				{ID: "p2", Cost: 40, Name: " padded ", Extra: map[string]string{"category": "x;y"}},
			},
			Votes: []pabulib.Vote{{VoterID: "anon-1", Projects: []string{"p2", "p1"}, Points: []int64{3, 4}}},
		}
		var buf bytes.Buffer
		if err := pabulib.Write(&buf, in); err != nil {
			t.Fatal(err)
		}
		back, err := pabulib.ParseBytes(buf.Bytes())
		if err != nil {
			t.Fatalf("reparse: %v\n%s", err, buf.String())
		}
		if back.Budget != 50 || back.VoteType != pabulib.VoteCumulative || back.Meta["description"] != in.Meta["description"] {
			t.Errorf("meta %+v", back.Meta)
		}
		if !reflect.DeepEqual(back.Projects, in.Projects) || !reflect.DeepEqual(back.Votes[0].Points, []int64{3, 4}) {
			t.Errorf("projects %+v votes %+v", back.Projects, back.Votes)
		}
	})
	t.Run("ErrBadID", func(t *testing.T) {
		in := &pabulib.Instance{Budget: 1, Projects: []pabulib.Project{{ID: "a,b", Cost: 1}}}
		if err := pabulib.Write(&bytes.Buffer{}, in); err == nil {
			t.Error("want error for id with comma")
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(strings.ReplaceAll(good, "\n", "\r\n")))
	f.Add([]byte("META\nkey;value\nbudget;1.0\nPROJECTS\nproject_id;cost;name\n\"a\";1;\"x\"\"y\"\nVOTES\nvoter_id;vote;points\n1;a;3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := pabulib.ParseBytes(data)
		if err != nil {
			var pe *pabulib.ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		// whatever parses must write and parse back to the same instance
		var buf bytes.Buffer
		if err := pabulib.Write(&buf, in); err != nil {
			return // e.g. META keys the writer refuses; not a crash
		}
		back, err := pabulib.ParseBytes(buf.Bytes())
		if err != nil {
			t.Fatalf("reparse of written file: %v\n%q", err, buf.String())
		}
		if !reflect.DeepEqual(in, back) {
			t.Fatalf("round trip changed the instance\n%q", buf.String())
		}
	})
}
