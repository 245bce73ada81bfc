-- Every word of every search document, so a word start typed in a search can be
-- turned into the whole words it stands for: matching a few whole words is fast in
-- FTS5, matching a prefix reads every document that has it (src/domain/search.rs).
CREATE TABLE search_terms (term TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
CREATE VIRTUAL TABLE temp.search_vocab USING fts5vocab(main, ticket_search, 'row');
INSERT INTO search_terms (term) SELECT term FROM temp.search_vocab;
DROP TABLE temp.search_vocab;
