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

func manifestToProto(m Manifest) *pb.Manifest {
	out := &pb.Manifest{
		Name:           m.Name,
		Version:        m.Version,
		MinHostVersion: m.MinHostVersion,
		Description:    m.Description,
		Publishes:      m.Publishes,
		Subscribes:     m.Subscribes,
		Openapi:        m.OpenAPIDoc(),
	}
	for _, r := range m.Routes {
		out.Routes = append(out.Routes, &pb.Route{Method: r.Method, Path: r.Path, Permission: r.Permission, Domain: r.Domain, MaxBodyBytes: r.MaxBodyBytes})
	}
	for _, p := range m.Permissions {
		out.Permissions = append(out.Permissions, &pb.Permission{Name: p.Name, Description: p.Description})
	}
	for _, r := range m.Roles {
		out.Roles = append(out.Roles, &pb.Role{Name: r.Name, Description: r.Description, Permissions: r.Permissions})
	}
	for _, g := range m.Grants {
		out.Grants = append(out.Grants, &pb.Grant{Role: g.Role, Permission: g.Permission})
	}
	for _, s := range m.Settings {
		out.Settings = append(out.Settings, &pb.Setting{Name: s.Name, Default: s.Default, Description: s.Description})
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
