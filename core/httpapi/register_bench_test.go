package httpapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
)

// BenchmarkRegister times registration with a new address and with one that is
// taken, through the real server with its mail queue: the two answers must take the
// same time (issue 17), or the time would tell who is registered. Both hash the
// password and queue one mail, and both wait out the node's register floor (here
// 50 ms, as a node's 1 s default would take too long to bench); compare the two
// ns/op of one run. -bench Register/nofloor shows the difference the floor hides.
func BenchmarkRegister(b *testing.B) {
	for _, floor := range []time.Duration{50 * time.Millisecond, -1} {
		name := "floor"
		if floor < 0 {
			name = "nofloor"
		}
		b.Run(name, func(b *testing.B) { benchmarkRegister(b, floor) })
	}
}

func benchmarkRegister(b *testing.B, floor time.Duration) {
	for _, db := range coretest.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			opt := coretest.Options()
			opt.RegisterFloor = floor
			n, _, _ := mailingNodeWith(b, db, opt)
			c := coretest.NewClient(b, n)
			body := func(email string) map[string]string {
				return map[string]string{"email": email, "password": "a long enough phrase to pass", "display_name": "Someone", "language": "sv"}
			}
			// Each round registers a fresh address, then (timed) the same address again
			// in Taken or another fresh one in New: each timed request queues one mail,
			// as a probe of someone else's address would.
			for _, taken := range []bool{false, true} {
				name := map[bool]string{false: "New", true: "Taken"}[taken]
				b.Run(name, func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						b.StopTimer()
						owner := fmt.Sprintf("owner-%s-%d-%d@example.org", name, b.N, i)
						c.Must(201, "POST", "/api/v1/auth/register", body(owner))
						email := owner
						if !taken {
							email = "new-" + owner
						}
						b.StartTimer()
						c.Must(201, "POST", "/api/v1/auth/register", body(email))
					}
				})
			}
		})
	}
}
