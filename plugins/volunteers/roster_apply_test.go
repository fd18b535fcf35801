package volunteers

import (
	"context"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestRoster_Apply: applying the proposal invites every proposed volunteer who has no
// sign-up for the shift (each told once), skips and lists the one who applied already,
// and applying again invites nobody twice; an outsider may not apply it.
func TestRoster_Apply(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		for _, id := range []string{"a", "b", "c"} {
			f.volunteer(t, id, nil)
		}
		o := f.published(t, func(in *OpportunityInput) { in.Shifts = []ShiftInput{f.saturday(9, 12, 3)} })
		if _, err := f.svc.Apply(ctx, f.host.Principal("c"), o.ID, o.Shifts[0].ID); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.ApplyRoster(ctx, f.rep, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		invited := map[string]bool{}
		for _, a := range got.Invited {
			invited[a.VolunteerID] = a.Status == StatusInvited
		}
		if len(got.Invited)+len(got.Skipped) != 3 || !invited["a"] || !invited["b"] {
			t.Fatalf("applied: %+v", got)
		}
		for _, sk := range got.Skipped {
			if sk.VolunteerID != "c" || sk.Reason == "" {
				t.Errorf("skipped %+v", sk)
			}
		}
		f.wantNotified(t, NotifyInvited, []string{"a", "b"}, "c")
		again, err := f.svc.ApplyRoster(ctx, f.rep, o.ID)
		if err != nil || len(again.Invited) != 0 {
			t.Fatalf("applied twice: %+v, %v", again, err)
		}
		f.wantNotified(t, NotifyInvited, []string{"a", "b"})
		f.host.AddUser(sdk.User{ID: "stranger"})
		_, err = f.svc.ApplyRoster(ctx, f.host.Principal("stranger"), o.ID)
		wantCode(t, err, sdk.CodeForbidden)
	})
}
