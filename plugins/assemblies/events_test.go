package assemblies

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// payloads maps every event type the plugin publishes or consumes to its payload type.
var payloads = map[string]any{
	EventAssemblyCreated:       AssemblyCreatedPayload{},
	EventMemberJoined:          MemberJoinedPayload{},
	EventMeetingScheduled:      MeetingScheduledPayload{},
	EventMeetingCancelled:      MeetingCancelledPayload{},
	EventMinutesPublished:      MinutesPublishedPayload{},
	EventConsultationRequested: ConsultationRequestedPayload{},
	EventMotionTabled:          MotionTabledPayload{},
	EventMotionWithdrawn:       MotionWithdrawnPayload{},
	EventVoteOpened:            VoteOpenedPayload{},
	EventMotionAdopted:         MotionAdoptedPayload{},
	EventMotionRejected:        MotionRejectedPayload{},
	EventMotionNoQuorum:        MotionNoQuorumPayload{},
	EventMotionAcknowledged:    MotionAcknowledgedPayload{},
	EventMotionAnswered:        MotionAnsweredPayload{},
	EventMotionImplemented:     MotionImplementedPayload{},
	sdk.EventUserDeleted:       sdk.UserDeleted{},
}

// jsonFields are the JSON names of a struct's own fields, without those of the
// AssemblyRef every published payload embeds (README.md documents them once).
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if f.Anonymous && f.Type == reflect.TypeFor[AssemblyRef]() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}

// TestEvents_Documented checks that every event type of the manifest has a payload
// struct, and that README.md names each type and each field of its payload.
func TestEvents_Documented(t *testing.T) {
	m := sdk.ManifestOf(New()) // as the host sees it: with core.user.deleted
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, events, ok := strings.Cut(string(readme), "\n## Events\n")
	if !ok {
		t.Fatal("README.md has no Events section")
	}
	events, _, _ = strings.Cut(events, "\n## ")
	intro, _, _ := strings.Cut(events, "\n### ")
	for _, f := range []string{"assembly_id", "neighbourhood_id"} {
		if !strings.Contains(intro, "`"+f+"`") {
			t.Errorf("README.md does not document %s, which every payload carries", f)
		}
	}
	for _, typ := range slices.Concat(m.Publishes, m.Subscribes) {
		p, ok := payloads[typ]
		if !ok {
			t.Errorf("event %s has no payload struct", typ)
			continue
		}
		_, section, ok := strings.Cut(events, "`"+typ+"`")
		if !ok {
			t.Errorf("README.md does not document %s", typ)
			continue
		}
		section, _, _ = strings.Cut(section, "\n### ")
		for _, f := range jsonFields(reflect.TypeOf(p)) {
			if !strings.Contains(section, "`"+f+"`") {
				t.Errorf("README.md does not document field %s of %s", f, typ)
			}
		}
	}
	if len(payloads) != len(m.Publishes)+len(m.Subscribes) {
		t.Errorf("%d payload types for %d declared event types", len(payloads), len(m.Publishes)+len(m.Subscribes))
	}
}

// checkPayloads decodes every event the fake host received into its payload struct,
// refusing unknown fields, and checks that it names its assembly.
func checkPayloads(t *testing.T, e *env) {
	t.Helper()
	evs := e.Host.Events()
	if len(evs) == 0 {
		t.Fatal("no events published")
	}
	for _, ev := range evs {
		p, ok := payloads[ev.Type]
		if !ok {
			t.Errorf("event %s has no payload struct", ev.Type)
			continue
		}
		v := reflect.New(reflect.TypeOf(p))
		dec := json.NewDecoder(bytes.NewReader(ev.Payload))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v.Interface()); err != nil {
			t.Errorf("event %s: payload %s does not match %T: %v", ev.Type, ev.Payload, p, err)
			continue
		}
		if ref := v.Elem().FieldByName("AssemblyRef").Interface().(AssemblyRef); ref.AssemblyID == "" || ref.NeighbourhoodID == "" {
			t.Errorf("event %s does not name its assembly: %s", ev.Type, ev.Payload)
		}
	}
}

// TestService_EventPayloads drives an assembly through every event the plugin
// publishes and checks each payload against its struct and the facts it reports.
func TestService_EventPayloads(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, map[string]string{SettingAnswerDeadlineDays: "1"})
		a, chair := e.assembly("ev", map[string]any{"org_seats": 1})
		base := "/api/v1/assemblies/" + a.ID
		ms := e.members(a, 2)

		e.Host.AddOrganisation(sdk.Organisation{ID: "o1", Name: "Park friends", Verified: true, NeighbourhoodIDs: []string{"ev"}, Representatives: []string{"rep"}})
		rep := e.As("rep")
		e.Must(201, rep, "POST", base+"/delegates", map[string]any{"organisation_id": "o1"})

		starts := t0.Add(50*time.Hour + 123456*time.Microsecond)
		var mt Meeting
		e.Must(201, chair, "POST", base+"/meetings", map[string]any{"title": "Spring", "starts_at": starts,
			"ends_at": starts.Add(2 * time.Hour), "place": "Library"}).Decode(t, &mt)
		e.clock.Advance(52 * time.Hour) // the meeting has been held: minutes can be written
		e.Must(200, chair, "POST", base+"/meetings/"+mt.ID+"/minutes", map[string]any{"minutes": "We met."})
		e.Must(200, chair, "POST", base+"/meetings/"+mt.ID+"/minutes/approve", nil)
		e.Must(200, chair, "POST", base+"/meetings/"+mt.ID+"/minutes/publish", nil)
		var other Meeting
		e.Must(201, chair, "POST", base+"/meetings", map[string]any{"title": "Autumn", "starts_at": starts.Add(24 * time.Hour),
			"ends_at": starts.Add(26 * time.Hour), "place": "Library"}).Decode(t, &other)
		e.Must(200, chair, "POST", base+"/meetings/"+other.ID+"/cancel", map[string]any{"reason": "Storm"})

		advice := t0.Add(14 * 24 * time.Hour)
		e.Must(201, e.admin(), "POST", base+"/motions", map[string]any{"kind": "consultation", "title": "New library hours?",
			"text": "Tell us.", "advice_due_at": advice})
		var draft Motion
		e.Must(201, ms[0], "POST", base+"/motions", map[string]any{"title": "Withdrawn", "text": "Never mind."}).Decode(t, &draft)
		e.Must(200, ms[0], "POST", base+"/motions/"+draft.ID+"/withdraw", nil)

		vote := func(title string, choices ...string) Motion {
			m := e.tabled(a, ms[0], title)
			e.Must(200, chair, "POST", base+"/motions/"+m.ID+"/vote/open", nil)
			for i, c := range choices {
				e.Must(201, ms[i], "POST", base+"/motions/"+m.ID+"/vote/ballots", map[string]any{"choice": c})
			}
			e.Must(200, chair, "POST", base+"/motions/"+m.ID+"/vote/close", nil).Decode(t, &CloseResult{})
			return m
		}
		adopted := vote("Adopted", "yes", "yes")
		vote("Rejected", "no", "no")
		vote("No quorum")
		admin := e.admin()
		e.Must(200, admin, "POST", base+"/motions/"+adopted.ID+"/acknowledge", nil)
		e.clock.Advance(48 * time.Hour) // past the one-day deadline
		e.Must(200, admin, "POST", base+"/motions/"+adopted.ID+"/answer", map[string]any{"decision": "accepted", "reasoning": "Good idea."})
		e.Must(200, admin, "POST", base+"/motions/"+adopted.ID+"/implemented", nil)

		checkPayloads(t, e)
		seen := map[string]json.RawMessage{}
		for _, ev := range e.Host.Events() {
			if _, ok := seen[ev.Type]; !ok {
				seen[ev.Type] = ev.Payload
			}
		}
		for _, typ := range New().Manifest().Publishes {
			if _, ok := seen[typ]; !ok {
				t.Errorf("event %s never published", typ)
			}
		}
		var sched MeetingScheduledPayload
		if err := json.Unmarshal(seen[EventMeetingScheduled], &sched); err != nil || !sched.StartsAt.Equal(starts) || sched.MeetingID != mt.ID {
			t.Errorf("meeting scheduled: %s (%v), want starts_at %s", seen[EventMeetingScheduled], err, starts)
		}
		var cons ConsultationRequestedPayload
		if err := json.Unmarshal(seen[EventConsultationRequested], &cons); err != nil || !cons.AdviceDueAt.Equal(advice) {
			t.Errorf("consultation requested: %s (%v)", seen[EventConsultationRequested], err)
		}
		var ans MotionAnsweredPayload
		if err := json.Unmarshal(seen[EventMotionAnswered], &ans); err != nil || !ans.Late || ans.Decision != DecisionAccepted || ans.MotionID != adopted.ID {
			t.Errorf("motion answered: %s (%v)", seen[EventMotionAnswered], err)
		}
		var delegates []MemberJoinedPayload
		for _, j := range sdktest.Payloads[MemberJoinedPayload](t, e.Host, EventMemberJoined) {
			if j.OrganisationID != "" {
				delegates = append(delegates, j)
			}
		}
		if len(delegates) != 1 || delegates[0].UserID != "rep" || delegates[0].OrganisationID != "o1" || delegates[0].Status != MemberActive {
			t.Errorf("delegate joined: %+v", delegates)
		}
	})
}
