package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/kvarter/kvarter/sdk/internal/pluginv1"
)

// hostClient is the Host a plugin gets: calls go back to the core over the broker
// connection the host opened at Configure.
type hostClient struct {
	c pb.HostClient
}

var _ Host = (*hostClient)(nil)

func (h *hostClient) Users(ctx context.Context, ids []string) ([]User, error) {
	resp, err := h.c.Users(ctx, &pb.UsersRequest{Ids: ids})
	if err != nil {
		return nil, hostErr("users", err)
	}
	out := make([]User, 0, len(resp.Users))
	for _, u := range resp.Users {
		out = append(out, User{ID: u.Id, DisplayName: u.DisplayName, Locale: u.Locale, Email: u.Email})
	}
	return out, nil
}

func (h *hostClient) Neighbourhoods(ctx context.Context, ids []string) ([]Neighbourhood, error) {
	resp, err := h.c.Neighbourhoods(ctx, &pb.NeighbourhoodsRequest{Ids: ids})
	if err != nil {
		return nil, hostErr("neighbourhoods", err)
	}
	out := make([]Neighbourhood, 0, len(resp.Neighbourhoods))
	for _, n := range resp.Neighbourhoods {
		out = append(out, Neighbourhood{ID: n.Id, Name: n.Name, Slug: n.Slug, ParentID: n.ParentId, Archived: n.Archived})
	}
	return out, nil
}

func (h *hostClient) Memberships(ctx context.Context, userIDs []string) ([]Membership, error) {
	resp, err := h.c.Memberships(ctx, &pb.MembershipsRequest{UserIds: userIDs})
	if err != nil {
		return nil, hostErr("memberships", err)
	}
	out := make([]Membership, 0, len(resp.Memberships))
	for _, m := range resp.Memberships {
		mm := Membership{UserID: m.UserId, NeighbourhoodID: m.NeighbourhoodId}
		if m.VerifiedAt != nil {
			mm.VerifiedAt = m.VerifiedAt.AsTime()
		}
		out = append(out, mm)
	}
	return out, nil
}

func (h *hostClient) Organisations(ctx context.Context, ids []string) ([]Organisation, error) {
	resp, err := h.c.Organisations(ctx, &pb.OrganisationsRequest{Ids: ids})
	if err != nil {
		return nil, hostErr("organisations", err)
	}
	out := make([]Organisation, 0, len(resp.Organisations))
	for _, o := range resp.Organisations {
		out = append(out, Organisation{
			ID: o.Id, Name: o.Name, Kind: o.Kind, Verified: o.Verified,
			NeighbourhoodIDs: o.NeighbourhoodIds, Representatives: o.Representatives,
		})
	}
	return out, nil
}

func (h *hostClient) Can(ctx context.Context, userID, permission, domain string) (bool, error) {
	resp, err := h.c.Can(ctx, &pb.CanRequest{UserId: userID, Permission: permission, Domain: domain})
	if err != nil {
		return false, hostErr("can", err)
	}
	return resp.Allowed, nil
}

func (h *hostClient) Publish(ctx context.Context, e Event) error {
	if _, err := h.c.Publish(ctx, &pb.PublishRequest{Event: eventToProto(e)}); err != nil {
		return hostErr("publish "+e.Type, err)
	}
	return nil
}

func (h *hostClient) PublishAll(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	req := &pb.PublishAllRequest{Events: make([]*pb.Event, len(events))}
	for i, e := range events {
		req.Events[i] = eventToProto(e)
	}
	if _, err := h.c.PublishAll(ctx, req); err != nil {
		return hostErr(fmt.Sprintf("publish %d events", len(events)), err)
	}
	return nil
}

func (h *hostClient) Audit(ctx context.Context, e AuditEntry) error {
	var detail []byte
	if len(e.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(e.Detail); err != nil {
			return fmt.Errorf("host audit: detail: %w", err)
		}
	}
	_, err := h.c.Audit(ctx, &pb.AuditRequest{
		ActorId: e.ActorID, Action: e.Action, Domain: e.Domain, Target: e.Target, Detail: detail,
	})
	if err != nil {
		return hostErr("audit", err)
	}
	return nil
}

// hostErr turns a gRPC status into a plain error, keeping context errors recognisable
// with errors.Is.
func hostErr(op string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("host %s: %w", op, err)
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		return fmt.Errorf("host %s: %w", op, context.DeadlineExceeded)
	case codes.Canceled:
		return fmt.Errorf("host %s: %w", op, context.Canceled)
	case codes.Unavailable:
		return fmt.Errorf("host %s: %s: %w", op, st.Message(), ErrUnavailable)
	}
	return fmt.Errorf("host %s: %w", op, errors.New(st.Message()))
}
