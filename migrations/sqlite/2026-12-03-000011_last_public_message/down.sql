ALTER TABLE tickets DROP COLUMN last_preview;
ALTER TABLE tickets DROP COLUMN last_author_kind;
