-- Email notifications, written in the same transaction as the change they tell
-- of (a transactional outbox) and delivered by a sender on any instance. What the
-- email says is kept with it, so it reads the same whenever it is sent.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    event TEXT NOT NULL,
    ticket_id BIGINT NOT NULL,
    ticket_title TEXT NOT NULL,
    recipient_kind TEXT NOT NULL,
    recipient_id BIGINT NOT NULL,
    recipient_name TEXT NOT NULL,
    recipient_email TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    body TEXT NOT NULL,
    link_path TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);

-- Kinds of email a user or affiliate switched off on their profile.
CREATE TABLE notification_optouts (
    recipient_kind TEXT NOT NULL,
    recipient_id BIGINT NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (recipient_kind, recipient_id, event)
);

-- What changed on which ticket, for the browsers watching: read by every instance
-- (woken by NOTIFY on PostgreSQL) and by reconnecting browsers from their last id.
CREATE TABLE live_events (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    ticket_id BIGINT NOT NULL,
    affiliate_id BIGINT NOT NULL,
    manager_id BIGINT,
    staff_only BOOLEAN NOT NULL DEFAULT 0,
    actor_kind TEXT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX live_events_created ON live_events (created_at);
