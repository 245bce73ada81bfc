DROP INDEX ticket_search_range;
