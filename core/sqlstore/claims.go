package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
)

// ClaimsService implements core.ClaimsService: after a sign-in through a city's
// identity provider it makes the person a verified resident of the neighbourhood the
// provider's claim maps to, moves or ends that membership when the claim changes, and
// keeps the verified birth date the provider vouched for.
//
// A claim acts on a change of where it places the person (claim_residences), not on
// every sign-in: someone who left a claim-verified neighbourhood, or whom a
// coordinator removed, is not put back by their next sign-in with the same claim. Only
// memberships a claim of the same provider verified are ever ended by one; those a
// coordinator approved or an administrator imported stay.
type ClaimsService struct {
	DB *DB
	// Neighbourhoods lends its limit of verified neighbourhoods per person and its
	// hook that drops cached principals after a change.
	Neighbourhoods *NeighbourhoodService
	// Rules are the residency rules by provider id; a provider without one verifies
	// no residency.
	Rules map[string]core.ResidencyRule
	// BirthDateClaim names the birth-date claim: "" reads core.DefaultBirthDateClaim,
	// core.NoBirthDateClaim none.
	BirthDateClaim string
	Logger         *slog.Logger
}

var _ core.ClaimsService = (*ClaimsService)(nil)

// Audit actions of claims. Their detail names the provider and the rule, never the
// claim's value: a postal code or a birth date is personal data the log need not hold.
const (
	auditClaimVerified     = "membership.claim_verified"
	auditClaimEnded        = "membership.claim_ended"
	auditClaimOverLimit    = "membership.claim_over_limit"
	auditBirthDateVerified = "user.birth_date_verified"
)

// ApplyClaims acts on the claims of one sign-in of userID through provider, in one
// transaction. A claim that maps to a neighbourhood the city does not have (a typo in
// the config, or one archived since) changes no membership and is logged as an
// operator's error; the sign-in goes on.
func (s *ClaimsService) ApplyClaims(ctx context.Context, userID, provider string, claims map[string]any) error {
	if !plainID(userID) { // a NUL byte would be PostgreSQL's error, not a not-found
		return core.Errorf(core.ENOTFOUND, "The account was not found.")
	}
	if !plainID(provider) { // the config's ids are plain; anything else is a caller's bug
		return core.InvalidField("provider", core.RuleFormat, "is not an identity provider's id")
	}
	rule, hasRule := s.Rules[provider]
	now := s.DB.now()
	birth, hasBirth := s.birthDate(claims, now)
	if !hasRule && !hasBirth {
		return nil
	}
	target := ""
	if hasRule {
		target = rule.Neighbourhood(claims)
	}
	// Most sign-ins bring what the last one did: one read answers them, without a
	// transaction, a lock or a write.
	if same, err := s.unchanged(ctx, userID, provider, hasRule, target, hasBirth, birth); err != nil || same {
		return err
	}
	// What a claim does is the provider's word, not a person's decision, even when a
	// signed-in person links an identity: the audit names no actor (the system), and
	// the provider in its detail.
	ctx = core.WithPrincipal(ctx, &core.Principal{})
	changed := false
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		// Takes the person's row lock on either database, so two sign-ins of one
		// person at once apply one after the other.
		n, err := exec(ctx, tx, `UPDATE users SET updated_at = updated_at WHERE id = ? AND deleted_at IS NULL`, userID)
		if err != nil {
			return fmt.Errorf("apply claims: %w", err)
		}
		if n == 0 {
			return core.Errorf(core.ENOTFOUND, "The account was not found.")
		}
		if hasBirth {
			c, err := s.applyBirthDate(ctx, tx, userID, provider, birth, now)
			if err != nil {
				return err
			}
			changed = changed || c
		}
		if hasRule {
			c, err := s.applyResidency(ctx, tx, userID, provider, rule, target, now)
			if err != nil {
				return err
			}
			changed = changed || c
		}
		return nil
	})
	if err != nil {
		return err
	}
	if changed {
		s.Neighbourhoods.changed()
	}
	return nil
}

// unchanged reports whether the claims say what the person's record already holds:
// the same verified birth date (or none to set) and, under a rule, the same
// neighbourhood as last time. Anything else — a change, a first sign-in, a
// neighbourhood the city lacks, an account that is gone — is for the transaction.
func (s *ClaimsService) unchanged(ctx context.Context, userID, provider string, hasRule bool, target string, hasBirth bool, birth string) (bool, error) {
	var r struct {
		BirthDate *string `db:"verified_birth_date"`
		Seen      bool    `db:"seen"`
		Recorded  *string `db:"recorded"`
		Target    *string `db:"target"`
	}
	err := get(ctx, s.DB.db, &r, `SELECT u.verified_birth_date, r.user_id IS NOT NULL AS seen, r.neighbourhood_id AS recorded,
		(SELECT id FROM neighbourhoods WHERE (id = ? OR slug = ?) AND archived_at IS NULL LIMIT 1) AS target
		FROM users u LEFT JOIN claim_residences r ON r.user_id = u.id AND r.provider = ?
		WHERE u.id = ? AND u.deleted_at IS NULL`, target, target, provider, userID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("apply claims: %w", err)
	case hasBirth && (r.BirthDate == nil || *r.BirthDate != birth):
		return false, nil
	case !hasRule:
		return true, nil
	case !r.Seen || target != "" && r.Target == nil:
		return false, nil
	case target == "":
		return r.Recorded == nil, nil
	}
	return r.Recorded != nil && *r.Recorded == *r.Target, nil
}

// birthDate reads the configured birth-date claim.
func (s *ClaimsService) birthDate(claims map[string]any, now time.Time) (string, bool) {
	name := s.BirthDateClaim
	switch name {
	case core.NoBirthDateClaim:
		return "", false
	case "":
		name = core.DefaultBirthDateClaim
	}
	v, ok := claims[name]
	if !ok {
		return "", false
	}
	// A day ahead: on the far side of the date line it is already tomorrow, and that
	// person's birth date may be it.
	return core.ParseBirthDate(v, now.Add(24*time.Hour))
}

func (s *ClaimsService) applyBirthDate(ctx context.Context, tx *sqlx.Tx, userID, provider, birth string, now time.Time) (bool, error) {
	var current *string
	if err := get(ctx, tx, &current, `SELECT verified_birth_date FROM users WHERE id = ?`, userID); err != nil {
		return false, fmt.Errorf("apply birth date: %w", err)
	}
	if current != nil && *current == birth {
		return false, nil
	}
	if _, err := exec(ctx, tx, `UPDATE users SET verified_birth_date = ?, updated_at = ? WHERE id = ?`, birth, now, userID); err != nil {
		return false, fmt.Errorf("apply birth date: %w", err)
	}
	return true, recordAudit(ctx, tx, now, auditBirthDateVerified, core.DomainCity, "user:"+userID, map[string]any{"provider": provider})
}

// applyResidency compares where the claim places the person now with where it placed
// them last time, and acts on a change by the rule. It reports whether a membership
// changed.
func (s *ClaimsService) applyResidency(ctx context.Context, tx *sqlx.Tx, userID, provider string, rule core.ResidencyRule, target string, now time.Time) (bool, error) {
	nbhID := ""
	if target != "" {
		var nbh neighbourhoodRow
		err := get(ctx, tx, &nbh, `SELECT `+neighbourhoodColumns+` FROM neighbourhoods WHERE id = ? OR slug = ?`, target, target)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("apply residency: %w", err)
		}
		if err != nil || nbh.ArchivedAt != nil {
			s.logger().ErrorContext(ctx, "residency claim maps to a neighbourhood the city does not have (or has archived); fix residency_claims",
				"provider", provider, "neighbourhood", target, "request_id", core.RequestIDFrom(ctx))
			return false, nil
		}
		nbhID = nbh.ID
	}
	var prev *string
	err := get(ctx, tx, &prev, `SELECT neighbourhood_id FROM claim_residences WHERE user_id = ? AND provider = ?`, userID, provider)
	first := errors.Is(err, sql.ErrNoRows)
	if err != nil && !first {
		return false, fmt.Errorf("apply residency: %w", err)
	}
	if !first && (prev == nil && nbhID == "" || prev != nil && *prev == nbhID) {
		return false, nil // the provider says what it said last time
	}
	changed, verify := false, nbhID != ""
	if !first {
		switch rule.ChangeRule() {
		case core.ClaimChangeKeep:
			verify = false
		case core.ClaimChangeEnd:
			verify = false
			if changed, err = s.endClaimMemberships(ctx, tx, userID, provider, "", core.ClaimChangeEnd, now); err != nil {
				return false, err
			}
		case core.ClaimChangeMove:
			if changed, err = s.endClaimMemberships(ctx, tx, userID, provider, nbhID, core.ClaimChangeMove, now); err != nil {
				return false, err
			}
		}
	}
	if verify {
		verified, held, err := s.verifyByClaim(ctx, tx, userID, provider, nbhID, now)
		if err != nil {
			return false, err
		}
		if !held {
			// Not recorded, so the next sign-in tries again: by then the person may
			// have left a neighbourhood and made room.
			return changed, nil
		}
		changed = changed || verified
	}
	var recorded *string
	if nbhID != "" {
		recorded = &nbhID
	}
	if _, err := exec(ctx, tx, `INSERT INTO claim_residences (user_id, provider, neighbourhood_id, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, provider) DO UPDATE SET neighbourhood_id = excluded.neighbourhood_id, updated_at = excluded.updated_at`,
		userID, provider, recorded, now); err != nil {
		return false, fmt.Errorf("record claim residence: %w", err)
	}
	return changed, nil
}

// endClaimMemberships ends the person's verified memberships that provider's claims
// verified, but the one in keep (the neighbourhood a move goes to).
func (s *ClaimsService) endClaimMemberships(ctx context.Context, tx *sqlx.Tx, userID, provider, keep, rule string, now time.Time) (bool, error) {
	var ended []struct {
		ID              string `db:"id"`
		NeighbourhoodID string `db:"neighbourhood_id"`
	}
	if err := selectAll(ctx, tx, &ended, `SELECT id, neighbourhood_id FROM memberships
		WHERE user_id = ? AND state = 'verified' AND claim_provider = ? AND neighbourhood_id <> ?`, userID, provider, keep); err != nil {
		return false, fmt.Errorf("end claim memberships: %w", err)
	}
	for _, m := range ended {
		if _, err := exec(ctx, tx, `UPDATE memberships SET state = 'revoked', updated_at = ? WHERE id = ?`, now, m.ID); err != nil {
			return false, fmt.Errorf("end claim membership: %w", err)
		}
		if err := publishEvent(ctx, tx, now, core.EventMembershipEnded, map[string]string{"user_id": userID, "neighbourhood_id": m.NeighbourhoodID}); err != nil {
			return false, err
		}
		if err := recordAudit(ctx, tx, now, auditClaimEnded, core.NeighbourhoodDomain(m.NeighbourhoodID), "user:"+userID,
			map[string]any{"provider": provider, "rule": rule}); err != nil {
			return false, err
		}
	}
	return len(ended) > 0, nil
}

// verifyByClaim makes the person a verified resident of nbhID on provider's word.
// verified says whether a membership changed; held is false when the city's limit of
// neighbourhoods per person left no room, which is audited and changes nothing. A
// membership already verified (by a coordinator, say) stays as it is, and so not
// the claim's to end later; an open request becomes the claim's verified membership.
func (s *ClaimsService) verifyByClaim(ctx context.Context, tx *sqlx.Tx, userID, provider, nbhID string, now time.Time) (verified, held bool, err error) {
	var open struct {
		ID    string `db:"id"`
		State string `db:"state"`
	}
	err = get(ctx, tx, &open, `SELECT id, state FROM memberships WHERE user_id = ? AND neighbourhood_id = ? AND state IN ('requested', 'verified')`, userID, nbhID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, false, fmt.Errorf("verify by claim: %w", err)
	}
	if open.State == core.MembershipVerified {
		return false, true, nil
	}
	if lerr := s.Neighbourhoods.checkVerifiedLimit(ctx, tx, userID, nbhID); lerr != nil {
		var e *core.Error
		if !errors.As(lerr, &e) || e.Code != core.ECONFLICT {
			return false, false, lerr
		}
		return false, false, recordAudit(ctx, tx, now, auditClaimOverLimit, core.NeighbourhoodDomain(nbhID), "user:"+userID, map[string]any{"provider": provider})
	}
	if open.ID != "" {
		_, err = exec(ctx, tx, `UPDATE memberships SET state = 'verified', claim_provider = ?, decided_by = NULL, updated_at = ?, verified_at = ? WHERE id = ?`,
			provider, now, now, open.ID)
	} else {
		_, err = exec(ctx, tx, `INSERT INTO memberships (id, user_id, neighbourhood_id, state, claim_provider, created_at, updated_at, verified_at) VALUES (?, ?, ?, 'verified', ?, ?, ?, ?)`,
			newID(), userID, nbhID, provider, now, now, now)
	}
	if err != nil {
		return false, false, fmt.Errorf("verify by claim: %w", err)
	}
	// The same event a coordinator's approval publishes, so whatever follows one
	// (plugins' welcome, notifications) follows the other.
	if err := publishEvent(ctx, tx, now, core.EventMembershipVerified, map[string]string{"user_id": userID, "neighbourhood_id": nbhID}); err != nil {
		return false, false, err
	}
	return true, true, recordAudit(ctx, tx, now, auditClaimVerified, core.NeighbourhoodDomain(nbhID), "user:"+userID, map[string]any{"provider": provider})
}

func (s *ClaimsService) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// WarnUnknownNeighbourhoods logs a warning for each neighbourhood a rule maps to that
// the city does not have, or has archived. Not an error: neighbourhoods are data that
// administrators may create after writing the config, and until then a claim that
// maps there changes nothing (ApplyClaims logs it again then).
func (s *ClaimsService) WarnUnknownNeighbourhoods(ctx context.Context) error {
	for provider, rule := range s.Rules {
		seen := map[string]bool{} // a city maps many postal codes to one neighbourhood
		for _, targets := range []map[string]string{rule.Values, rule.Prefixes} {
			for _, target := range targets {
				if seen[target] {
					continue
				}
				seen[target] = true
				var n int
				if err := get(ctx, s.DB.db, &n, `SELECT COUNT(*) FROM neighbourhoods WHERE (id = ? OR slug = ?) AND archived_at IS NULL`, target, target); err != nil {
					return fmt.Errorf("check residency_claims: %w", err)
				}
				if n == 0 {
					s.logger().WarnContext(ctx, "residency_claims maps to a neighbourhood the city does not have (or has archived); claims that map there verify no one until it exists",
						"provider", provider, "neighbourhood", target)
				}
			}
		}
	}
	return nil
}

// claimDataOf is what the claims of identity providers left about a person, for their
// export: the verified birth date and, per provider, the neighbourhood its claim last
// placed them in.
func claimDataOf(ctx context.Context, q sqlx.ExtContext, userID string) (map[string]any, error) {
	var birth *string
	if err := get(ctx, q, &birth, `SELECT verified_birth_date FROM users WHERE id = ?`, userID); err != nil {
		return nil, fmt.Errorf("export birth date: %w", err)
	}
	residences := []struct {
		Provider        string    `db:"provider" json:"provider"`
		NeighbourhoodID *string   `db:"neighbourhood_id" json:"neighbourhood_id"`
		UpdatedAt       time.Time `db:"updated_at" json:"updated_at"`
	}{}
	if err := selectAll(ctx, q, &residences, `SELECT provider, neighbourhood_id, updated_at FROM claim_residences WHERE user_id = ? ORDER BY provider`, userID); err != nil {
		return nil, fmt.Errorf("export claim residences: %w", err)
	}
	for i := range residences {
		residences[i].UpdatedAt = residences[i].UpdatedAt.UTC()
	}
	return map[string]any{"verified_birth_date": birth, "claim_residences": residences}, nil
}
