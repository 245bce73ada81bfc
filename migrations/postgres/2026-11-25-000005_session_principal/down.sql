ALTER TABLE sessions DROP COLUMN affiliate_id;
ALTER TABLE sessions DROP COLUMN user_id;
