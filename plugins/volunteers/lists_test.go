package volunteers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestLists_WalkPages walks every list route two items a page through the harness
// while another goroutine adds items to it (sdktest.WalkPagesFrom): no item the list
// held before — read in one page, without a cursor — is lost or shown twice, on SQLite
// and PostgreSQL.
func TestLists_WalkPages(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		c := newHarness(t, f, cfg)
		// page fetches a page of path as who: the IDs (idField of each item) and the
		// next cursor.
		page := func(who sdk.Principal, path, idField string, limit int, cursor string) ([]string, string) {
			r := c.h.Do(who, "GET", path+"limit="+strconv.Itoa(limit)+"&cursor="+url.QueryEscape(cursor), nil)
			if r.Status != 200 {
				t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
				return nil, ""
			}
			var body struct {
				Items      []map[string]any `json:"items"`
				NextCursor string           `json:"next_cursor"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Error(err)
			}
			ids := make([]string, len(body.Items))
			for i, it := range body.Items {
				ids[i], _ = it[idField].(string)
			}
			return ids, body.NextCursor
		}
		// walk walks path two items a page while insert runs, and checks it against
		// everything the list held before, read in one page without a cursor.
		walk := func(t *testing.T, who sdk.Principal, path, idField string, insert func(i int)) {
			before, next := page(who, path, idField, sdk.MaxLimit, "")
			if next != "" || len(before) < 3 {
				t.Fatalf("%d items before the walk, next cursor %q: want 3 to %d on one page", len(before), next, sdk.MaxLimit)
			}
			sdktest.WalkPagesFrom(t, before, func(cursor string) ([]string, string) {
				return page(who, path, idField, 2, cursor)
			}, insert)
		}
		// profile creates a volunteer free all week; it runs beside a walk, so it
		// reports with Error.
		profile := func(id string) sdk.Principal {
			f.host.AddUser(sdk.User{ID: id})
			p := f.host.Principal(id)
			in := ProfileInput{Skills: []string{"first_aid"}, BirthDate: "1990-01-01", Neighbourhoods: []string{"nbh-1"}}
			for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
				in.Availability = append(in.Availability, AvailabilityWindow{Day: d, Start: "00:00", End: "24:00"})
			}
			if _, err := f.svc.PutProfile(ctx, p, in); err != nil {
				t.Error(err)
			}
			return p
		}
		publish := func(title string, shifts ...ShiftInput) Opportunity {
			o, err := f.svc.CreateOpportunity(ctx, f.rep, OpportunityInput{OrganisationID: "org-1", Title: title,
				NeighbourhoodID: "nbh-1", Shifts: shifts})
			if err == nil {
				o, err = f.svc.SetState(ctx, f.rep, o.ID, StatePublished)
			}
			if err != nil {
				t.Error(err)
			}
			return o
		}
		for i := range 5 {
			profile(fmt.Sprintf("vol-%d", i))
			publish(fmt.Sprintf("Before %d", i), f.saturday(9+i, 12+i, 3))
		}
		o := publish("Two shifts", f.saturday(8, 10, 50), f.saturday(14, 16, 50))
		for i := range 5 {
			if _, err := f.svc.Apply(ctx, f.host.Principal(fmt.Sprintf("vol-%d", i)), o.ID, o.Shifts[i%2].ID); err != nil {
				t.Fatal(err)
			}
		}

		t.Run("Skills", func(t *testing.T) {
			walk(t, f.rep, base+"/skills?", "id", func(i int) {
				if _, err := f.svc.PutSkill(ctx, f.staff, Skill{ID: fmt.Sprintf("skill-%02d", i), Names: map[string]string{"en": "S"}}); err != nil {
					t.Error(err)
				}
			})
		})
		t.Run("Opportunities", func(t *testing.T) {
			walk(t, f.rep, base+"/opportunities?", "id", func(i int) {
				publish(fmt.Sprintf("During %d", i), f.saturday(18, 20, 1))
			})
		})
		t.Run("Applications", func(t *testing.T) {
			walk(t, f.rep, base+"/opportunities/"+o.ID+"/applications?", "id", func(i int) {
				p := profile(fmt.Sprintf("applicant-%d", i))
				if _, err := f.svc.Apply(ctx, p, o.ID, o.Shifts[i%2].ID); err != nil {
					t.Error(err)
				}
			})
		})
		t.Run("Matches", func(t *testing.T) {
			walk(t, f.rep, base+"/opportunities/"+o.ID+"/shifts/"+o.Shifts[0].ID+"/matches?", "volunteer_id", func(i int) {
				profile(fmt.Sprintf("matched-%d", i))
			})
		})
		t.Run("Recommendations", func(t *testing.T) {
			walk(t, f.host.Principal("vol-0"), base+"/recommendations?", "shift_id", func(i int) {
				publish(fmt.Sprintf("Recommended %d", i), f.saturday(6, 7, 2))
			})
		})
	})
}
