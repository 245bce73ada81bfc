-- A search of several words reads the newest ranges of 65,536 ticket ids one by
-- one (`ticket_search_bucket`). Bounding each read by the primary key as well made
-- PostgreSQL AND the search index's matches with a bitmap of the whole range (65,536
-- ids, about half of each read's time). Keyed by the range's number, a read needs
-- no id bounds: the search index answers rare words alone, and for very common words
-- this index walks the range newest first and stops at the page's need.
CREATE INDEX ticket_search_range ON ticket_search ((ticket_id / 65536), ticket_id);
-- The planner's statistics of the new expression.
ANALYZE ticket_search;
