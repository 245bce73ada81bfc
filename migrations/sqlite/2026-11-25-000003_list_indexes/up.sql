-- Every pair of the list's equality filters (manager, status, type) followed by the
-- list's order, so a filtered page is one index range read in order, however rare
-- the match is among the most recently updated tickets.
CREATE INDEX tickets_manager_status_updated ON tickets (manager_id, status, updated_at, id);
CREATE INDEX tickets_manager_type_updated ON tickets (manager_id, type, updated_at, id);
CREATE INDEX tickets_status_type_updated ON tickets (status, type, updated_at, id);
