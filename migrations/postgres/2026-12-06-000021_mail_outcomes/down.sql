ALTER TABLE outbox DROP COLUMN ticket_count, DROP COLUMN outcome;
