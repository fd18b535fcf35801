package pbcli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
	"github.com/kvarter/kvarter/plugins/budgeting/pbcli"
)

const testdataDir = "../testdata/pabulib"

func run(tb testing.TB, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var o, e bytes.Buffer
	code = pbcli.Run(args, &o, &e)
	return code, o.String(), e.String()
}

func corpusFile(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(testdataDir, name)
	if _, err := os.Stat(p); err != nil {
		tb.Fatal(err)
	}
	return p
}

type out struct {
	Winners   []string         `json:"winners"`
	Cost      int64            `json:"cost"`
	Budget    int64            `json:"budget"`
	Endowment *float64         `json:"endowment"`
	Ties      []map[string]any `json:"ties"`
}

func TestRun_Tally(t *testing.T) {
	t.Run("OK_MetaRule", func(t *testing.T) {
		path := corpusFile(t, "Poland_Swiecie_2023.pb")
		code, stdout, stderr := run(t, "tally", path, "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var got out
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(path)
		in, err := pabulib.ParseBytes(data)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, p := range in.Projects {
			if p.Selected == pabulib.SelectedYes {
				want = append(want, p.ID)
			}
		}
		sort.Strings(want)
		w := append([]string(nil), got.Winners...)
		sort.Strings(w)
		if strings.Join(w, ",") != strings.Join(want, ",") {
			t.Errorf("winners %v, official %v", w, want)
		}
		if got.Endowment == nil || got.Budget != in.Budget || got.Cost > got.Budget || got.Ties == nil {
			t.Errorf("json %s", stdout)
		}
	})
	t.Run("OK_JSONKeys", func(t *testing.T) {
		code, stdout, _ := run(t, "tally", corpusFile(t, "Poland_Zabrze_2021_Guido.pb"), "--rule", "greedy", "--format", "json")
		var raw map[string]json.RawMessage
		if code != 0 || json.Unmarshal([]byte(stdout), &raw) != nil {
			t.Fatalf("exit %d: %s", code, stdout)
		}
		var keys []string
		for k := range raw {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if strings.Join(keys, ",") != "budget,cost,ties,winners" {
			t.Errorf("greedy keys %v, want no endowment", keys)
		}
	})
	t.Run("OK_Text", func(t *testing.T) {
		code, stdout, stderr := run(t, "tally", "--rule", "mes", "--completion", "add1u", corpusFile(t, "Netherlands_Assen_2024.pb"))
		if code != 0 || !strings.Contains(stdout, "endowment per voter") || !strings.Contains(stdout, "Equal Shares") {
			t.Errorf("exit %d\n%s%s", code, stdout, stderr)
		}
	})
	t.Run("OK_TieReported", func(t *testing.T) {
		code, stdout, _ := run(t, "tally", corpusFile(t, "US_Stanford_Dataset_2022_Jersey_City_Ward_B_vote_knapsacks.pb"),
			"--rule", "mes", "--completion", "add1", "--format", "json")
		var got out
		if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || len(got.Ties) == 0 {
			t.Errorf("exit %d, want a reported tie: %s", code, stdout)
		}
	})

	bad := filepath.Join(t.TempDir(), "bad.pb")
	if err := os.WriteFile(bad, []byte("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\na;5\nVOTES\nvoter_id;vote\n1;a,zz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), "good.pb")
	if err := os.WriteFile(good, []byte("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\na;5\nVOTES\nvoter_id;vote\n1;a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errs := []struct {
		name string
		args []string
		want string
	}{
		{"ErrNoSubcommand", nil, "usage"},
		{"ErrUnknownSubcommand", []string{"count"}, "usage"},
		{"ErrNoFile", []string{"tally"}, "exactly one FILE.pb"},
		{"ErrMissingFile", []string{"tally", "/nonexistent.pb"}, "no such file"},
		{"ErrParse", []string{"tally", bad}, `line 9: vote references unknown project "zz"`},
		{"ErrRule", []string{"tally", good, "--rule", "borda"}, `unknown --rule "borda"`},
		{"ErrCompletionWithGreedy", []string{"tally", good, "--rule", "greedy", "--completion", "add1"}, "mes only"},
		{"ErrTieBreak", []string{"tally", good, "--rule", "greedy", "--tie-break", "min-cost,coin"}, `unknown tie-break key "coin"`},
		{"ErrIncrement", []string{"tally", good, "--rule", "mes", "--increment", "0"}, "positive"},
		{"ErrFormat", []string{"tally", good, "--format", "xml"}, "--format"},
		{"ErrFlag", []string{"tally", good, "--colour"}, "colour"},
		{"ErrNoIntegralWithGreedy", []string{"tally", good, "--rule", "greedy", "--no-integral"}, "mes only"},
		{"ErrCompareRule", []string{"compare", good, "--rule", "greedy"}, "--rule does not apply"},
		{"ErrCompareNotApproval", []string{"compare", corpusFile(t, "Poland_Gdansk_2020_Aniolki.pb")}, "approval ballots"},
		{"ErrCompareNoFile", []string{"compare"}, "exactly one FILE.pb"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.args...)
			if code != pbcli.ExitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}
