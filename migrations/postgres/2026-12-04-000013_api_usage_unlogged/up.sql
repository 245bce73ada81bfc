-- Every API request bumps its key's count. Unlogged, the table is kept out of the
-- write-ahead log, so the request's commit no longer waits for a flush to disk.
-- After a crash PostgreSQL empties it: every key starts a fresh minute, which is
-- all a lost count can cost.
ALTER TABLE api_usage SET UNLOGGED;
