DROP INDEX tickets_manager_waiting;
DROP INDEX tickets_waiting;
ALTER TABLE tickets DROP COLUMN waiting_since;
