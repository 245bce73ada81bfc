-- Who a session belongs to, kept beside its state so one statement loads the
-- session and the account behind it (src/web/session_store.rs).
ALTER TABLE sessions ADD COLUMN user_id BIGINT REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE sessions ADD COLUMN affiliate_id BIGINT REFERENCES affiliates (id) ON DELETE CASCADE;
