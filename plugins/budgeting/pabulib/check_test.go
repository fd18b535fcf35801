package pabulib_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
)

// The corpus files Pabulib itself publishes pass the format rules Check restates
// (data rules, like a project nobody voted for, may fire on a real vote).
func TestCheck_PabulibFiles(t *testing.T) {
	for _, name := range []string{"Poland_Lodz_2022.pb", "Netherlands_Assen_2024.pb", "Poland_Swiecie_2023.pb", "Poland_Warszawa_2021_Bielany.pb"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(testdataDir, name))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pabulib.Check(data) {
				if !p.Data {
					t.Errorf("%s", p)
				}
			}
		})
	}
}

// Each rule fires on a file that breaks it, and names itself.
func TestCheck_Rules(t *testing.T) {
	good := "META\nkey;value\ndescription;d\ncountry;Poland\nunit;Łódź\ninstance;2022\nnum_projects;2\nnum_votes;2\nbudget;100\n" +
		"vote_type;approval\nrule;greedy\ndate_begin;07.10.2022\ndate_end;31.10.2022\ncurrency;PLN\n" +
		"PROJECTS\nproject_id;cost;votes;name;selected\n1;60;2;A;1\n2;50;1;B;0\nVOTES\nvoter_id;vote;voting_method\n1;1,2;internet\n2;1;paper\n"
	if got := pabulib.Check([]byte(good)); len(got) != 0 {
		t.Fatalf("a good file: %v", got)
	}
	for _, tc := range []struct{ name, from, to, rule string }{
		{"MissingCountry", "country;Poland\n", "", "missing meta obligatory field"},
		{"MissingDates", "date_begin;07.10.2022\ndate_end;31.10.2022\n", "", "missing meta obligatory field"},
		{"UnknownKey", "currency;PLN\n", "currency;PLN\nkvarter_integral;true\n", "not known meta fields"},
		{"Order", "description;d\ncountry;Poland\n", "country;Poland\ndescription;d\n", "wrong meta fields order"},
		{"DateFormat", "date_end;31.10.2022", "date_end;2022-10-31", "invalid meta field value"},
		{"DateRange", "date_end;31.10.2022", "date_end;01.01.2021", "date range missmatch"},
		{"VoteType", "vote_type;approval", "vote_type;knapsack", "invalid meta field value"},
		{"Comment", "currency;PLN\n", "currency;PLN\ncomment;kvarter\n", "invalid meta field value"},
		{"NumVotes", "num_votes;2", "num_votes;3", "different number of votes"},
		{"Votes", "1;60;2;A;1", "1;60;3;A;1", "different values in votes"},
		{"VotingMethod", "2;1;paper", "2;1;imported", "invalid votes field value"},
		{"Selected", "1;60;2;A;1", "1;60;2;A;yes", "incorrect projects field datatype"},
		{"BudgetExceeded", "2;50;1;B;0", "2;50;1;B;1", "budget exceeded"},
		{"CumulativeNeedsMaxSumPoints", "vote_type;approval", "vote_type;cumulative", "missing meta obligatory field"},
		{"Score", "project_id;cost;votes;name", "project_id;cost;votes;score;name", "different values in scores"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(good, tc.from, tc.to, 1)
			if tc.name == "Score" {
				bad = strings.Replace(strings.Replace(bad, "1;60;2;A;1", "1;60;2;3;A;1", 1), "2;50;1;B;0", "2;50;1;9;B;0", 1)
			}
			got := pabulib.Check([]byte(bad))
			if !slices.ContainsFunc(got, func(p pabulib.Problem) bool { return p.Rule == tc.rule }) {
				t.Errorf("want %q, got %v", tc.rule, got)
			}
		})
	}
}
