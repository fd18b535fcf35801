package budgeting

import (
	"slices"
	"testing"

	"github.com/kvarter/kvarter/sdk"
)

func TestValidateBallot(t *testing.T) {
	on := map[string]int64{"a": 100, "b": 200, "c": 300}
	approval := BallotRules{Type: BallotApproval, Min: 1, Max: 2, MaxCost: 350}
	cumulative := BallotRules{Type: BallotCumulative, Min: 1, Points: 10, MaxPerProject: 6}
	ordinal := BallotRules{Type: BallotOrdinal, Min: 1, Max: 2}
	for _, tc := range []struct {
		name  string
		rules BallotRules
		in    Ballot
		rule  string // "" means valid
	}{
		{"ApprovalOK", approval, Ballot{Projects: []string{"b", "a"}}, ""},
		{"ApprovalEmpty", approval, Ballot{}, RuleMin},
		{"ApprovalTooMany", approval, Ballot{Projects: []string{"a", "b", "c"}}, RuleMax},
		{"ApprovalKnapsack", approval, Ballot{Projects: []string{"b", "c"}}, RuleMaxCost},
		{"ApprovalUnknown", approval, Ballot{Projects: []string{"x"}}, RuleKnownProjects},
		{"ApprovalDuplicate", approval, Ballot{Projects: []string{"a", "a"}}, RuleNoDuplicates},
		{"ApprovalWithPoints", approval, Ballot{Points: map[string]int64{"a": 1}}, RuleType},
		{"CumulativeOK", cumulative, Ballot{Points: map[string]int64{"a": 6, "b": 4}}, ""},
		{"CumulativeTooMany", cumulative, Ballot{Points: map[string]int64{"a": 6, "b": 5}}, RulePoints},
		{"CumulativePerProject", cumulative, Ballot{Points: map[string]int64{"a": 7}}, RuleMaxPerProject},
		{"CumulativeZero", cumulative, Ballot{Points: map[string]int64{"a": 0}}, RulePositive},
		{"CumulativeList", cumulative, Ballot{Projects: []string{"a"}}, RuleType},
		{"CumulativeUnknown", cumulative, Ballot{Points: map[string]int64{"x": 1}}, RuleKnownProjects},
		{"OrdinalOK", ordinal, Ballot{Projects: []string{"c", "a"}}, ""},
		{"OrdinalTooLong", ordinal, Ballot{Projects: []string{"c", "a", "b"}}, RuleMax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := validateBallot(tc.rules, tc.in, on)
			if tc.rule == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tc.rules.Type == BallotOrdinal && !slices.Equal(got.Projects, tc.in.Projects) {
					t.Errorf("ranking changed: %v", got.Projects)
				}
				if tc.rules.Type == BallotApproval && !slices.IsSorted(got.Projects) {
					t.Errorf("approval ballot not canonical: %v", got.Projects)
				}
				return
			}
			e, ok := err.(*sdk.Error)
			if !ok || e.Fields["rule"] != tc.rule {
				t.Fatalf("err %v, want rule %q", err, tc.rule)
			}
		})
	}
}

func TestValidateRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   BallotRules
		ok   bool
	}{
		{"Approval", BallotRules{Type: BallotApproval, Max: 3}, true},
		{"Cumulative", BallotRules{Type: BallotCumulative, Points: 10}, true},
		{"CumulativeNoPoints", BallotRules{Type: BallotCumulative}, false},
		{"MaxBelowMin", BallotRules{Type: BallotApproval, Min: 3, Max: 2}, false},
		{"OrdinalCost", BallotRules{Type: BallotOrdinal, MaxCost: 5}, false},
		{"Unknown", BallotRules{Type: "borda"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validateRules(&tc.in)
			if (err == nil) != tc.ok {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestMoney(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{12345, "EUR", "123.45 EUR"},
		{5, "EUR", "0.05 EUR"},
		{500, "JPY", "500 JPY"},
		{1234, "KWD", "1.234 KWD"},
	} {
		if got := money(tc.minor, tc.currency); got != tc.want {
			t.Errorf("money(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
	}
}
