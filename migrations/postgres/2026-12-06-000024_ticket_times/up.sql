-- When a ticket was first answered, last closed and (for requests) decided: what
-- the SLA and the reports measure, kept on the ticket so a report reads a range of
-- one index instead of every message. Filled in for the tickets there are.
ALTER TABLE tickets ADD COLUMN first_answer_at TIMESTAMP, ADD COLUMN closed_at TIMESTAMP, ADD COLUMN decided_at TIMESTAMP;
UPDATE tickets t SET first_answer_at = f.at
FROM (
    SELECT ticket_id, MIN(created_at) AS at FROM messages
    WHERE author_kind = 'manager' AND NOT internal GROUP BY ticket_id
) f
WHERE f.ticket_id = t.id;
UPDATE tickets SET closed_at = updated_at WHERE status = 'closed';
UPDATE tickets SET decided_at = updated_at WHERE request_state IN ('approved', 'rejected');
CREATE INDEX tickets_closed_at ON tickets (closed_at) WHERE closed_at IS NOT NULL;
