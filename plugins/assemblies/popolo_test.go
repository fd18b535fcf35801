package assemblies

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// popoloSchemas compiles the Popolo schemas vendored in testdata/popolo (see its
// README for their source), each by its published $id.
func popoloSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	classes := []string{"person", "organization", "membership", "area", "motion", "vote_event", "count", "vote"}
	url := func(class string) string { return "http://www.popoloproject.com/schemas/" + class + ".json" }
	for _, class := range classes {
		f, err := os.Open(filepath.Join("testdata", "popolo", class+".json"))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", class, err)
		}
		if err := c.AddResource(url(class), doc); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, class := range classes {
		s, err := c.Compile(url(class))
		if err != nil {
			t.Fatalf("compile %s: %v", class, err)
		}
		out[class] = s
	}
	return out
}

// checkPopolo validates every object of an export against its class's schema and
// resolves every reference in it; it returns the problems found.
func checkPopolo(t *testing.T, schemas map[string]*jsonschema.Schema, body []byte) []string {
	t.Helper()
	var doc map[string][]map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	ids := map[string]map[string]bool{}
	for list, class := range map[string]string{"persons": "person", "organizations": "organization",
		"memberships": "membership", "areas": "area", "motions": "motion", "vote_events": "vote_event"} {
		items, ok := doc[list]
		if !ok {
			bad("no %s in the export", list)
		}
		ids[list] = map[string]bool{}
		for _, it := range items {
			if err := validate(schemas[class], it); err != nil {
				bad("%s %v: %v", class, it["id"], err)
			}
			if id, ok := it["id"].(string); ok {
				ids[list][id] = true
			}
		}
	}
	ref := func(what string, v any, list string) {
		id, _ := v.(string)
		if id == "" || !ids[list][id] {
			bad("%s %q resolves to nothing in %s", what, id, list)
		}
	}
	for _, o := range doc["organizations"] {
		ref("organization area_id", o["area_id"], "areas")
	}
	for _, m := range doc["memberships"] {
		ref("membership person_id", m["person_id"], "persons")
		ref("membership organization_id", m["organization_id"], "organizations")
	}
	for _, m := range doc["motions"] {
		ref("motion organization_id", m["organization_id"], "organizations")
		if c, ok := m["creator_id"]; ok {
			ref("motion creator_id", c, "persons")
		}
	}
	for _, ve := range doc["vote_events"] {
		ref("vote event organization_id", ve["organization_id"], "organizations")
		ref("vote event motion_id", ve["motion_id"], "motions")
		counts, _ := ve["counts"].([]any)
		for _, c := range counts {
			if err := validate(schemas["count"], c); err != nil {
				bad("count: %v", err)
			}
		}
		votes, _ := ve["votes"].([]any)
		for _, v := range votes {
			if err := validate(schemas["vote"], v); err != nil {
				bad("vote: %v", err)
			}
			vm, _ := v.(map[string]any)
			ref("vote voter_id", vm["voter_id"], "persons")
			if vm["vote_event_id"] != ve["id"] {
				bad("vote of %v names vote event %v", ve["id"], vm["vote_event_id"])
			}
		}
	}
	return problems
}

// validate runs a schema on a value decoded by encoding/json, re-read through the
// validator's own decoder (which keeps numbers exact).
func validate(s *jsonschema.Schema, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

// TestPopolo_ValidatesAndResolves: an assembly with a delegate, a named vote that
// passes, a secret vote that fails, a vote without quorum and an erased voter exports
// Popolo that every vendored schema accepts and whose every reference resolves; the
// vote without quorum says no_quorum, not fail.
func TestPopolo_ValidatesAndResolves(t *testing.T) {
	schemas := popoloSchemas(t)
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		for _, public := range []bool{true, false} {
			settings := map[string]string{SettingMemberListPublic: map[bool]string{true: "true", false: "false"}[public]}
			e := newEnv(t, cfg, settings)
			a, chair := e.assembly("pp", map[string]any{"org_seats": 1})
			ms := e.members(a, 4)
			base := "/api/v1/assemblies/" + a.ID
			e.Host.AddOrganisation(sdk.Organisation{ID: "org1", Name: "Park friends", Verified: true,
				NeighbourhoodIDs: []string{"pp"}, Representatives: []string{"rep"}})
			e.Host.AddUser(sdk.User{ID: "rep", DisplayName: "Rep"})
			e.Must(201, e.As("rep"), "POST", base+"/delegates", map[string]any{"organisation_id": "org1"})

			vote := func(title, secrecy string, choices ...string) string {
				m := e.tabled(a, ms[0], title)
				e.Must(200, chair, "POST", base+"/motions/"+m.ID+"/vote/open", map[string]any{"secrecy": secrecy})
				for i, c := range choices {
					e.Must(201, ms[i], "POST", base+"/motions/"+m.ID+"/vote/ballots", map[string]any{"choice": c})
				}
				return m.ID
			}
			passed := vote("Benches", "named", "yes", "yes", "yes", "no")
			e.Must(200, chair, "POST", base+"/motions/"+passed+"/vote/close", nil)
			failed := vote("Parking", "secret", "no", "no", "yes")
			e.Must(200, chair, "POST", base+"/motions/"+failed+"/vote/close", nil)
			quorumless := vote("Fountain", "named", "yes")
			e.Must(200, chair, "POST", base+"/motions/"+quorumless+"/vote/close", nil)
			// A named voter erases their account: their ballot stays, under a pseudonym.
			erased := vote("Lights", "named", "yes", "yes", "no")
			ev := sdk.Event{ID: "erase-" + ms[1].UserID, Type: sdk.EventUserDeleted, Payload: json.RawMessage(`{"user_id":"` + ms[1].UserID + `"}`)}
			if err := sdk.Deliver(context.Background(), e.plugin, ev); err != nil {
				t.Fatal(err)
			}
			e.Must(200, chair, "POST", base+"/motions/"+erased+"/vote/close", nil)

			r := e.Must(200, sdk.Principal{}, "GET", base+"/popolo", nil)
			for _, p := range checkPopolo(t, schemas, r.Body) {
				t.Errorf("member lists public=%v: %s", public, p)
			}
			var pop PopoloExport
			r.Decode(t, &pop)
			results := map[string]string{}
			for _, ve := range pop.VoteEvents {
				results[ve.MotionID] = ve.Result
			}
			if results[passed] != "pass" || results[failed] != "fail" || results[quorumless] != "no_quorum" {
				t.Errorf("results %v", results)
			}
			if len(pop.Areas) != 1 || pop.Areas[0].ID != "pp" || pop.Areas[0].Name != "Neighbourhood pp" {
				t.Errorf("areas %+v", pop.Areas)
			}
			// The chair, four members and the delegate, less the erased member.
			if public != (len(pop.Memberships) == 5) {
				t.Errorf("member lists public=%v, but %d memberships exported", public, len(pop.Memberships))
			}
			for _, m := range pop.Memberships {
				if m.PersonID == "rep" && m.OnBehalfOfID != "org1" {
					t.Errorf("the delegate's membership %+v", m)
				}
			}
			if bytes.Contains(r.Body, []byte(ms[1].UserID)) {
				t.Error("the erased person's id is in the export")
			}
			// The checker itself catches a broken export: a dangling voter and a count
			// that is not a number.
			tampered := bytes.Replace(r.Body, []byte(`"voter_id":"`+ms[0].UserID+`"`), []byte(`"voter_id":"nobody"`), 1)
			tampered = bytes.Replace(tampered, []byte(`"option":"yes","value":`), []byte(`"option":"yes","value":"many","v":`), 1)
			if got := checkPopolo(t, schemas, tampered); len(got) < 2 {
				t.Errorf("a tampered export passed: %v", got)
			}
		}
	})
}
