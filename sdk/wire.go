package sdk

// Conversions between the contract types and protocol messages, plugin side. The host
// side has the mirror images in sdk/hostside; the round trip is tested there against a
// real plugin process.

import (
	"encoding/json"
	"net/http"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/kvarter/kvarter/sdk/internal/pluginv1"
)

// manifestToProto encodes m for a host; pages says whether the host routes pages (it
// asked for them in Describe). An older host would refuse a route outside /api/v1/, so
// it gets the API routes only and no UI section: the plugin's API keeps working there.
func manifestToProto(m Manifest, pages bool) *pb.Manifest {
	api := make([]Route, 0, len(m.Routes))
	for _, r := range m.Routes {
		if r.Kind == RouteAPI {
			api = append(api, r)
		}
	}
	doc := m.OpenAPI
	if len(doc) == 0 {
		doc = OpenAPI(api) // pages stay out of the document
	}
	out := &pb.Manifest{
		Name:           m.Name,
		Version:        m.Version,
		MinHostVersion: m.MinHostVersion,
		Description:    m.Description,
		Publishes:      m.Publishes,
		Subscribes:     m.Subscribes,
		Openapi:        doc,
	}
	for _, r := range m.Routes {
		if r.Kind != RouteAPI && !pages {
			continue
		}
		pr := &pb.Route{Method: r.Method, Path: r.Path, Permission: r.Permission, Domain: r.Domain,
			MaxBodyBytes: r.MaxBodyBytes, Kind: routeKindToProto(r.Kind), ShowsUploadErrors: r.ShowsUploadErrors}
		for _, u := range r.Uploads {
			pr.Uploads = append(pr.Uploads, &pb.UploadField{Name: u.Name, Kinds: u.Kinds, MaxBytes: u.MaxBytes})
		}
		out.Routes = append(out.Routes, pr)
	}
	if pages && (len(m.UI.Nav) > 0 || len(m.UI.Cards) > 0) {
		out.Ui = uiToProto(m.UI)
	}
	for _, p := range m.Permissions {
		out.Permissions = append(out.Permissions, &pb.Permission{Name: p.Name, Description: p.Description})
	}
	for _, r := range m.Roles {
		out.Roles = append(out.Roles, &pb.Role{Name: r.Name, Description: r.Description, Permissions: r.Permissions, Labels: r.Labels, Descriptions: r.Descriptions})
	}
	for _, g := range m.Grants {
		out.Grants = append(out.Grants, &pb.Grant{Role: g.Role, Permission: g.Permission})
	}
	for _, s := range m.Settings {
		out.Settings = append(out.Settings, &pb.Setting{Name: s.Name, Default: s.Default, Description: s.Description})
	}
	for _, k := range m.Notifications {
		out.Notifications = append(out.Notifications, &pb.NotificationKind{Name: k.Name, Labels: k.Labels, DefaultDelivery: string(k.Default)})
	}
	for _, d := range m.DataUses {
		out.DataUses = append(out.DataUses, &pb.DataUse{Id: d.ID, What: d.What, Why: d.Why, Kept: d.Kept})
	}
	return out
}

func routeKindToProto(k RouteKind) pb.RouteKind {
	if k == RoutePage {
		return pb.RouteKind_ROUTE_KIND_PAGE
	}
	return pb.RouteKind_ROUTE_KIND_API
}

func uiToProto(ui UI) *pb.UI {
	out := &pb.UI{}
	for _, n := range ui.Nav {
		out.Nav = append(out.Nav, &pb.NavEntry{Id: n.ID, Path: n.Path, Labels: n.Labels, Permission: n.Permission,
			Domain: n.Domain, Order: int32(n.Order)})
	}
	for _, c := range ui.Cards {
		out.Cards = append(out.Cards, &pb.Card{Id: c.ID, Slot: c.Slot, Path: c.Path, Labels: c.Labels, Link: c.Link,
			Permission: c.Permission, Domain: c.Domain})
	}
	return out
}

// renderFromProto maps the protocol's render mode; a value this SDK does not know
// (a newer host's) is answered as an API request, the safe default.
func renderFromProto(r pb.Render) Render {
	switch r {
	case pb.Render_RENDER_PAGE:
		return RenderPage
	case pb.Render_RENDER_FRAGMENT:
		return RenderFragment
	}
	return RenderAPI
}

// pageMetaToProto encodes a page's metadata; nil when there is none, so API answers
// carry nothing extra.
func pageMetaToProto(m *PageMeta) *pb.PageMeta {
	if m == nil || m.isZero() {
		return nil
	}
	out := &pb.PageMeta{Title: m.Title, NavActive: m.NavActive, Announce: m.Announce, Focus: m.Focus}
	for _, c := range m.Breadcrumbs {
		out.Breadcrumbs = append(out.Breadcrumbs, &pb.Crumb{Label: c.Label, Href: c.Href})
	}
	return out
}

func principalFromProto(p *pb.Principal) Principal {
	if p == nil || p.UserId == "" {
		return Principal{}
	}
	out := Principal{
		UserID:         p.UserId,
		DisplayName:    p.DisplayName,
		Locale:         p.Locale,
		Neighbourhoods: p.Neighbourhoods,
	}
	if p.VerifiedAge != nil {
		out.AgeVerified, out.VerifiedAge = true, int(p.GetVerifiedAge())
	}
	if len(p.Roles) > 0 {
		out.Roles = make(map[string][]string, len(p.Roles))
		for d, rl := range p.Roles {
			out.Roles[d] = rl.GetRoles()
		}
	}
	for _, o := range p.Organisations {
		out.Organisations = append(out.Organisations, OrgMembership{OrganisationID: o.OrganisationId, Role: o.Role, Verified: o.Verified})
	}
	return out
}

func headerFromProto(hs []*pb.Header) http.Header {
	h := make(http.Header, len(hs))
	for _, kv := range hs {
		k := http.CanonicalHeaderKey(kv.Name)
		h[k] = append(h[k], kv.Values...)
	}
	return h
}

func headerToProto(h http.Header) []*pb.Header {
	out := make([]*pb.Header, 0, len(h))
	for k, v := range h {
		out = append(out, &pb.Header{Name: k, Values: v})
	}
	return out
}

func eventFromProto(e *pb.Event) Event {
	if e == nil {
		return Event{}
	}
	out := Event{ID: e.Id, Type: e.Type, Payload: json.RawMessage(e.Payload), Source: e.Source}
	if e.OccurredAt != nil {
		out.OccurredAt = e.OccurredAt.AsTime()
	}
	return out
}

func eventToProto(e Event) *pb.Event {
	out := &pb.Event{Id: e.ID, Type: e.Type, Payload: e.Payload, Source: e.Source}
	if !e.OccurredAt.IsZero() {
		out.OccurredAt = timestamppb.New(e.OccurredAt)
	}
	return out
}
