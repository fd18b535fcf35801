package hostside

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kvarter/kvarter/sdk"
	pb "github.com/kvarter/kvarter/sdk/internal/pluginv1"
)

// hostServer serves the core's sdk.Host to one plugin over the broker. It pins the
// Source of published events to the plugin and refuses types the manifest does not
// declare, so a plugin cannot speak for the core or another plugin.
type hostServer struct {
	pb.UnimplementedHostServer
	host      sdk.Host
	name      string
	publishes map[string]bool
}

func (s *hostServer) Users(ctx context.Context, req *pb.UsersRequest) (*pb.UsersResponse, error) {
	us, err := s.host.Users(ctx, req.Ids)
	if err != nil {
		return nil, hostErr(err)
	}
	out := &pb.UsersResponse{Users: make([]*pb.User, 0, len(us))}
	for _, u := range us {
		out.Users = append(out.Users, &pb.User{Id: u.ID, DisplayName: u.DisplayName, Locale: u.Locale, Email: u.Email})
	}
	return out, nil
}

func (s *hostServer) Neighbourhoods(ctx context.Context, req *pb.NeighbourhoodsRequest) (*pb.NeighbourhoodsResponse, error) {
	ns, err := s.host.Neighbourhoods(ctx, req.Ids)
	if err != nil {
		return nil, hostErr(err)
	}
	out := &pb.NeighbourhoodsResponse{Neighbourhoods: make([]*pb.Neighbourhood, 0, len(ns))}
	for _, n := range ns {
		out.Neighbourhoods = append(out.Neighbourhoods, &pb.Neighbourhood{
			Id: n.ID, Name: n.Name, Slug: n.Slug, ParentId: n.ParentID, Archived: n.Archived,
		})
	}
	return out, nil
}

func (s *hostServer) Memberships(ctx context.Context, req *pb.MembershipsRequest) (*pb.MembershipsResponse, error) {
	ms, err := s.host.Memberships(ctx, req.UserIds)
	if err != nil {
		return nil, hostErr(err)
	}
	out := &pb.MembershipsResponse{Memberships: make([]*pb.Membership, 0, len(ms))}
	for _, m := range ms {
		pm := &pb.Membership{UserId: m.UserID, NeighbourhoodId: m.NeighbourhoodID}
		if !m.VerifiedAt.IsZero() {
			pm.VerifiedAt = timestamppb.New(m.VerifiedAt)
		}
		out.Memberships = append(out.Memberships, pm)
	}
	return out, nil
}

func (s *hostServer) Organisations(ctx context.Context, req *pb.OrganisationsRequest) (*pb.OrganisationsResponse, error) {
	orgs, err := s.host.Organisations(ctx, req.Ids)
	if err != nil {
		return nil, hostErr(err)
	}
	out := &pb.OrganisationsResponse{Organisations: make([]*pb.Organisation, 0, len(orgs))}
	for _, o := range orgs {
		out.Organisations = append(out.Organisations, &pb.Organisation{
			Id: o.ID, Name: o.Name, Kind: o.Kind, Verified: o.Verified,
			NeighbourhoodIds: o.NeighbourhoodIDs, Representatives: o.Representatives,
		})
	}
	return out, nil
}

func (s *hostServer) Can(ctx context.Context, req *pb.CanRequest) (*pb.CanResponse, error) {
	ok, err := s.host.Can(ctx, req.UserId, req.Permission, req.Domain)
	if err != nil {
		return nil, hostErr(err)
	}
	return &pb.CanResponse{Allowed: ok}, nil
}

func (s *hostServer) Publish(ctx context.Context, req *pb.PublishRequest) (*pb.PublishResponse, error) {
	e, err := s.event(req.Event)
	if err != nil {
		return nil, status.Error(codes.PermissionDenied, err.Error())
	}
	if err := s.host.Publish(ctx, e); err != nil {
		return nil, hostErr(err)
	}
	return &pb.PublishResponse{}, nil
}

// PublishAll checks every event before the core sees any, so that one undeclared type
// refuses the whole batch.
func (s *hostServer) PublishAll(ctx context.Context, req *pb.PublishAllRequest) (*pb.PublishAllResponse, error) {
	events := make([]sdk.Event, len(req.Events))
	for i, pe := range req.Events {
		e, err := s.event(pe)
		if err != nil {
			return nil, status.Errorf(codes.PermissionDenied, "event %d of %d: %v; none was recorded",
				i+1, len(req.Events), err)
		}
		events[i] = e
	}
	if err := s.host.PublishAll(ctx, events); err != nil {
		return nil, hostErr(err)
	}
	return &pb.PublishAllResponse{}, nil
}

// event converts an event the plugin publishes, refusing a type its manifest does not
// declare and pinning Source to the plugin.
func (s *hostServer) event(pe *pb.Event) (sdk.Event, error) {
	e := eventFromProto(pe)
	if !s.publishes[e.Type] {
		return sdk.Event{}, fmt.Errorf("event type %q is not in the manifest's Publishes", e.Type)
	}
	e.Source = s.name
	return e, nil
}

func (s *hostServer) Audit(ctx context.Context, req *pb.AuditRequest) (*pb.AuditResponse, error) {
	e := sdk.AuditEntry{ActorID: req.ActorId, Action: req.Action, Domain: req.Domain, Target: req.Target}
	if len(req.Detail) > 0 {
		if err := json.Unmarshal(req.Detail, &e.Detail); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "audit detail: %v", err)
		}
	}
	if err := s.host.Audit(ctx, e); err != nil {
		return nil, hostErr(err)
	}
	return &pb.AuditResponse{}, nil
}

// hostErr passes the core's error message to the plugin; the core is responsible for
// not putting secrets in errors it returns to plugins.
func hostErr(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case sdk.IsUnavailable(err):
		// The core's database is down: the plugin answers 503, not 500.
		return status.Error(codes.Unavailable, err.Error())
	}
	return status.Error(codes.Unknown, fmt.Sprint(err))
}
