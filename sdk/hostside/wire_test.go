package hostside

import (
	"testing"

	"github.com/kvarter/kvarter/sdk"
	pb "github.com/kvarter/kvarter/sdk/internal/pluginv1"
)

// TestManifestFromProto_Pages: page routes and the UI section arrive as the plugin
// declared them; a manifest from a plugin built before pages has API routes and no
// UI; a route kind from a newer protocol is not served at all.
func TestManifestFromProto_Pages(t *testing.T) {
	m := manifestFromProto(&pb.Manifest{
		Name: "x",
		Routes: []*pb.Route{
			{Method: "GET", Path: "/api/v1/x/a"},
			{Method: "GET", Path: "/x/p", Kind: pb.RouteKind_ROUTE_KIND_PAGE},
			{Method: "GET", Path: "/x/future", Kind: pb.RouteKind(9)},
		},
		Ui: &pb.UI{
			Nav:   []*pb.NavEntry{{Id: "n", Path: "/x/p", Labels: map[string]string{"fi": "Sivu"}, Permission: "public", Order: -2}},
			Cards: []*pb.Card{{Id: "c", Slot: "home", Path: "/x/p", Labels: map[string]string{"en": "C"}, Link: "/x/p", Permission: "x.y.z", Domain: "city"}},
		},
	})
	if len(m.Routes) != 2 || m.Routes[0].Kind != sdk.RouteAPI || m.Routes[1].Kind != sdk.RoutePage {
		t.Errorf("routes %+v", m.Routes)
	}
	if len(m.UI.Nav) != 1 || m.UI.Nav[0].Labels["fi"] != "Sivu" || m.UI.Nav[0].Order != -2 ||
		len(m.UI.Cards) != 1 || m.UI.Cards[0].Permission != "x.y.z" || m.UI.Cards[0].Domain != "city" || m.UI.Cards[0].Link != "/x/p" {
		t.Errorf("ui %+v", m.UI)
	}
	old := manifestFromProto(&pb.Manifest{Name: "old", Routes: []*pb.Route{{Method: "GET", Path: "/api/v1/old/a"}}})
	if len(old.Routes) != 1 || old.Routes[0].Kind != sdk.RouteAPI || len(old.UI.Nav)+len(old.UI.Cards) != 0 {
		t.Errorf("old plugin %+v", old)
	}
	if meta := pageMetaFromProto(nil); meta.Title != "" || meta.Breadcrumbs != nil {
		t.Errorf("no page meta: %+v", meta)
	}
	meta := pageMetaFromProto(&pb.PageMeta{Title: "Başlık", Breadcrumbs: []*pb.Crumb{{Label: "Ana sayfa", Href: "/x/p"}}, Focus: "f"})
	if meta.Title != "Başlık" || len(meta.Breadcrumbs) != 1 || meta.Breadcrumbs[0].Label != "Ana sayfa" || meta.Focus != "f" {
		t.Errorf("page meta %+v", meta)
	}
	for r, want := range map[sdk.Render]pb.Render{sdk.RenderAPI: pb.Render_RENDER_API, sdk.RenderPage: pb.Render_RENDER_PAGE, sdk.RenderFragment: pb.Render_RENDER_FRAGMENT} {
		if got := renderToProto(r); got != want {
			t.Errorf("render %s = %v", r, got)
		}
	}
}

// TestManifestFromProto_Notifications: the kinds a manifest declares arrive with their
// labels and default delivery.
func TestManifestFromProto_Notifications(t *testing.T) {
	m := manifestFromProto(&pb.Manifest{Name: "x", Notifications: []*pb.NotificationKind{
		{Name: "x.thing.done", Labels: map[string]string{"en": "Done", "tr": "Bitti"}, DefaultDelivery: "weekly"}}})
	if len(m.Notifications) != 1 || m.Notifications[0].Name != "x.thing.done" || m.Notifications[0].Labels["tr"] != "Bitti" ||
		m.Notifications[0].Default != sdk.DeliverWeekly {
		t.Errorf("notifications %+v", m.Notifications)
	}
}
