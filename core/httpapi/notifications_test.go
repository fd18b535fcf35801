package httpapi_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
)

const apiKind = "assemblies.motion.answered"

// TestAPI_Notifications walks a person's notifications, deliveries and follows through
// the API, and the one-click unsubscribe without sign-in.
func TestAPI_Notifications(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		n.Notifications.DeclareKinds("assemblies", []core.NotificationKind{
			{Name: apiKind, Labels: map[string]string{"en": "The city answered a motion", "fi": "Kaupunki vastasi aloitteeseen"}, Default: core.DeliverImmediately},
			{Name: "assemblies.proposal.new", Labels: map[string]string{"en": "A new proposal"}, Default: core.DeliverWeekly},
		})
		aino := coretest.Register(t, n, "aino@example.org", "Aino")
		elif := coretest.Register(t, n, "elif@example.org", "Elif")
		ctx := context.Background()
		if err := n.Notifications.ChangeFollows(ctx, []core.FollowChange{{UserID: aino.ID, Subject: "assemblies.motion:m1", Follow: true}}); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			err := n.Notifications.Notify(ctx, []core.NotificationRequest{{ID: fmt.Sprint("evt-", i), Kind: apiKind, Source: "assemblies",
				Followers: []string{"assemblies.motion:m1"}, Subject: "assemblies.motion:m1", Link: "/assemblies/a1/motions/m1",
				Texts: map[string]core.NotificationText{"en": {Title: fmt.Sprint("Answer ", i), Body: "The city will repave Harbour Street."}}}})
			if err != nil {
				t.Fatal(err)
			}
		}

		t.Run("List", func(t *testing.T) {
			first := aino.Must(200, "GET", "/api/v1/me/notifications?limit=2", nil).JSON()
			items := first["items"].([]any)
			if len(items) != 2 || items[0].(map[string]any)["title"] != "Answer 2" || first["next_cursor"] == "" {
				t.Fatalf("first page %v", first)
			}
			rest := aino.Must(200, "GET", "/api/v1/me/notifications?limit=2&cursor="+url.QueryEscape(first["next_cursor"].(string)), nil).JSON()
			if len(rest["items"].([]any)) != 1 || rest["next_cursor"] != "" {
				t.Errorf("second page %v", rest)
			}
			if got := elif.Must(200, "GET", "/api/v1/me/notifications", nil).JSON()["items"].([]any); len(got) != 0 {
				t.Errorf("Elif sees %v", got)
			}
			id := items[0].(map[string]any)["id"].(string)
			// Elif cannot mark Aino's read.
			elif.Must(204, "POST", "/api/v1/me/notifications/read", map[string]any{"ids": []string{id}})
			if c := aino.Must(200, "GET", "/api/v1/me/notifications/unread-count", nil).JSON()["count"]; c != float64(3) {
				t.Errorf("unread %v, want 3", c)
			}
			aino.Must(204, "POST", "/api/v1/me/notifications/read", map[string]any{"ids": []string{id}})
			if c := aino.Must(200, "GET", "/api/v1/me/notifications/unread-count", nil).JSON()["count"]; c != float64(2) {
				t.Errorf("unread %v, want 2", c)
			}
			aino.Must(204, "POST", "/api/v1/me/notifications/read-all", nil)
			if c := aino.Must(200, "GET", "/api/v1/me/notifications/unread-count", nil).JSON()["count"]; c != float64(0) {
				t.Errorf("unread %v, want 0", c)
			}
		})

		t.Run("Preferences", func(t *testing.T) {
			r := aino.Must(200, "PUT", "/api/v1/me/notification-preferences", map[string]any{"deliveries": map[string]string{apiKind: "daily"}}).JSON()
			got := map[string]string{}
			for _, it := range r["items"].([]any) {
				p := it.(map[string]any)
				got[p["kind"].(string)] = fmt.Sprint(p["delivery"], "/", p["chosen"])
			}
			if got[apiKind] != "daily/true" || got["assemblies.proposal.new"] != "weekly/false" {
				t.Errorf("preferences %v", got)
			}
			for name, body := range map[string]any{
				"unknown delivery": map[string]any{"deliveries": map[string]string{apiKind: "hourly"}},
				"unknown kind":     map[string]any{"deliveries": map[string]string{"nobody.kind": "daily"}},
				"NUL kind":         map[string]any{"deliveries": map[string]string{"a\x00b": "daily"}},
			} {
				if r := aino.Do("PUT", "/api/v1/me/notification-preferences", body); r.Status != 422 {
					t.Errorf("%s: %d %s", name, r.Status, r.Body)
				}
			}
			if r := aino.Do("PUT", "/api/v1/me/notification-preferences", map[string]any{"deliveries": []string{"x"}}); r.Status != 400 {
				t.Errorf("wrong type: %d", r.Status)
			}
			r = aino.Must(200, "GET", "/api/v1/me/notification-preferences", nil).JSON()
			for _, it := range r["items"].([]any) {
				if p := it.(map[string]any); p["kind"] == apiKind && p["delivery"] != "daily" {
					t.Errorf("a refused request changed the delivery to %v", p["delivery"])
				}
			}
		})

		t.Run("Follows", func(t *testing.T) {
			r := aino.Must(200, "GET", "/api/v1/me/follows", nil).JSON()
			if items := r["items"].([]any); len(items) != 1 || items[0].(map[string]any)["subject"] != "assemblies.motion:m1" {
				t.Fatalf("follows %v", r)
			}
			aino.Must(204, "DELETE", "/api/v1/me/follows/"+url.PathEscape("assemblies.motion:m1"), nil)
			if items := aino.Must(200, "GET", "/api/v1/me/follows", nil).JSON()["items"].([]any); len(items) != 0 {
				t.Errorf("still following %v", items)
			}
		})

		t.Run("Unsubscribe", func(t *testing.T) {
			token := n.Notifications.UnsubscribeToken(elif.ID, apiKind)
			// RFC 8058: the mail client POSTs the form body to the link, with no cookie or token.
			anon := coretest.NewClient(t, n)
			resp, body := coretest.RawRequest(t, "POST", n.URL()+"/api/v1/notifications/unsubscribe?token="+url.QueryEscape(token),
				"List-Unsubscribe=One-Click", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
			if resp.StatusCode != 200 {
				t.Fatalf("one-click: %d %s", resp.StatusCode, body)
			}
			prefs := elif.Must(200, "GET", "/api/v1/me/notification-preferences", nil).JSON()
			for _, it := range prefs["items"].([]any) {
				if p := it.(map[string]any); p["kind"] == apiKind && p["delivery"] != "in_app" {
					t.Errorf("after unsubscribing: %v", p)
				}
			}
			if r := anon.Do("POST", "/api/v1/notifications/unsubscribe?token="+url.QueryEscape(token[:len(token)-2]), nil); r.Status != 422 {
				t.Errorf("truncated token: %d", r.Status)
			}
			if r := anon.Do("POST", "/api/v1/notifications/unsubscribe", nil); r.Status != 422 {
				t.Errorf("no token: %d", r.Status)
			}
		})

		t.Run("ErrAnonymous", func(t *testing.T) {
			anon := coretest.NewClient(t, n)
			for _, path := range []string{"/api/v1/me/notifications", "/api/v1/me/notifications/unread-count", "/api/v1/me/notification-preferences", "/api/v1/me/follows"} {
				if r := anon.Do("GET", path, nil); r.Status != 401 {
					t.Errorf("%s: %d", path, r.Status)
				}
			}
		})
	})
}
