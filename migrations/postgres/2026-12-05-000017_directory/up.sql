-- A network's own directory: ids of the network's Affise kept beside affdesk's
-- own (a user's is a 24-hex string, a partner's or offer's an integer, kept as
-- text alike), so a sync or an import updates the row it made before.
ALTER TABLE users ADD COLUMN affise_id TEXT;
CREATE UNIQUE INDEX users_affise_id ON users (affise_id) WHERE affise_id IS NOT NULL;
ALTER TABLE affiliates ADD COLUMN affise_id TEXT;
CREATE UNIQUE INDEX affiliates_affise_id ON affiliates (affise_id) WHERE affise_id IS NOT NULL;
-- Disabled by an admin or manager (or removed in Affise): cannot log in, whatever
-- the status Affise gives them.
ALTER TABLE affiliates ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX affiliates_name ON affiliates (lower(name));
ALTER TABLE offers ADD COLUMN affise_id TEXT;
CREATE UNIQUE INDEX offers_affise_id ON offers (affise_id) WHERE affise_id IS NOT NULL;
ALTER TABLE smartlinks ADD COLUMN affise_id TEXT;
CREATE UNIQUE INDEX smartlinks_affise_id ON smartlinks (affise_id) WHERE affise_id IS NOT NULL;

-- Invitations and password resets: only a hash of the token is kept; a token is
-- used once and expires.
CREATE TABLE account_tokens (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL,
    account_kind TEXT NOT NULL,
    account_id BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX account_tokens_account ON account_tokens (account_kind, account_id, created_at);

-- Access decisions on their way to Affise, written in the decision's transaction
-- and pushed (and retried) by a worker on any instance.
CREATE TABLE affise_pushes (
    id BIGSERIAL PRIMARY KEY,
    ticket_id BIGINT,
    action TEXT NOT NULL,
    offer_id BIGINT NOT NULL,
    affiliate_id BIGINT NOT NULL,
    affise_offer_id TEXT NOT NULL,
    affise_partner_id TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    done_at TIMESTAMP
);
CREATE INDEX affise_pushes_due ON affise_pushes (state, next_attempt_at, id);
CREATE INDEX affise_pushes_ticket ON affise_pushes (ticket_id);

-- Where each part of the directory sync stands: when it last ran and succeeded,
-- and what went wrong.
CREATE TABLE affise_sync (
    part TEXT PRIMARY KEY,
    last_started_at TIMESTAMP,
    last_ok_at TIMESTAMP,
    last_full_at TIMESTAMP,
    last_error TEXT,
    items BIGINT NOT NULL DEFAULT 0
);

-- Access can also come from Affise (the sync) or from a CSV import.
ALTER TABLE offer_access DROP CONSTRAINT offer_access_source_check;
ALTER TABLE offer_access ADD CONSTRAINT offer_access_source_check CHECK (source IN ('manual', 'ticket', 'affise', 'import'));
ALTER TABLE smartlink_access DROP CONSTRAINT smartlink_access_source_check;
ALTER TABLE smartlink_access ADD CONSTRAINT smartlink_access_source_check CHECK (source IN ('manual', 'ticket', 'affise', 'import'));
