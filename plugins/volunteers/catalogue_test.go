package volunteers

import (
	"context"
	"slices"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// cityLanguages are the five languages every shipped skill is named in.
var cityLanguages = []string{"en", "fi", "sv", "da", "tr"}

// TestCatalogue_Default: a new city's catalogue holds the shipped skills, each named
// in the five languages; working with children implies a background check, which every
// opportunity requiring it then needs; the city renames a skill and adds its own.
func TestCatalogue_Default(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db, err := store.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := store.Migrate(ctx, db, (&Plugin{}).Migrations()); err != nil {
			t.Fatal(err)
		}
		h := sdktest.NewFakeHost(New().Manifest())
		h.Grant("staff", RoleCoordinator, sdk.DomainCity)
		h.AddUser(sdk.User{ID: "rep"})
		h.AddOrganisation(sdk.Organisation{ID: "org-1", Name: "Parish", Verified: true, Representatives: []string{"rep"}})
		svc := NewService(db, h, Config{}, sdktest.NewClock(monday).Now, nil)
		skills, err := readAll(func(q sdk.ListQuery) (sdk.Page[Skill], error) { return svc.Skills(ctx, q) })
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"accessibility_assistance", "communications", "cooking", "driving_licence", "event_setup", "first_aid",
			"gardening", "interpreting", "it_help", "sports_coaching", "working_with_children", "working_with_older_people"}
		var ids []string
		for _, sk := range skills {
			ids = append(ids, sk.ID)
			for _, l := range cityLanguages {
				if sk.Names[l] == "" {
					t.Errorf("%s has no %s name", sk.ID, l)
				}
			}
			if sk.NeedsBackgroundCheck != (sk.ID == "working_with_children") {
				t.Errorf("%s: needs a background check = %v", sk.ID, sk.NeedsBackgroundCheck)
			}
		}
		if !slices.Equal(ids, want) {
			t.Fatalf("catalogue %v, want %v", ids, want)
		}
		staff := h.Principal("staff")
		if _, err := svc.PutSkill(ctx, staff, Skill{ID: "cooking", Names: map[string]string{"en": "Cooking for crowds", "fi": "Suurtalouskokkaus"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PutSkill(ctx, staff, Skill{ID: "sauna_heating", Names: map[string]string{"fi": "Saunan lämmitys"}}); err != nil {
			t.Fatal(err)
		}
		lb, err := svc.labels(ctx, "fi")
		if err != nil || lb.Skills["cooking"] != "Suurtalouskokkaus" || lb.Skills["sauna_heating"] != "Saunan lämmitys" || lb.Skills["first_aid"] != "Ensiapu" {
			t.Errorf("labels in fi: %v, %v", lb.Skills, err)
		}
		o, err := svc.CreateOpportunity(ctx, h.Principal("rep"), OpportunityInput{OrganisationID: "org-1", Title: "Homework club",
			RequiredSkills: []string{"working_with_children"},
			Shifts:         []ShiftInput{{Start: "2025-06-07T09:00:00Z", End: "2025-06-07T11:00:00Z", Capacity: 2}}})
		if err != nil || !o.NeedsBackgroundCheck {
			t.Fatalf("an opportunity requiring work with children: %+v, %v", o, err)
		}
	})
}

// TestMigration_0004: a city's own skills keep their names, a park draft made before the
// migration learns its booking (and is cancelled with it), and the skills of existing
// opportunities are found by the public filter.
func TestMigration_0004(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := sdktest.StoreAt(t, cfg, &Plugin{}, "0003")
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(`INSERT INTO skills (id, names, updated_at) VALUES ('first_aid', '{"fi":"EA1"}', 0)`)
		exec(`INSERT INTO opportunities (id, title, description, required_skills, preferred_skills, languages, state,
			source_event_id, created_at, updated_at) VALUES ('opp-1', 'Volunteers for Fair',
			'Created from approved park booking 01a24c1e-e17e-76ff-842f-ebc24970b8e5.', '["first_aid"]', '["cooking"]', '[]',
			'published', 'ev-1', 0, 0)`)
		exec(`INSERT INTO shifts (id, opportunity_id, starts_at, ends_at, capacity) VALUES ('sh-1', 'opp-1', ?, ?, 1)`,
			store.Micros(monday.AddDate(0, 0, 5)), store.Micros(monday.AddDate(0, 0, 5).Add(7200e9)))
		if err := store.Migrate(ctx, db, (&Plugin{}).Migrations()); err != nil {
			t.Fatal(err)
		}
		h := sdktest.NewFakeHost(New().Manifest())
		svc := NewService(db, h, Config{}, sdktest.NewClock(monday).Now, nil)
		lb, _ := svc.labels(ctx, "fi")
		if lb.Skills["first_aid"] != "EA1" || lb.Skills["cooking"] != "Ruoanlaitto" {
			t.Errorf("after 0004: %v", lb.Skills)
		}
		for _, sk := range []string{"first_aid", "cooking"} {
			got, err := publicOf(svc, PublicFilter{Skill: sk})
			if err != nil || len(got) != 1 {
				t.Errorf("skill %s: %+v, %v", sk, got, err)
			}
		}
		if err := svc.cancelForParkBooking(ctx, "01a24c1e-e17e-76ff-842f-ebc24970b8e5"); err != nil {
			t.Fatal(err)
		}
		if o, _ := svc.st.opportunity(ctx, db, "opp-1"); o.State != StateCancelled {
			t.Errorf("the old park draft: %s, want cancelled with its booking", o.State)
		}
	})
}

// TestChecks_StaffList: staff list volunteers by check status, those offering work with
// children marked; the list holds no birth date.
func TestChecks_StaffList(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		f.volunteer(t, "a", func(in *ProfileInput) { in.Skills = []string{"working_with_children"} })
		f.volunteer(t, "b", nil)
		f.volunteer(t, "c", nil)
		if _, err := f.svc.SetBackgroundCheck(ctx, f.staff, "b", BackgroundCheck{Status: CheckPending}); err != nil {
			t.Fatal(err)
		}
		all, err := readAll(func(q sdk.ListQuery) (sdk.Page[CheckEntry], error) {
			return f.svc.BackgroundChecks(ctx, f.staff, "", q)
		})
		if err != nil || len(all) != 3 || !all[0].NeedsCheck || all[1].NeedsCheck || all[0].DisplayName != "Volunteer a" {
			t.Fatalf("%+v, %v", all, err)
		}
		pending, err := readAll(func(q sdk.ListQuery) (sdk.Page[CheckEntry], error) {
			return f.svc.BackgroundChecks(ctx, f.staff, CheckPending, q)
		})
		if err != nil || len(pending) != 1 || pending[0].UserID != "b" {
			t.Fatalf("pending: %+v, %v", pending, err)
		}
		_, err = f.svc.BackgroundChecks(ctx, f.staff, "maybe", sdk.ListQuery{Limit: 10})
		wantCode(t, err, sdk.CodeInvalid)
	})
}
