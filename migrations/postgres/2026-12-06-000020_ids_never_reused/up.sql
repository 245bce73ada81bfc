-- Nothing to change: PostgreSQL sequences never hand out an id twice.
-- (SQLite's migration of this version gives its tickets and messages AUTOINCREMENT.)
SELECT 1;
