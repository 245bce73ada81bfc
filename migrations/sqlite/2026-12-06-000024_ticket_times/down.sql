DROP INDEX tickets_closed_at;
ALTER TABLE tickets DROP COLUMN decided_at;
ALTER TABLE tickets DROP COLUMN closed_at;
ALTER TABLE tickets DROP COLUMN first_answer_at;
