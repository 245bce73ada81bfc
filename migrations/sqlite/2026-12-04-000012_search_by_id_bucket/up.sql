-- Nothing to do on SQLite: FTS5 reads a search newest first by itself. The version
-- exists so both backends' migrations keep the same names.
SELECT 1;
