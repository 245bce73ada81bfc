-- The search index split by ranges of 65,536 ticket ids (btree_gin indexes the
-- range's number beside the words), so a search reads the newest ranges first and
-- the index skips every other range's postings of common words, instead of
-- decoding them all or testing documents one by one. It serves searches without
-- the range too. btree_gin ships with PostgreSQL and is a trusted extension: a
-- database owner may create it.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX ticket_search_bucket ON ticket_search USING gin ((ticket_id / 65536), document);
DROP INDEX ticket_search_document;
