-- An email about a decision says which (approved, rejected) in its subject; a bulk
-- action's email to one affiliate lists all their tickets it changed.
ALTER TABLE outbox ADD COLUMN outcome TEXT;
ALTER TABLE outbox ADD COLUMN ticket_count INTEGER NOT NULL DEFAULT 1;
