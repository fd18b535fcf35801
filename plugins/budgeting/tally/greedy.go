package tally

import (
	"sort"
)

// chainCmp compares a and b under the tie-break chain; negative means a comes
// first. It never falls back to input order: callers decide what equality
// means.
func chainCmp(x *election, chain []TieKey, a, b int32) int {
	for _, k := range chain {
		var c int
		switch k {
		case MinCost:
			c = cmp64(x.cost[a], x.cost[b])
		case MaxCost:
			c = cmp64(x.cost[b], x.cost[a])
		case MaxVotes:
			c = cmp64(x.votes[b], x.votes[a])
		case MinVotes:
			c = cmp64(x.votes[a], x.votes[b])
		case MinID:
			switch {
			case x.ids[a] < x.ids[b]:
				c = -1
			case x.ids[a] > x.ids[b]:
				c = 1
			}
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// greedy orders the eligible projects by score (descending), then by the
// chain, then by rank (input order when rank is nil), and adds each one that
// fits (or, with noSkip, stops at the first that does not). A group of
// projects equal on score and chain is reported as a tie only when the order
// inside the group changes which of them get in.
func greedy(x *election, score []int64, chain []TieKey, rank []int32, eligible []bool, budget int64, noSkip bool, phase string) ([]int32, []Tie) {
	var order []int32
	for i := range x.ids {
		if eligible[i] {
			order = append(order, int32(i))
		}
	}
	same := func(a, b int32) bool { return score[a] == score[b] && chainCmp(x, chain, a, b) == 0 }
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if score[a] != score[b] {
			return score[a] > score[b]
		}
		if c := chainCmp(x, chain, a, b); c != 0 {
			return c < 0
		}
		if rank != nil {
			return rank[a] < rank[b]
		}
		return a < b
	})
	var winners []int32
	var ties []Tie
	left := budget
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && same(order[start], order[end]) {
			end++
		}
		group := order[start:end]
		if len(group) > 1 {
			costs := make([]int64, len(group))
			for i, p := range group {
				costs[i] = x.cost[p]
			}
			if orderMatters(costs, left, noSkip) {
				t := Tie{Phase: phase, Step: start + 1, Chosen: x.ids[group[0]], Decisive: true}
				for _, p := range group {
					t.Projects = append(t.Projects, x.ids[p])
				}
				ties = append(ties, t)
			}
		}
		for _, p := range group {
			if x.cost[p] <= left {
				winners = append(winners, p)
				left -= x.cost[p]
			} else if noSkip {
				return winners, ties
			}
		}
		start = end
	}
	return winners, ties
}

// maxPermute bounds the exhaustive check in orderMatters; 8! = 40320.
const maxPermute = 8

// orderMatters reports whether processing costs greedily in different orders
// against the budget left selects different subsets (or, with noSkip, stops
// differently). Groups above maxPermute are checked on a few telling orders
// only; that may miss an exotic dependency but never invents one.
func orderMatters(costs []int64, left int64, noSkip bool) bool {
	var sum, minC int64 = 0, costs[0]
	for _, c := range costs {
		sum += c
		minC = min(minC, c)
	}
	if sum <= left || minC > left && !noSkip {
		return false // all fit, or none does, whatever the order
	}
	n := len(costs)
	type outcome struct {
		mask    uint64
		stopped bool
	}
	run := func(perm []int) outcome {
		var o outcome
		l := left
		for _, i := range perm {
			if costs[i] <= l {
				l -= costs[i]
				if i < 64 {
					o.mask |= 1 << uint(i)
				}
			} else if noSkip {
				o.stopped = true
				break
			}
		}
		return o
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	first := run(perm)
	if n > maxPermute {
		orders := [][]int{reversed(perm), sortedBy(costs, true), sortedBy(costs, false)}
		for _, p := range orders {
			if run(p) != first {
				return true
			}
		}
		return false
	}
	differs := false
	var permute func(k int)
	permute = func(k int) {
		if differs {
			return
		}
		if k == n {
			differs = run(perm) != first
			return
		}
		for i := k; i < n; i++ {
			perm[k], perm[i] = perm[i], perm[k]
			permute(k + 1)
			perm[k], perm[i] = perm[i], perm[k]
		}
	}
	permute(0)
	return differs
}

func reversed(p []int) []int {
	r := make([]int, len(p))
	for i, v := range p {
		r[len(p)-1-i] = v
	}
	return r
}

func sortedBy(costs []int64, asc bool) []int {
	p := make([]int, len(costs))
	for i := range p {
		p[i] = i
	}
	sort.SliceStable(p, func(i, j int) bool {
		if asc {
			return costs[p[i]] < costs[p[j]]
		}
		return costs[p[i]] > costs[p[j]]
	})
	return p
}
