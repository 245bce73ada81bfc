-- When a ticket was first answered, last closed and (for requests) decided: what
-- the SLA and the reports measure, kept on the ticket so a report reads a range of
-- one index instead of every message. Filled in for the tickets there are.
ALTER TABLE tickets ADD COLUMN first_answer_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN closed_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN decided_at TIMESTAMP;
UPDATE tickets SET first_answer_at = (
    SELECT MIN(m.created_at) FROM messages m
    WHERE m.ticket_id = tickets.id AND m.author_kind = 'manager' AND m.internal = 0
);
UPDATE tickets SET closed_at = updated_at WHERE status = 'closed';
UPDATE tickets SET decided_at = updated_at WHERE request_state IN ('approved', 'rejected');
CREATE INDEX tickets_closed_at ON tickets (closed_at) WHERE closed_at IS NOT NULL;
