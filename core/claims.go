package core

import "context"

// ClaimsService acts on what a city's identity provider says about a person (issue
// 22): after every OpenID Connect sign-in, and when a person links an identity, the
// pages hand it the ID token's claims, so that a city can, for example, make the
// person a verified resident of the neighbourhood their municipality code maps to.
// The implementation and its configuration belong to the residency work; the sign-in
// calls it only when the node has one.
type ClaimsService interface {
	ApplyClaims(ctx context.Context, userID, provider string, claims map[string]any) error
}
