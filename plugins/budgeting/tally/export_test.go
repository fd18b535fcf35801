package tally

import (
	"fmt"
	"io"
	"math/big"
	"time"
)

// TraceRuns prints, for each whole endowment from floor(B/n) on, what an MES
// run found and how long it took (a debugging aid for the benchmarks).
func TraceRuns(w io.Writer, e Election, max int) {
	x, _ := index(e)
	m := newMESModel(x, DefaultTieBreak)
	fmt.Fprintln(w, "groups", len(m.groups))
	e0 := x.budget / m.n
	for k := range int64(max) {
		st := time.Now()
		r := m.run(new(big.Rat).SetInt64(e0 + k))
		fmt.Fprintln(w, e0+k, len(r.winners), x.costOf(r.winners), "classes", len(r.bf), time.Since(st))
		if x.costOf(r.winners) > x.budget {
			break
		}
	}
}
