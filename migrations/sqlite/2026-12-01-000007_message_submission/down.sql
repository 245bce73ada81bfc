DROP INDEX messages_submission;
ALTER TABLE messages DROP COLUMN submission;
