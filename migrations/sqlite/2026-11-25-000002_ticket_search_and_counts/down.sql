DROP TABLE ticket_counts;
DROP TABLE ticket_search;
