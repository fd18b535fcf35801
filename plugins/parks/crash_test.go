package parks

import (
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHost_KillDuringDelivery kills a real `kvarter serve` between the plugin's
// commits and the delivery of their events, restarts it, and checks that a
// subscriber got every event exactly once with its payload
// (sdktest.KillDuringDelivery), on SQLite and PostgreSQL.
func TestHost_KillDuringDelivery(t *testing.T) {
	var manager, rep *sdktest.Client
	var pre, area, org string
	// Each round books a weekly series at its own hour of the day, so no
	// approval rejects another request and every round causes the same events:
	// a year of dates requested and then approved, a burst of events per commit,
	// the last of which are still on their way when the city dies.
	loc, _ := time.LoadLocation("Europe/Helsinki") // sdktest's city time zone
	d := time.Now().In(loc).AddDate(0, 0, 1)
	base := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
	const weeks = maxSeriesRequests
	sdktest.KillDuringDelivery(t, sdktest.DeliveryCrash{
		Options: sdktest.Options{Package: "./cmd/kvarter-parks", Name: "parks"},
		Types:   []string{EventRequested, EventApproved, EventRejected, EventCancelled},
		Setup: func(t testing.TB, c *sdktest.Core) {
			nbh := c.Neighbourhood("Kordon")
			manager = c.NewUser("manager@example.org")
			c.Grant(manager, RoleParkManager, "nbh:"+nbh)
			rep = c.NewUser("rep@example.org")
			org = c.Organisation(rep, "Kordon Runners", nbh)
			var park Park
			c.Admin().Must(201, "POST", "/api/v1/parks", obj{"name": "Kordon", "neighbourhood_id": nbh}).Decode(t, &park)
			pre = "/api/v1/parks/" + park.ID
			var a Area
			manager.Must(201, "POST", pre+"/areas", obj{"name": "Lawn", "capacity": 100}).Decode(t, &a)
			area = a.ID
		},
		Produce: func(t testing.TB, c *sdktest.Core, round int) int {
			start := base.Add(time.Duration(round) * time.Hour)
			var b Booking
			rep.Must(201, "POST", pre+"/bookings", obj{"area_id": area, "organisation_id": org,
				"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339),
				"title": "Run", "category": "sport", "expected_attendance": 10, "public": true, "repeat_weeks": weeks}).Decode(t, &b)
			manager.Must(200, "POST", pre+"/bookings/"+b.ID+"/approve", nil)
			return 2 * weeks
		},
	})
}
