package hostside

// Conversions between the contract types and protocol messages, host side; the mirror
// images are in package sdk.

import (
	"encoding/json"
	"fmt"
	"net/http"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kvarter/kvarter/sdk"
	pb "github.com/kvarter/kvarter/sdk/internal/pluginv1"
)

func manifestFromProto(m *pb.Manifest) sdk.Manifest {
	out := sdk.Manifest{
		Name:           m.Name,
		Version:        m.Version,
		MinHostVersion: m.MinHostVersion,
		Description:    m.Description,
		Publishes:      m.Publishes,
		Subscribes:     m.Subscribes,
		OpenAPI:        json.RawMessage(m.Openapi),
	}
	for _, r := range m.Routes {
		kind := sdk.RouteAPI
		if r.Kind == pb.RouteKind_ROUTE_KIND_PAGE {
			kind = sdk.RoutePage
		} else if r.Kind != pb.RouteKind_ROUTE_KIND_API {
			// A kind from a newer protocol: not something this host knows to serve.
			continue
		}
		route := sdk.Route{Method: r.Method, Path: r.Path, Permission: r.Permission, Domain: r.Domain,
			MaxBodyBytes: r.MaxBodyBytes, Kind: kind, ShowsUploadErrors: r.ShowsUploadErrors}
		for _, u := range r.Uploads {
			route.Uploads = append(route.Uploads, sdk.UploadField{Name: u.Name, Kinds: u.Kinds, MaxBytes: u.MaxBytes})
		}
		out.Routes = append(out.Routes, route)
	}
	if ui := m.GetUi(); ui != nil {
		for _, n := range ui.Nav {
			out.UI.Nav = append(out.UI.Nav, sdk.NavEntry{ID: n.Id, Path: n.Path, Labels: n.Labels, Permission: n.Permission,
				Domain: n.Domain, Order: int(n.Order)})
		}
		for _, c := range ui.Cards {
			out.UI.Cards = append(out.UI.Cards, sdk.Card{ID: c.Id, Slot: c.Slot, Path: c.Path, Labels: c.Labels, Link: c.Link,
				Permission: c.Permission, Domain: c.Domain})
		}
	}
	for _, p := range m.Permissions {
		out.Permissions = append(out.Permissions, sdk.Permission{Name: p.Name, Description: p.Description})
	}
	for _, r := range m.Roles {
		out.Roles = append(out.Roles, sdk.Role{Name: r.Name, Description: r.Description, Permissions: r.Permissions, Labels: r.Labels, Descriptions: r.Descriptions})
	}
	for _, g := range m.Grants {
		out.Grants = append(out.Grants, sdk.Grant{Role: g.Role, Permission: g.Permission})
	}
	for _, s := range m.Settings {
		out.Settings = append(out.Settings, sdk.Setting{Name: s.Name, Default: s.Default, Description: s.Description})
	}
	for _, k := range m.Notifications {
		out.Notifications = append(out.Notifications, sdk.NotificationKind{Name: k.Name, Labels: k.Labels, Default: sdk.Delivery(k.DefaultDelivery)})
	}
	for _, d := range m.DataUses {
		out.DataUses = append(out.DataUses, sdk.DataUse{ID: d.Id, What: d.What, Why: d.Why, Kept: d.Kept})
	}
	return out
}

func renderToProto(r sdk.Render) pb.Render {
	switch r {
	case sdk.RenderPage:
		return pb.Render_RENDER_PAGE
	case sdk.RenderFragment:
		return pb.Render_RENDER_FRAGMENT
	}
	return pb.Render_RENDER_API
}

func pageMetaFromProto(m *pb.PageMeta) sdk.PageMeta {
	if m == nil {
		return sdk.PageMeta{}
	}
	out := sdk.PageMeta{Title: m.Title, NavActive: m.NavActive, Announce: m.Announce, Focus: m.Focus}
	for _, c := range m.Breadcrumbs {
		out.Breadcrumbs = append(out.Breadcrumbs, sdk.Crumb{Label: c.Label, Href: c.Href})
	}
	return out
}

// EncodePrincipal encodes p as a request carries it to a plugin; nil for an
// anonymous caller. The bytes depend only on p, so a host may keep them with the
// caller's session and pass them as HTTPRequest.EncodedPrincipal. It fails only on
// text that is not UTF-8.
func EncodePrincipal(p sdk.Principal) ([]byte, error) {
	if !p.Authenticated() {
		return nil, nil
	}
	// Deterministic, so that one caller always has one encoding and the plugin's
	// cache of decoded principals keeps one entry per caller.
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(principalToProto(p))
	if err != nil {
		return nil, fmt.Errorf("encode principal %s: %w", p.UserID, err)
	}
	return b, nil
}

func principalToProto(p sdk.Principal) *pb.Principal {
	out := &pb.Principal{
		UserId:         p.UserID,
		DisplayName:    p.DisplayName,
		Locale:         p.Locale,
		Neighbourhoods: p.Neighbourhoods,
	}
	if p.AgeVerified {
		out.VerifiedAge = proto.Int32(int32(min(max(p.VerifiedAge, 0), 200))) // an age, bounded so the conversion cannot wrap
	}
	if len(p.Roles) > 0 {
		out.Roles = make(map[string]*pb.RoleList, len(p.Roles))
		for d, rs := range p.Roles {
			out.Roles[d] = &pb.RoleList{Roles: rs}
		}
	}
	for _, o := range p.Organisations {
		out.Organisations = append(out.Organisations, &pb.OrgMembership{OrganisationId: o.OrganisationID, Role: o.Role, Verified: o.Verified})
	}
	return out
}

func headerToProto(h http.Header) []*pb.Header {
	// One allocation for the messages, one for the pointers.
	hs := make([]pb.Header, len(h))
	out := make([]*pb.Header, 0, len(h))
	for k, v := range h {
		m := &hs[len(out)]
		m.Name, m.Values = k, v
		out = append(out, m)
	}
	return out
}

func headerFromProto(hs []*pb.Header) http.Header {
	h := make(http.Header, len(hs))
	for _, kv := range hs {
		k := http.CanonicalHeaderKey(kv.Name)
		if h[k] == nil {
			h[k] = kv.Values // the decoded message is ours alone: no copy needed
		} else {
			h[k] = append(h[k], kv.Values...)
		}
	}
	return h
}

func eventToProto(e sdk.Event) *pb.Event {
	out := &pb.Event{Id: e.ID, Type: e.Type, Payload: e.Payload, Source: e.Source}
	if !e.OccurredAt.IsZero() {
		out.OccurredAt = timestamppb.New(e.OccurredAt)
	}
	return out
}

func eventFromProto(e *pb.Event) sdk.Event {
	if e == nil {
		return sdk.Event{}
	}
	out := sdk.Event{ID: e.Id, Type: e.Type, Payload: json.RawMessage(e.Payload), Source: e.Source}
	if e.OccurredAt != nil {
		out.OccurredAt = e.OccurredAt.AsTime()
	}
	return out
}
