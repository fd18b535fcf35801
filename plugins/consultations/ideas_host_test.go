package consultations

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestIdeasHost_Moderation runs the idea board inside a real `kvarter serve`: the
// host's routing and permission checks, Principals with verified neighbourhoods and
// granted roles, the core's notifications and audit log, and the plugin's own store.
// A comment is reported, hidden with a reason, its author is notified, appeals once,
// and another moderator restores it; the audit log holds each step. Refused input
// (too long, NUL, too fast) changes nothing. On SQLite, and on PostgreSQL when
// KVARTER_TEST_DATABASE_URL is set.
func TestIdeasHost_Moderation(t *testing.T) {
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-consultations", Name: "consultations"}, func(t *testing.T, core *sdktest.Core, _ bool) {
		nbh := core.Neighbourhood("Kallio")
		staff, mod1, mod2 := core.NewUser("staff@example.org"), core.NewUser("mod1@example.org"), core.NewUser("mod2@example.org")
		core.Grant(staff, RoleStaff, "city")
		core.Grant(mod1, RoleModerator, "city")
		core.Grant(mod2, RoleModerator, "city")
		ann, bob, olli := core.NewUser("ann@example.org"), core.NewUser("bob@example.org"), core.NewUser("olli@example.org")
		core.VerifiedMember(ann, nbh)
		core.VerifiedMember(bob, nbh)

		now := time.Now().UTC()
		var board Consultation
		staff.Must(201, "POST", api, map[string]any{"kind": "ideas", "title": "Ideas for the park", "background": "What should it have?",
			"what_next": "The committee decides in May.", "participation": "residents", "neighbourhoods": []string{nbh},
			"opens_at": now.Add(-time.Minute).Format(time.RFC3339), "closes_at": now.Add(24 * time.Hour).Format(time.RFC3339)}).Decode(t, &board)
		staff.Must(200, "POST", api+"/"+board.ID+"/publish", nil)
		ideas := api + "/" + board.ID + "/ideas"

		var idea Idea
		ann.Must(201, "POST", ideas, map[string]any{"title": "A pump track", "body": "For bikes and scooters.", "show_name": true}).Decode(t, &idea)
		olli.Must(403, "POST", ideas, map[string]any{"title": "x", "body": "y"}) // not a resident of Kallio
		core.Anonymous().Must(401, "POST", ideas, map[string]any{"title": "x", "body": "y"})

		t.Run("RefusedInputChangesNothing", func(t *testing.T) {
			for _, tc := range []struct {
				body        string
				field, rule string
			}{
				{`{"title": "` + strings.Repeat("ö", MaxIdeaTitle+1) + `", "body": "y"}`, "title", "max_length"},
				{`{"title": "x\u0000", "body": "y"}`, "title", "no_nul"},
				{`{"title": "x", "body": "` + strings.Repeat("a", MaxIdeaBody+1) + `"}`, "body", "max_length"},
				{`{"title": "", "body": "y"}`, "title", "required"},
			} {
				bob.Do("POST", ideas, tc.body).WantInvalid(t, tc.field, tc.rule)
			}
			bob.Must(400, "POST", ideas, `{"title": 5}`)
			var page struct{ Items []Idea }
			core.Anonymous().Must(200, "GET", ideas, nil).Decode(t, &page)
			if len(page.Items) != 1 {
				t.Errorf("%d ideas after refusals, want 1", len(page.Items))
			}
		})

		var comment Comment
		bob.Must(201, "POST", ideas+"/"+idea.ID+"/comments", map[string]any{"body": "Call me on 040 123 4567 to help", "show_name": true}).Decode(t, &comment)

		t.Run("RateLimited", func(t *testing.T) {
			// bob has written one comment this minute; two more are allowed, the
			// fourth is refused with 429 and Retry-After, and not stored.
			for i := range 2 {
				bob.Must(201, "POST", ideas+"/"+idea.ID+"/comments", map[string]any{"body": fmt.Sprintf("More %d", i)})
			}
			r := bob.Do("POST", ideas+"/"+idea.ID+"/comments", map[string]any{"body": "Too fast"})
			if r.Status != 429 || r.Header.Get("Retry-After") == "" || r.JSON()["error"].(map[string]any)["code"] != "rate_limited" {
				t.Errorf("4th comment in a minute: %d %s %s", r.Status, r.Header, r.Body)
			}
			var page struct{ Items []Comment }
			core.Anonymous().Must(200, "GET", ideas+"/"+idea.ID+"/comments", nil).Decode(t, &page)
			if len(page.Items) != 3 {
				t.Errorf("%d comments, want 3", len(page.Items))
			}
		})

		commentAt := ideas + "/" + idea.ID + "/comments/" + comment.ID
		ann.Must(201, "POST", commentAt+"/reports", map[string]any{"category": "personal_data", "body": "A phone number"})
		ann.Must(409, "POST", commentAt+"/reports", map[string]any{"category": "personal_data", "body": "Again"})
		ann.Must(403, "GET", moderationAPI+"/queue", nil) // the host refuses a resident
		var queue struct{ Items []QueueItem }
		mod1.Must(200, "GET", moderationAPI+"/queue", nil).Decode(t, &queue)
		if len(queue.Items) != 1 || queue.Items[0].Target.ID != comment.ID || len(queue.Items[0].Reports) != 1 {
			t.Fatalf("queue %+v", queue)
		}
		ann.Must(403, "POST", commentAt+"/hide", map[string]any{"category": "personal_data", "note": "x"})
		var hidden Case
		mod1.Must(201, "POST", commentAt+"/hide", map[string]any{"category": "personal_data", "note": "A phone number is personal data."}).Decode(t, &hidden)

		var shown struct{ Items []Comment }
		core.Anonymous().Must(200, "GET", ideas+"/"+idea.ID+"/comments", nil).Decode(t, &shown)
		if shown.Items[0].Body != "" || shown.Items[0].Hidden == nil || shown.Items[0].Hidden.Category != CategoryPersonalData {
			t.Errorf("hidden comment shown as %+v", shown.Items[0])
		}
		if data := core.Anonymous().Must(200, "GET", api+"/"+board.ID+"/ideas.json", nil); strings.Contains(string(data.Body), "040 123") ||
			strings.Contains(string(data.Body), "@example.org") || strings.Contains(string(data.Body), bob.UserID) {
			t.Errorf("open data leaks: %s", data.Body)
		}
		waitNotification(t, bob, NotifyHidden)

		olli.Must(404, "GET", moderationAPI+"/cases/"+hidden.ID, nil)
		bob.Must(200, "POST", moderationAPI+"/cases/"+hidden.ID+"/appeal", map[string]any{"body": "It is the club's public number."})
		bob.Must(409, "POST", moderationAPI+"/cases/"+hidden.ID+"/appeal", map[string]any{"body": "Again"})
		if r := mod1.Do("POST", moderationAPI+"/cases/"+hidden.ID+"/decision", map[string]any{"decision": "upheld", "reason": "Mine"}); r.Status != 403 ||
			r.JSON()["error"].(map[string]any)["fields"].(map[string]any)["rule"] != "same_moderator" {
			t.Errorf("the hiding moderator decided: %d %s", r.Status, r.Body)
		}
		var decided Case
		mod2.Must(200, "POST", moderationAPI+"/cases/"+hidden.ID+"/decision", map[string]any{"decision": "restored", "reason": "It is a club's number."}).Decode(t, &decided)
		var restored struct{ Items []Comment }
		core.Anonymous().Must(200, "GET", ideas+"/"+idea.ID+"/comments", nil).Decode(t, &restored)
		if restored.Items[0].Hidden != nil || !strings.Contains(restored.Items[0].Body, "040 123") {
			t.Errorf("restored comment shown as %+v", restored.Items[0])
		}
		waitNotification(t, bob, NotifyDecided)

		// The audit log, read by the city admin through the core.
		for _, step := range []struct{ actor, action string }{
			{ann.UserID, "consultations.content.reported"},
			{mod1.UserID, "consultations.content.hidden"},
			{bob.UserID, "consultations.content.appealed"},
			{mod2.UserID, "consultations.content.appeal_decided"},
		} {
			var log struct {
				Items []struct {
					ActorID *string `json:"actor_id"`
					Action  string  `json:"action"`
					Target  string  `json:"target"`
				}
			}
			core.Admin().Must(200, "GET", "/api/v1/admin/audit?"+url.Values{"action": {step.action}}.Encode(), nil).Decode(t, &log)
			if len(log.Items) != 1 || log.Items[0].ActorID == nil || *log.Items[0].ActorID != step.actor || log.Items[0].Target != "consultations.comment:"+comment.ID {
				t.Errorf("audit of %s: %+v", step.action, log.Items)
			}
		}

		// Staff decide what becomes of the idea; the author hears the reason.
		ann.Must(403, "PUT", ideas+"/"+idea.ID+"/status", map[string]any{"status": "taken_forward", "reason": "x"})
		staff.Must(200, "PUT", ideas+"/"+idea.ID+"/status", map[string]any{"status": "taken_forward", "reason": "In next year's budget."})
		waitNotification(t, ann, NotifyIdeaStatus)
	})
}
