-- Going back keeps the rebuilt tables: ids that were never reused stay that way.
SELECT 1;
