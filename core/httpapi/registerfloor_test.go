package httpapi_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
)

// TestRegisterFloor: with a floor, every registration answers no sooner than it —
// through the API and the register page, for a new address and a taken one — so that
// the time of the answer cannot tell a taken address (BenchmarkRegister shows the two
// then take the same time). A lower bound, so no flake on a slow machine.
func TestRegisterFloor(t *testing.T) {
	const floor = 300 * time.Millisecond
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		opt := coretest.Options()
		opt.RegisterFloor = floor
		n, _, _ := mailingNodeWith(t, db, opt)
		timed := func(what string, register func()) {
			t.Helper()
			start := time.Now()
			register()
			if took := time.Since(start); took < floor {
				t.Errorf("%s answered after %s, before the floor of %s", what, took, floor)
			}
		}
		body := map[string]string{"email": "sanna@example.org", "password": "a quiet morning by the sea", "display_name": "Sanna", "language": "fi"}
		timed("the API, a new address", func() { coretest.NewClient(t, n).Must(201, "POST", "/api/v1/auth/register", body) })
		timed("the API, a taken address", func() { coretest.NewClient(t, n).Must(201, "POST", "/api/v1/auth/register", body) })
		form := url.Values{"display_name": {"Sanna"}, "email": {"sanna@example.org"}, "password": {"a quiet morning by the sea"}}
		timed("the page, a taken address", func() { newBrowser(t, "http://"+n.Addr().String()).must(303, "POST", "/register", form) })
		form.Set("email", "sanna.v@example.org")
		timed("the page, a new address", func() { newBrowser(t, "http://"+n.Addr().String()).must(303, "POST", "/register", form) })
	})
}
