package budgeting

import (
	"math"
	"sort"

	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

// How a project came out of the tally, for ProjectExplanation.How.
const (
	HowEqualShares = "equal_shares" // MES bought it from its supporters' shares
	HowCompletion  = "completion"   // add1u's completion funded it from money MES left
	HowGreedy      = "greedy"       // a greedy rule funded it, in order of votes
	HowNotFunded   = "not_funded"
)

// ProjectExplanation says in numbers why one project was or was not funded, in words a
// results page turns into "supported by 1,204 voters who together had enough of their
// equal share left to pay 860 000 ₺" or "not funded: its supporters had spent their
// share on A and B". It is computed once, when the tally runs, and stored with the
// result, so a results page only reads it. Amounts are in minor units.
type ProjectExplanation struct {
	Project string `json:"project"`
	How     string `json:"how" enum:"equal_shares,completion,greedy,not_funded"`
	// Supporters is how many ballots chose the project.
	Supporters int64 `json:"supporters"`
	// Cost is the project's cost; for an equal-shares purchase what its supporters paid
	// together.
	Cost int64 `json:"cost"`
	// Step is the order MES bought it in (1-based), 0 otherwise; PaidAll how many of
	// its supporters paid all they had left rather than the full price.
	Step    int   `json:"step"`
	PaidAll int64 `json:"paid_all"`
	// Left is, for a project MES did not buy, the money its supporters still held
	// together when MES stopped, which was less than its cost.
	Left int64 `json:"left"`
	// SpentOn lists, for a project MES did not buy, the funded projects its supporters'
	// shares went to, most money first (at most three).
	SpentOn []Spending `json:"spent_on"`
}

// Spending is money a group of voters paid towards one funded project.
type Spending struct {
	Project string `json:"project"`
	Amount  int64  `json:"amount"`
}

// maxSpentOn is how many projects an explanation names where a loser's supporters'
// money went: more than three no longer reads as a reason.
const maxSpentOn = 3

// explain works out every project's explanation from the tally's outcome. For the
// Method of Equal Shares it replays the final run's purchases (tr.Purchases, in step
// order, at the final endowment) voter by voter: each supporter of a bought project
// pays its price or all they have left, which is what MES did; so for a project it
// did not buy, it knows where its supporters' shares went. u is the tally's unit in
// minor units.
func explain(e *election, tr *tally.Result, u int64) []ProjectExplanation {
	index := make(map[string]int, len(e.Projects))
	for i, p := range e.Projects {
		index[p.ID] = i
	}
	out := make([]ProjectExplanation, len(e.Projects))
	for i, p := range e.Projects {
		out[i] = ProjectExplanation{Project: p.ID, How: HowNotFunded, Supporters: tr.Votes[p.ID], Cost: p.Cost * u, SpentOn: []Spending{}}
	}
	won := map[string]bool{}
	for _, w := range tr.Winners {
		won[w] = true
		if tr.Rule != tally.MES {
			out[index[w]].How = HowGreedy
		}
	}
	if tr.Rule != tally.MES || tr.Endowment == nil {
		return out
	}
	for _, w := range tr.Completed {
		out[index[w]].How = HowCompletion
	}
	// The replay: each voter's money left, and what they paid to which purchase.
	endowment, _ := tr.Endowment.Float64()
	left := make([]float64, len(e.Ballots))
	for v := range left {
		left[v] = endowment
	}
	supporters := make([][]int, len(e.Projects))
	for v, b := range e.Ballots {
		for _, id := range b.Projects {
			if i, ok := index[id]; ok {
				supporters[i] = append(supporters[i], v)
			}
		}
	}
	type payment struct {
		project int
		amount  float64
	}
	paid := make([][]payment, len(e.Ballots))
	purchases := append([]tally.Purchase{}, tr.Purchases...)
	sort.Slice(purchases, func(i, j int) bool { return purchases[i].Step < purchases[j].Step })
	for _, pu := range purchases {
		i, ok := index[pu.Project]
		if !ok {
			continue
		}
		out[i].How, out[i].Step, out[i].PaidAll = HowEqualShares, pu.Step, pu.PaidAll
		for _, v := range supporters[i] {
			pay := math.Min(pu.Price, left[v])
			if pay <= 0 {
				continue
			}
			left[v] -= pay
			paid[v] = append(paid[v], payment{i, pay})
		}
	}
	for i := range out {
		if won[e.Projects[i].ID] {
			continue
		}
		var held float64
		spent := map[int]float64{}
		for _, v := range supporters[i] {
			held += left[v]
			for _, p := range paid[v] {
				spent[p.project] += p.amount
			}
		}
		out[i].Left = int64(math.Floor(held * float64(u)))
		for j, amount := range spent {
			out[i].SpentOn = append(out[i].SpentOn, Spending{Project: e.Projects[j].ID, Amount: int64(math.Round(amount * float64(u)))})
		}
		sort.Slice(out[i].SpentOn, func(a, b int) bool {
			x, y := out[i].SpentOn[a], out[i].SpentOn[b]
			if x.Amount != y.Amount {
				return x.Amount > y.Amount
			}
			return index[x.Project] < index[y.Project]
		})
		if len(out[i].SpentOn) > maxSpentOn {
			out[i].SpentOn = out[i].SpentOn[:maxSpentOn]
		}
	}
	return out
}
