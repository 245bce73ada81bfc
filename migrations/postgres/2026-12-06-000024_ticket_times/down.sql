DROP INDEX tickets_closed_at;
ALTER TABLE tickets DROP COLUMN decided_at, DROP COLUMN closed_at, DROP COLUMN first_answer_at;
