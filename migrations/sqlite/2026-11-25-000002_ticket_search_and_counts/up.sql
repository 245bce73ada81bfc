-- Text search over a ticket's title, description and messages: one document per
-- ticket, rowid = ticket id. Word-prefix matching, case- and accent-insensitive.
CREATE VIRTUAL TABLE ticket_search USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');

-- Ticket totals per (manager, status, type), kept by the code that changes tickets,
-- so the list can say "N tickets" without counting a million rows. manager_id 0
-- stands for tickets without a manager.
CREATE TABLE ticket_counts (
    manager_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    type TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (manager_id, status, type)
);
