-- Since when a ticket has been waiting for a manager's answer: the affiliate's
-- first message after the last public answer, while the ticket is open. NULL when
-- nobody is waiting. The list shows it and sorts by it ("waiting longest first").
ALTER TABLE tickets ADD COLUMN waiting_since TIMESTAMP;
UPDATE tickets SET waiting_since = (
    SELECT MIN(m.created_at) FROM messages m
    WHERE m.ticket_id = tickets.id AND m.author_kind = 'affiliate' AND m.internal = false
      AND m.id > COALESCE((
          SELECT MAX(a.id) FROM messages a
          WHERE a.ticket_id = tickets.id AND a.author_kind <> 'affiliate' AND a.internal = false
      ), 0)
)
WHERE status = 'open';
CREATE INDEX tickets_waiting ON tickets (waiting_since, id) WHERE waiting_since IS NOT NULL;
CREATE INDEX tickets_manager_waiting ON tickets (manager_id, waiting_since, id) WHERE waiting_since IS NOT NULL;
