-- Mail (issue 17): the queue every mail of the core goes through, and what account
-- mail needs — a verified address and the single-use links that verify it or reset a
-- password.

-- A person's address is verified when they followed the link sent to it. Accounts
-- older than verification count as verified: they were made before the core could
-- ask, and leaving them unverified would silence every resident the city has.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMPTZ;
UPDATE users SET email_verified_at = created_at WHERE email IS NOT NULL;

-- The links of verification and password-reset mail. Only the token's SHA-256 is
-- kept; email is the address the link was sent to, which a verification verifies.
CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    email      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

-- The mail queue. mail_key makes queuing idempotent. mail holds the composed mail
-- (JSON) of account mail until it is sent, and nothing after; notifications are
-- composed from purpose and ref when sent. next_at is when a worker may take the row:
-- claiming pushes it by a lease, so a node that dies mid-send leaves the row to the
-- others; a failure pushes it by the backoff.
CREATE TABLE mail_queue (
    id         TEXT PRIMARY KEY,
    mail_key   TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    ref        TEXT NOT NULL DEFAULT '',
    mail       TEXT,
    state      TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'dropped')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    TIMESTAMPTZ NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX mail_queue_due ON mail_queue (next_at) WHERE state = 'queued';
CREATE INDEX mail_queue_state ON mail_queue (state, updated_at);
