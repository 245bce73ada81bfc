-- Who wrote each ticket's last public message, and how it begins (its first 600
-- characters), kept on the ticket and written with each message: the list shows it
-- on every row, and finding it among the messages cost more than the rest of the
-- page's statement. NULL when the ticket has no public message.
ALTER TABLE tickets ADD COLUMN last_author_kind TEXT;
ALTER TABLE tickets ADD COLUMN last_preview TEXT;
UPDATE tickets SET (last_author_kind, last_preview) = (
    SELECT m.author_kind, substr(m.body, 1, 600) FROM messages m
    WHERE m.ticket_id = tickets.id AND m.internal = 0
    ORDER BY m.id DESC LIMIT 1
);
