-- affdesk schema (PostgreSQL). Money is stored in cents as integers; timestamps are UTC.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('admin', 'manager')),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    api_key_hash TEXT UNIQUE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    sees_all_tickets BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);

CREATE TABLE affiliates (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    login TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'not_active', 'banned', 'on_moderation')),
    manager_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    password_hash TEXT NOT NULL,
    api_key_hash TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX affiliates_manager_id ON affiliates (manager_id);

CREATE TABLE offers (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    privacy TEXT NOT NULL CHECK (privacy IN ('public', 'premoderated', 'private')),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'disabled')),
    payout BIGINT NOT NULL,
    currency TEXT NOT NULL,
    preview_url TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE smartlinks (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    privacy TEXT NOT NULL CHECK (privacy IN ('public', 'premoderated', 'private')),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE offer_access (
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    affiliate_id BIGINT NOT NULL REFERENCES affiliates (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('enabled', 'disabled')),
    source TEXT NOT NULL CHECK (source IN ('manual', 'ticket')),
    updated_at TIMESTAMP NOT NULL,
    updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (offer_id, affiliate_id)
);
CREATE INDEX offer_access_affiliate_id ON offer_access (affiliate_id);

CREATE TABLE smartlink_access (
    smartlink_id BIGINT NOT NULL REFERENCES smartlinks (id) ON DELETE CASCADE,
    affiliate_id BIGINT NOT NULL REFERENCES affiliates (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('enabled', 'disabled')),
    source TEXT NOT NULL CHECK (source IN ('manual', 'ticket')),
    updated_at TIMESTAMP NOT NULL,
    updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (smartlink_id, affiliate_id)
);
CREATE INDEX smartlink_access_affiliate_id ON smartlink_access (affiliate_id);

CREATE TABLE tickets (
    id BIGSERIAL PRIMARY KEY,
    affiliate_id BIGINT NOT NULL REFERENCES affiliates (id) ON DELETE CASCADE,
    manager_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    type TEXT NOT NULL CHECK (type IN ('general', 'financial', 'technical', 'other', 'offer_request', 'smartlink_request')),
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    request_state TEXT CHECK (request_state IN ('pending', 'approved', 'rejected')),
    offer_id BIGINT REFERENCES offers (id) ON DELETE SET NULL,
    smartlink_id BIGINT REFERENCES smartlinks (id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    manager_answers INTEGER NOT NULL DEFAULT 0,
    affiliate_messages INTEGER NOT NULL DEFAULT 0,
    unread_by_manager INTEGER NOT NULL DEFAULT 0,
    unread_by_affiliate INTEGER NOT NULL DEFAULT 0
);
-- The list is sorted by (updated_at, id) or (created_at, id); every filter has an
-- index that ends in the sort key so a page is a short index range scan.
CREATE INDEX tickets_updated ON tickets (updated_at, id);
CREATE INDEX tickets_created ON tickets (created_at, id);
CREATE INDEX tickets_manager_updated ON tickets (manager_id, updated_at, id);
CREATE INDEX tickets_affiliate_updated ON tickets (affiliate_id, updated_at, id);
CREATE INDEX tickets_status_updated ON tickets (status, updated_at, id);
CREATE INDEX tickets_type_updated ON tickets (type, updated_at, id);
CREATE INDEX tickets_manager_status_type ON tickets (manager_id, status, type, updated_at, id);
CREATE INDEX tickets_offer ON tickets (offer_id, updated_at, id);
CREATE INDEX tickets_smartlink ON tickets (smartlink_id);
CREATE INDEX tickets_pending_requests ON tickets (request_state, affiliate_id);

CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author_kind TEXT NOT NULL CHECK (author_kind IN ('manager', 'affiliate', 'system')),
    author_id BIGINT,
    body TEXT NOT NULL,
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX messages_ticket ON messages (ticket_id, id);

CREATE TABLE attachments (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);

CREATE TABLE reply_templates (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE daily_stats (
    day DATE NOT NULL,
    affiliate_id BIGINT NOT NULL REFERENCES affiliates (id) ON DELETE CASCADE,
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    clicks BIGINT NOT NULL,
    unique_clicks BIGINT NOT NULL,
    conversions BIGINT NOT NULL,
    payout BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    PRIMARY KEY (affiliate_id, day, offer_id)
);

CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    actor_kind TEXT NOT NULL,
    actor_id BIGINT,
    action TEXT NOT NULL,
    ticket_id BIGINT,
    detail TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_ticket ON audit_log (ticket_id, id);

-- Server-side sessions: the cookie holds a random key, the row holds its SHA-256.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
