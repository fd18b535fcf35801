-- Residency and age from what a city's identity provider says (issue 22).
--
-- memberships.claim_provider names the provider whose claim verified a membership;
-- NULL for one a coordinator approved or an administrator imported. A later claim
-- only ever ends memberships that a claim of the same provider verified.
--
-- claim_residences is, per person and provider, the neighbourhood the provider's
-- claim last placed them in (NULL: the claim mapped to none). A rule acts on a change
-- of it, not on every sign-in, so a person who left a claim-verified neighbourhood, or
-- whom a coordinator removed, is not put back by the next sign-in with the same claim.
-- The claim's value (a postal code, say) is never stored.
--
-- users.verified_birth_date is the birth date (YYYY-MM-DD) a provider vouched for:
-- the core tells plugins the age it gives, never the date. All three are exported
-- and erased with the account. Keep in step with the other dialect's file.
ALTER TABLE memberships ADD COLUMN claim_provider TEXT;
ALTER TABLE users ADD COLUMN verified_birth_date TEXT;

CREATE TABLE claim_residences (
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider         TEXT NOT NULL,
    neighbourhood_id TEXT REFERENCES neighbourhoods(id),
    updated_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, provider)
);
