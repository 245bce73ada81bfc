-- The list reads its pages from indexes alone only where the table's visibility map
-- says a page of rows is visible to everyone, and every change to a ticket clears
-- that for its page until a vacuum sets it again. By default autovacuum waits for a
-- fifth of the table to change (200,000 tickets of a million): after a bulk close of
-- 20,000 tickets a deep page of the list went to the table for each row it skipped,
-- five to ten times page 1, for as long as no vacuum came. At a hundredth of the
-- table, autovacuum comes within its next round after such a change, and after every
-- 10,000 replies or new tickets of a day's work.
ALTER TABLE tickets SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
