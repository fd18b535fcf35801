package tally

// Purchase explains one MES winner: what its supporters paid. Voters who
// could afford it paid Price each (the same for all of them: equal shares);
// those with less left paid everything they had.
type Purchase struct {
	Project string `json:"project"`
	// Step is the 1-based MES step that bought it.
	Step int `json:"step"`
	// Price is what each supporter who could afford it paid (exact in
	// PriceExact).
	Price      float64 `json:"price"`
	PriceExact string  `json:"price_exact"`
	// PaidPrice voters paid Price; PaidAll voters paid all they had left,
	// which was less.
	PaidPrice int64 `json:"paid_price"`
	PaidAll   int64 `json:"paid_all"`
}

// Shortfall explains why MES did not buy a project: when it stopped, the
// project's supporters held Money together, less than its Cost (or the
// project was approved by nobody or costs nothing, which MES leaves to a
// completion).
type Shortfall struct {
	Project string  `json:"project"`
	Cost    int64   `json:"cost"`
	Money   float64 `json:"money"`
}

// account explains the final MES run: each purchase and, for every project it
// did not buy, the money its supporters had left at the end.
func (r *mesRun) account() ([]Purchase, []Shortfall) {
	x := r.m.x
	ps := make([]Purchase, len(r.buys))
	for s, b := range r.buys {
		price := r.exactPay(int32(s))
		f, _ := price.Float64()
		var all int64
		for _, e := range b.partial {
			all += e.w
		}
		ps[s] = Purchase{Project: x.ids[b.p], Step: s + 1, Price: f, PriceExact: price.RatString(),
			PaidPrice: b.denom, PaidAll: all}
	}
	bought := make([]bool, len(x.ids))
	for _, w := range r.winners {
		bought[w] = true
	}
	var short []Shortfall
	for p := range x.ids {
		if bought[p] {
			continue
		}
		// for display only: floats are enough, and exact budgets of every
		// class would cost more than the whole run
		var money float64
		for _, e := range r.bucket(int32(p)) {
			money += float64(e.w) * r.bf[e.c]
		}
		short = append(short, Shortfall{Project: x.ids[p], Cost: x.cost[p], Money: money})
	}
	return ps, short
}
