-- API requests per key in the current minute, counted in the database so the
-- documented limit holds for the whole deployment, whichever instance answers
-- (PostgreSQL; a single SQLite instance counts in memory).
CREATE TABLE api_usage (
    key_hash TEXT PRIMARY KEY,
    window_start TIMESTAMP NOT NULL,
    n INTEGER NOT NULL
);
