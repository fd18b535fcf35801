package core

import (
	"context"
	"time"
)

// Organisation states.
const (
	OrganisationPending  = "pending"
	OrganisationVerified = "verified"
	OrganisationRejected = "rejected"
)

// Organisation is a civic group, association, NGO or city department.
type Organisation struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Kind             string    `json:"kind"`
	Description      string    `json:"description"`
	State            string    `json:"state"`
	Reason           string    `json:"reason,omitempty"`
	NeighbourhoodIDs []string  `json:"neighbourhood_ids"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// OrganisationKinds are the kinds an organisation may be.
var OrganisationKinds = []string{"civic_group", "association", "ngo", "city_department", "parish", "other"}

// OrganisationInput registers an organisation.
type OrganisationInput struct {
	Name             string   `json:"name" max:"200"`
	Kind             string   `json:"kind" max:"64"`
	Description      string   `json:"description" max:"5000"`
	NeighbourhoodIDs []string `json:"neighbourhood_ids" max:"64"`
}

// OrganisationMember is one person in an organisation.
type OrganisationMember struct {
	UserID      string    `json:"user_id" db:"user_id"`
	DisplayName string    `json:"display_name" db:"display_name"`
	Role        string    `json:"role" db:"role"`
	CreatedAt   time.Time `json:"created_at" db:"created_at"`
}

// Organisation member roles.
const (
	OrgRoleMember         = "member"
	OrgRoleRepresentative = "representative"
)

// OrganisationService manages organisations and their members.
type OrganisationService interface {
	CreateOrganisation(ctx context.Context, in OrganisationInput) (*Organisation, error)
	FindOrganisation(ctx context.Context, id string) (*Organisation, error)
	ListOrganisations(ctx context.Context, state string, page Page) ([]Organisation, string, error)
	// DecideOrganisation verifies or rejects (with a reason) a pending organisation.
	DecideOrganisation(ctx context.Context, id, decision, reason string) (*Organisation, error)
	ListOrganisationMembers(ctx context.Context, id string, page Page) ([]OrganisationMember, string, error)
	AddOrganisationMember(ctx context.Context, id, userID, role string) (*OrganisationMember, error)
	RemoveOrganisationMember(ctx context.Context, id, userID string) error
}
