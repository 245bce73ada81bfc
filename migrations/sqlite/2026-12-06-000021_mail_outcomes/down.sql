ALTER TABLE outbox DROP COLUMN ticket_count;
ALTER TABLE outbox DROP COLUMN outcome;
