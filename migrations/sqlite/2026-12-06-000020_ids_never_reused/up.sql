-- Ticket and message ids are never handed out twice: clients that sync by id must
-- not mix a removed ticket with a new one. Without AUTOINCREMENT SQLite reuses the
-- largest id after that row is removed; the keyword needs the tables rebuilt
-- (SQLite's documented twelve steps, with foreign keys off so nothing cascades).
-- The rebuilt table also takes the third status, pending (waiting on the
-- affiliate), which a CHECK constraint cannot gain otherwise.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE tickets_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    affiliate_id BIGINT NOT NULL REFERENCES affiliates (id) ON DELETE CASCADE,
    manager_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    type TEXT NOT NULL CHECK (type IN ('general', 'financial', 'technical', 'other', 'offer_request', 'smartlink_request')),
    status TEXT NOT NULL CHECK (status IN ('open', 'closed', 'pending')),
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
    unread_by_affiliate INTEGER NOT NULL DEFAULT 0,
    waiting_since TIMESTAMP,
    last_author_kind TEXT,
    last_preview TEXT
);
INSERT INTO tickets_rebuilt (id, affiliate_id, manager_id, type, status, request_state, offer_id, smartlink_id,
    title, description, created_at, updated_at, manager_answers, affiliate_messages, unread_by_manager,
    unread_by_affiliate, waiting_since, last_author_kind, last_preview)
SELECT id, affiliate_id, manager_id, type, status, request_state, offer_id, smartlink_id,
    title, description, created_at, updated_at, manager_answers, affiliate_messages, unread_by_manager,
    unread_by_affiliate, waiting_since, last_author_kind, last_preview
FROM tickets;
DROP TABLE tickets;
ALTER TABLE tickets_rebuilt RENAME TO tickets;
CREATE INDEX tickets_updated ON tickets (updated_at, id);
CREATE INDEX tickets_created ON tickets (created_at, id);
CREATE INDEX tickets_manager_updated ON tickets (manager_id, updated_at, id);
CREATE INDEX tickets_affiliate_updated ON tickets (affiliate_id, updated_at, id);
CREATE INDEX tickets_status_updated ON tickets (status, updated_at, id);
CREATE INDEX tickets_type_updated ON tickets (type, updated_at, id);
CREATE INDEX tickets_manager_status_type ON tickets (manager_id, status, type, updated_at, id);
CREATE INDEX tickets_manager_status_updated ON tickets (manager_id, status, updated_at, id);
CREATE INDEX tickets_manager_type_updated ON tickets (manager_id, type, updated_at, id);
CREATE INDEX tickets_status_type_updated ON tickets (status, type, updated_at, id);
CREATE INDEX tickets_waiting ON tickets (waiting_since, id) WHERE waiting_since IS NOT NULL;
CREATE INDEX tickets_manager_waiting ON tickets (manager_id, waiting_since, id) WHERE waiting_since IS NOT NULL;
CREATE INDEX tickets_offer ON tickets (offer_id, updated_at, id) WHERE offer_id IS NOT NULL;
CREATE INDEX tickets_smartlink ON tickets (smartlink_id) WHERE smartlink_id IS NOT NULL;
CREATE INDEX tickets_pending_requests ON tickets (request_state, affiliate_id) WHERE request_state IS NOT NULL;

CREATE TABLE messages_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author_kind TEXT NOT NULL CHECK (author_kind IN ('manager', 'affiliate', 'system')),
    author_id BIGINT,
    body TEXT NOT NULL,
    internal BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    submission TEXT
);
INSERT INTO messages_rebuilt (id, ticket_id, author_kind, author_id, body, internal, created_at, submission)
SELECT id, ticket_id, author_kind, author_id, body, internal, created_at, submission FROM messages;
DROP TABLE messages;
ALTER TABLE messages_rebuilt RENAME TO messages;
CREATE INDEX messages_ticket ON messages (ticket_id, id);
CREATE UNIQUE INDEX messages_submission ON messages (ticket_id, submission) WHERE submission IS NOT NULL;

COMMIT;
PRAGMA foreign_keys = ON;
