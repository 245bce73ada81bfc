-- Every word of every search document, so a word start typed in a search can be
-- turned into the whole words it stands for (src/domain/search.rs). Byte order
-- ("C"), so a prefix is a range of terms.
CREATE TABLE search_terms (term TEXT COLLATE "C" PRIMARY KEY);
INSERT INTO search_terms (term) SELECT word FROM ts_stat('SELECT document FROM ticket_search');
