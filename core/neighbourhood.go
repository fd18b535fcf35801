package core

import (
	"context"
	"encoding/json"
	"time"
)

// Neighbourhood is a place residents belong to. A district is a neighbourhood that
// others name as their parent.
type Neighbourhood struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Slug       string          `json:"slug"`
	ParentID   *string         `json:"parent_id"`
	Boundary   json.RawMessage `json:"boundary,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	ArchivedAt *time.Time      `json:"archived_at,omitempty"`
}

// NeighbourhoodInput creates a neighbourhood.
type NeighbourhoodInput struct {
	Name     string          `json:"name" max:"100"`
	Slug     string          `json:"slug" max:"64"`
	ParentID *string         `json:"parent_id" max:"64"`
	Boundary json.RawMessage `json:"boundary"`
}

// NeighbourhoodUpdate changes some fields of a neighbourhood; nil means unchanged.
type NeighbourhoodUpdate struct {
	Name     *string          `json:"name" max:"100"`
	Slug     *string          `json:"slug" max:"64"`
	ParentID *string          `json:"parent_id" max:"64"`
	Boundary *json.RawMessage `json:"boundary"`
	Archived *bool            `json:"archived"`
}

// Membership states.
const (
	MembershipRequested = "requested"
	MembershipVerified  = "verified"
	MembershipRejected  = "rejected"
	MembershipLeft      = "left"
	MembershipRevoked   = "revoked"
)

// Membership is a person's request to belong to a neighbourhood, and its answer.
type Membership struct {
	ID              string     `json:"id" db:"id"`
	UserID          string     `json:"user_id" db:"user_id"`
	DisplayName     string     `json:"display_name,omitempty" db:"display_name"`
	NeighbourhoodID string     `json:"neighbourhood_id" db:"neighbourhood_id"`
	State           string     `json:"state" db:"state"`
	Note            string     `json:"note,omitempty" db:"note"`
	Reason          string     `json:"reason,omitempty" db:"reason"`
	CreatedAt       time.Time  `json:"created_at" db:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at" db:"updated_at"`
	VerifiedAt      *time.Time `json:"verified_at,omitempty" db:"verified_at"`
	// ClaimProvider names the identity provider whose claim verified the membership
	// (ClaimsService); empty when a coordinator or an import did.
	ClaimProvider string `json:"claim_provider,omitempty" db:"claim_provider"`
}

// ImportRow is the outcome of one line of a membership import.
type ImportRow struct {
	Line          int    `json:"line"`
	Email         string `json:"email"`
	Neighbourhood string `json:"neighbourhood"`
	Result        string `json:"result"` // imported, already_verified, unknown_email, unknown_neighbourhood, invalid, over_limit
}

// ImportReport is the outcome of a whole import; Imported is false when nothing changed.
type ImportReport struct {
	Imported bool        `json:"imported"`
	Rows     []ImportRow `json:"rows"`
}

// NeighbourhoodService manages neighbourhoods and who belongs to them.
type NeighbourhoodService interface {
	CreateNeighbourhood(ctx context.Context, in NeighbourhoodInput) (*Neighbourhood, error)
	UpdateNeighbourhood(ctx context.Context, id string, upd NeighbourhoodUpdate) (*Neighbourhood, error)
	FindNeighbourhood(ctx context.Context, id string) (*Neighbourhood, error)
	ListNeighbourhoods(ctx context.Context, includeArchived bool, page Page) ([]Neighbourhood, string, error)

	RequestMembership(ctx context.Context, neighbourhoodID, note string) (*Membership, error)
	ListMemberships(ctx context.Context, neighbourhoodID, state string, page Page) ([]Membership, string, error)
	// DecideMembership approves, rejects or revokes; reason is required for the last two.
	DecideMembership(ctx context.Context, neighbourhoodID, userID, decision, reason string) (*Membership, error)
	LeaveNeighbourhood(ctx context.Context, neighbourhoodID string) error
	// MyMemberships lists the acting person's own requests and memberships in every
	// state, newest first, so they can see what became of a request.
	MyMemberships(ctx context.Context) ([]Membership, error)
	ImportMemberships(ctx context.Context, csv []byte) (*ImportReport, error)
}
