-- Text search over a ticket's title, description and messages: one document per
-- ticket. Word-prefix matching ('simple' configuration: no stemming, lower case).
CREATE TABLE ticket_search (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    body TEXT NOT NULL
);
CREATE INDEX ticket_search_body ON ticket_search USING gin (to_tsvector('simple', body));

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
