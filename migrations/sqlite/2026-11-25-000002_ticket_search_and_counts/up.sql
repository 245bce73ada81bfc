-- Text search over a ticket's title and messages: one document per ticket (rowid =
-- ticket id), holding the ticket's distinct words as affdesk splits them (see
-- src/domain/search.rs), so both backends match the same words. Word-prefix
-- matching, lower case.
CREATE VIRTUAL TABLE ticket_search USING fts5(body, tokenize = 'unicode61 remove_diacritics 0');

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
