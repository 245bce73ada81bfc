-- Text search over a ticket's title and messages: one document per ticket, holding
-- the ticket's distinct words as affdesk splits them (see src/domain/search.rs), so
-- both backends match the same words. Word-prefix matching, lower case.
CREATE TABLE ticket_search (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    document TSVECTOR NOT NULL
);
CREATE INDEX ticket_search_document ON ticket_search USING gin (document);

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
