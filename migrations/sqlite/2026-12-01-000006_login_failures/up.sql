-- Failed logins, counted per account and per client address over a window, so
-- guessing passwords is throttled on every instance that shares the database.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_account ON login_failures (account, at);
CREATE INDEX login_failures_address ON login_failures (address, at);
