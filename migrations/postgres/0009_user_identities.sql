-- A person's identities at the city's OpenID Connect providers (issue 22): the
-- provider's id from the config and the subject it names the person by, unique
-- together, so one identity signs in to one account. email is what the provider said
-- at the last sign-in, kept for the account page and the export; the row is erased
-- with the account. Keep in step with the other dialect's 0009_user_identities.sql.
CREATE TABLE user_identities (
    provider        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email           TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    last_sign_in_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);
