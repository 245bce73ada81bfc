CREATE INDEX ticket_search_document ON ticket_search USING gin (document);
DROP INDEX ticket_search_bucket;
