-- Holiday cover: a manager's affiliates handed to a colleague until a day, and
-- which affiliates went, so that on that day the same ones come back.
CREATE TABLE covers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    absent_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cover_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    until TIMESTAMP NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    returned_at TIMESTAMP
);
CREATE INDEX covers_due ON covers (until) WHERE returned_at IS NULL;
CREATE TABLE cover_affiliates (
    cover_id BIGINT NOT NULL REFERENCES covers (id) ON DELETE CASCADE,
    affiliate_id BIGINT NOT NULL REFERENCES affiliates (id) ON DELETE CASCADE,
    PRIMARY KEY (cover_id, affiliate_id)
);
