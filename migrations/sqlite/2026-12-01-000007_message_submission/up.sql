-- The form a reply was sent from: a submit retried after a lost answer (a network
-- error, a database restart) finds its message instead of adding it twice.
ALTER TABLE messages ADD COLUMN submission TEXT;
CREATE UNIQUE INDEX messages_submission ON messages (ticket_id, submission) WHERE submission IS NOT NULL;
