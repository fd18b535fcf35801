package tally

import "fmt"

// Explain returns a plain-English description of the rule and parameters in
// o, for a results page. It describes what the rule does, not a particular
// outcome.
func Explain(o Options) string {
	if o.Borda {
		return "Each ballot's ranking gives points (a Borda count): of k ranked projects the first gets k points, the next k-1, and so on down to 1 for the last; a project's points are its score. " + explainRule(o)
	}
	return explainRule(o)
}

func explainRule(o Options) string {
	chain := o.TieBreak
	if chain == nil {
		chain = DefaultTieBreak
	}
	ties := "If projects are still level after that, the result lists them as a tie instead of picking one in secret."
	if len(chain) > 0 {
		ties = fmt.Sprintf("Projects that are level are ordered by: %s. ", describeChain(chain)) + ties
	}
	switch o.Rule {
	case Greedy:
		return "Projects are ranked by their number of votes (or points), most first. Going down the list, each project is funded if it still fits in the remaining budget; a project that does not fit is skipped and the next one is considered. " + ties
	case GreedyNoSkip:
		return "Projects are ranked by their number of votes (or points), most first. Going down the list, projects are funded until the first one that does not fit in the remaining budget; funding stops there, even if cheaper projects further down would have fitted. " + ties
	case GreedyThreshold:
		return fmt.Sprintf("Projects with fewer than %d votes (or points) are set aside first. The rest are ranked by votes, most first, and each one is funded if it still fits in the remaining budget; a project that does not fit is skipped. ", o.Threshold) + ties
	case MES:
		s := "Method of Equal Shares: the budget is split into equal shares, one per voter. A project is funded only if the people who voted for it can pay for it together from their shares. At each step the project that is cheapest for its supporters relative to its cost (so, most support per unit of money) is funded, and its supporters pay equally, or everything they have left if that is less. This continues until no remaining project can be paid for by its supporters. The effect is that every group of voters decides over a part of the budget in proportion to its size, so large groups cannot take everything. "
		inc := o.Increment
		if inc == 0 {
			inc = 1
		}
		switch o.Completion {
		case CompletionAdd1, CompletionAdd1U:
			if !o.NoIntegral {
				s += "The shares used are whole currency units: each voter starts with the budget divided by the number of voters, rounded down. "
			}
			s += fmt.Sprintf("Because this usually leaves money unspent, the calculation is repeated with each voter's share raised by %d at a time, for as long as the funded projects still fit in the real budget; the last result that fits is used. If all projects together fit in the budget, no raising is needed and none is done. ", inc)
			if !o.NoExhaustiveStop {
				s += "Raising stops early once no unfunded project would fit in the money left over. "
			}
			if o.Completion == CompletionAdd1U {
				s += "Any money still left is then used to fund remaining projects by number of votes, most first, as long as they fit; projects with equal votes are taken in the order the equalshares.net tool lists them (numbered projects by number, then the others as listed), and such a tie is reported when it decides something. "
			}
		}
		return s + ties
	}
	return "Unknown rule."
}

func describeChain(chain []TieKey) string {
	var out string
	for i, k := range chain {
		if i > 0 {
			out += ", then "
		}
		switch k {
		case MinCost:
			out += "lower cost first"
		case MaxCost:
			out += "higher cost first"
		case MaxVotes:
			out += "more votes first"
		case MinVotes:
			out += "fewer votes first"
		case MinID:
			out += "project number"
		}
	}
	return out
}
