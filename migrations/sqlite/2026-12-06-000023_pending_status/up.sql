-- Nothing to change: SQLite's tickets took the pending status when they were
-- rebuilt (2026-12-06-000020). PostgreSQL's migration of this version widens its
-- CHECK constraint.
SELECT 1;
