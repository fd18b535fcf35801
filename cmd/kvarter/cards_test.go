package main

import (
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
)

// TestMain_NeighbourhoodCards: a neighbourhood's page carries the plugins' cards for
// the "neighbourhood" slot, each drawn by its plugin for that neighbourhood — not the
// fallback link a late card becomes — and an unknown neighbourhood is a 404.
func TestMain_NeighbourhoodCards(t *testing.T) {
	c := startCityWith(t, false, nil)
	var nbh struct{ ID string }
	c.admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": "Bornova"}).Decode(t, &nbh)
	var page string
	// A card that misses the host's short deadline on a loaded machine is a link for
	// that one view; the next views draw it (the plugins are warm by then).
	for range 5 {
		resp, body := coretest.RawRequest(t, "GET", c.node.URL()+"/neighbourhoods/"+nbh.ID, "", map[string]string{"Accept-Language": "en"})
		if resp.StatusCode != 200 {
			t.Fatalf("GET the neighbourhood page = %d", resp.StatusCode)
		}
		if page = string(body); !strings.Contains(page, "This could not be loaded just now") {
			break
		}
	}
	for _, heading := range []string{"Neighbourhood assembly", "Participatory budget", "This week in the parks", "Volunteer this month"} {
		if !strings.Contains(page, heading) {
			t.Errorf("the neighbourhood page has no card %q", heading)
		}
	}
	if strings.Contains(page, "This could not be loaded just now") {
		t.Errorf("a card fell back to its link:\n%s", page)
	}
	if resp, _ := coretest.RawRequest(t, "GET", c.node.URL()+"/neighbourhoods/no-such-place", "", nil); resp.StatusCode != 404 {
		t.Errorf("an unknown neighbourhood answered %d", resp.StatusCode)
	}
}
