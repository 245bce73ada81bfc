//! Text search over tickets: one document per ticket (its title and every message),
//! matched by word prefix, case-insensitively. affdesk splits the text into words
//! itself and stores each ticket's distinct words, so SQLite (FTS5) and PostgreSQL
//! (a GIN index over a stored tsvector) match exactly the same words. This file is
//! the only place that knows the difference between them.

use std::collections::HashSet;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::schema::{messages, search_terms, tickets};
use crate::db::{AnyConnection, Db};
use crate::error::DomainResult;

/// At most this many words of a query are used.
const MAX_TERMS: usize = 8;
/// Longer "words" (pasted hashes, base64) are cut here.
const MAX_WORD_CHARS: usize = 64;

/// The words of a text: runs of letters and digits, lower-cased.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| {
        // Cut at the character, then lower-cased into one new string.
        let end = w.char_indices().nth(MAX_WORD_CHARS).map_or(w.len(), |(i, _)| i);
        w[..end].to_lowercase()
    })
}

/// The words of a search. Empty when the text has none.
pub fn terms(q: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    words(q).filter(|w| seen.insert(w.clone())).take(MAX_TERMS).collect()
}

/// A text search looks at this many of the newest matching tickets, so its cost
/// stays bounded however common the words are (other filters and the sort apply
/// within them).
pub const MAX_MATCHES: i64 = 5_000;

/// A typed word stands for every stored word it begins. Up to this many of them are
/// searched as whole words; more (a word of one or two letters) fall back to the
/// engine's own prefix match, which reads every document that has the prefix.
const MAX_EXPANSION: usize = 64;

/// The stored words that begin with `term`, or `None` when there are too many.
fn expansions(conn: &mut AnyConnection, term: &str) -> DomainResult<Option<Vec<String>>> {
    // Byte order on both backends: U+10FFFF sorts after anything that can follow the prefix.
    let words: Vec<String> = search_terms::table
        .filter(search_terms::term.ge(term))
        .filter(search_terms::term.lt(format!("{term}\u{10FFFF}")))
        .order(search_terms::term)
        .select(search_terms::term)
        .limit(MAX_EXPANSION as i64 + 1)
        .load(conn)?;
    Ok((words.len() <= MAX_EXPANSION).then_some(words))
}

/// A matching ticket, as the search statements return it.
#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The newest `MAX_MATCHES` tickets whose document has every term (as a word or the
/// start of one), newest first.
pub fn newest_matches(conn: &mut AnyConnection, terms: &[String]) -> DomainResult<Vec<i64>> {
    let pg = conn.is_postgres();
    let mut groups = Vec::new();
    for term in terms {
        let group = match expansions(conn, term)? {
            // No document has a word that begins so: nothing can match.
            Some(words) if words.is_empty() => return Ok(Vec::new()),
            // tsquery and FTS5 syntax; words hold only letters and digits.
            Some(words) if pg => {
                format!("({})", words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" | "))
            }
            Some(words) => format!("({})", words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" OR ")),
            None if pg => format!("'{term}':*"),
            None => format!("\"{term}\"*"),
        };
        groups.push(group);
    }
    // One word: the planner's own choice (walking the documents newest first for a
    // common word, the index for a rare one) is the fastest. Several: it cannot
    // tell how often they meet, so the newest ranges are read first.
    if pg && groups.len() > 1 {
        return newest_by_range(conn, &groups.join(" & "));
    }
    let hits: Vec<Hit> = if pg {
        // tsquery input syntax, not to_tsquery: the words are already split.
        diesel::sql_query(format!(
            "SELECT ticket_id AS id FROM ticket_search WHERE document @@ CAST($1 AS tsquery) \
             ORDER BY ticket_id DESC LIMIT {MAX_MATCHES}"
        ))
        .bind::<Text, _>(groups.join(" & "))
        .load(conn)?
    } else {
        diesel::sql_query(format!(
            "SELECT rowid AS id FROM ticket_search WHERE ticket_search MATCH ? ORDER BY rowid DESC LIMIT {MAX_MATCHES}"
        ))
        .bind::<Text, _>(groups.join(" AND "))
        .load(conn)?
    };
    Ok(hits.into_iter().map(|h| h.id).collect())
}

/// PostgreSQL's search index is split by ranges of this many ticket ids
/// (`ticket_search_bucket`: the range's number beside the words).
const ID_RANGE: i64 = 65_536;
/// Ranges a search of several words reads one by one, newest first, before the
/// rest is read in one statement.
const RANGES_READ: i64 = 8;

/// PostgreSQL, several words: the newest matches, read range by range from the
/// newest ids (`RANGES_READ` of them), then the rest in one statement. Within
/// a range the index skips the other ranges' postings, so two common words cost
/// what their newest few thousand documents cost, not their whole posting lists (or
/// a test of every document newest first). Rare words fill no range: after a few,
/// the rest is one statement, which the index answers for them.
fn newest_by_range(conn: &mut AnyConnection, query: &str) -> DomainResult<Vec<i64>> {
    #[derive(QueryableByName)]
    struct Newest {
        #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
        id: Option<i64>,
    }
    let newest: Newest = diesel::sql_query("SELECT MAX(ticket_id) AS id FROM ticket_search").get_result(conn)?;
    let Some(newest) = newest.id else { return Ok(Vec::new()) };
    let mut ids: Vec<i64> = Vec::new();
    let mut range = newest.div_euclid(ID_RANGE);
    let oldest_read = range - RANGES_READ;
    while range > oldest_read && range >= 0 && (ids.len() as i64) < MAX_MATCHES {
        let left = MAX_MATCHES - ids.len() as i64;
        // Only the range's number, no id bounds: both indexes it may use are keyed
        // by it (`ticket_search_bucket` for rarer words, `ticket_search_range` newest
        // first for very common ones), and id bounds would have PostgreSQL AND the
        // matches with a bitmap of the whole range.
        let hits: Vec<Hit> = diesel::sql_query(format!(
            "SELECT ticket_id AS id FROM ticket_search WHERE ticket_id / {ID_RANGE} = CAST($1 AS BIGINT) \
             AND document @@ CAST($2 AS tsquery) ORDER BY ticket_id DESC LIMIT {left}"
        ))
        .bind::<BigInt, _>(range)
        .bind::<Text, _>(query)
        .load(conn)?;
        ids.extend(hits.into_iter().map(|h| h.id));
        range -= 1;
    }
    if range >= 0 && (ids.len() as i64) < MAX_MATCHES {
        let left = MAX_MATCHES - ids.len() as i64;
        let hits: Vec<Hit> = diesel::sql_query(format!(
            "SELECT ticket_id AS id FROM ticket_search WHERE ticket_id < $1 AND document @@ CAST($2 AS tsquery) \
             ORDER BY ticket_id DESC LIMIT {left}"
        ))
        .bind::<BigInt, _>((range + 1) * ID_RANGE)
        .bind::<Text, _>(query)
        .load(conn)?;
        ids.extend(hits.into_iter().map(|h| h.id));
    }
    Ok(ids)
}

/// Remembers the words of new documents (words are never forgotten: a word no
/// document has any more only widens a search by a word that matches nothing).
pub fn remember_words<'a>(conn: &mut AnyConnection, words: impl Iterator<Item = &'a str>) -> DomainResult<()> {
    // Sorted, so concurrent writers take the rows' locks in the same order.
    let words: std::collections::BTreeSet<&str> = words.filter(|w| !w.is_empty()).collect();
    let words: Vec<&str> = words.into_iter().collect();
    let pg = conn.is_postgres();
    for chunk in words.chunks(200) {
        let values: Vec<String> =
            (1..=chunk.len()).map(|i| if pg { format!("(${i})") } else { "(?)".to_string() }).collect();
        let mut insert = diesel::sql_query(format!(
            "INSERT INTO search_terms (term) VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        ))
        .into_boxed::<Db>();
        for w in chunk {
            insert = insert.bind::<Text, _>(*w);
        }
        insert.execute(conn)?;
    }
    Ok(())
}

/// Rebuilds the search document of one ticket from its current text.
pub fn reindex(conn: &mut AnyConnection, ticket_id: i64) -> DomainResult<()> {
    let title: String = tickets::table.find(ticket_id).select(tickets::title).get_result(conn)?;
    let bodies: Vec<String> = messages::table
        .filter(messages::ticket_id.eq(ticket_id))
        .order(messages::id)
        .select(messages::body)
        .load(conn)?;
    let document = document(&title, bodies.iter().map(String::as_str));
    set_document(conn, ticket_id, &document)
}

/// The searchable words of a ticket: the distinct words of its title and every
/// message (the first message is the ticket's description), space-separated.
pub fn document<'a>(title: &str, bodies: impl Iterator<Item = &'a str>) -> String {
    let mut seen: foldhash::HashSet<String> = foldhash::HashSet::default();
    let mut doc = String::new();
    for w in words(title).chain(bodies.flat_map(words)) {
        if !seen.contains(&w) {
            if !doc.is_empty() {
                doc.push(' ');
            }
            doc.push_str(&w);
            seen.insert(w);
        }
    }
    doc
}

/// The document in tsvector input syntax: `'word' 'other'` (words hold no quotes).
fn tsvector_text(document: &str) -> String {
    document.split(' ').filter(|w| !w.is_empty()).map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" ")
}

/// Documents as PostgreSQL's binary COPY data for `(ticket_id, document)`: each
/// document a tsvector whose words are already in the order PostgreSQL keeps them
/// (byte order, then length: a word before the longer words it begins), which it
/// takes as they are. Sent as text, PostgreSQL parsed and sorted every document's
/// words itself: a third of its work in a demo load.
fn binary_copy_of_documents(docs: &[(i64, String)]) -> DomainResult<Vec<u8>> {
    let too_long = || crate::error::DomainError::internal("a search document too long for a tsvector");
    let mut rows = Vec::with_capacity(19 + docs.iter().map(|(_, d)| d.len() * 2 + 22).sum::<usize>() + 2);
    rows.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    rows.extend_from_slice(&0i32.to_be_bytes()); // flags
    rows.extend_from_slice(&0i32.to_be_bytes()); // header extension length
    let mut words: Vec<&str> = Vec::new();
    for (id, doc) in docs {
        words.clear();
        words.extend(doc.split(' ').filter(|w| !w.is_empty()));
        words.sort_unstable();
        words.dedup();
        rows.extend_from_slice(&2i16.to_be_bytes()); // fields
        rows.extend_from_slice(&8i32.to_be_bytes());
        rows.extend_from_slice(&id.to_be_bytes());
        // The tsvector: its word count, then each word NUL-terminated with no positions.
        let size = 4 + words.iter().map(|w| w.len() + 3).sum::<usize>();
        rows.extend_from_slice(&i32::try_from(size).map_err(|_| too_long())?.to_be_bytes());
        rows.extend_from_slice(&i32::try_from(words.len()).map_err(|_| too_long())?.to_be_bytes());
        for w in &words {
            rows.extend_from_slice(w.as_bytes());
            rows.push(0);
            rows.extend_from_slice(&0u16.to_be_bytes());
        }
    }
    rows.extend_from_slice(&(-1i16).to_be_bytes()); // trailer
    Ok(rows)
}

fn set_document(conn: &mut AnyConnection, ticket_id: i64, document: &str) -> DomainResult<()> {
    remove(conn, &[ticket_id])?;
    remember_words(conn, document.split(' '))?;
    let (sql, text) = if conn.is_postgres() {
        ("INSERT INTO ticket_search (ticket_id, document) VALUES ($1, CAST($2 AS tsvector))", tsvector_text(document))
    } else {
        ("INSERT INTO ticket_search (rowid, body) VALUES (?, ?)", document.to_string())
    };
    diesel::sql_query(sql).bind::<BigInt, _>(ticket_id).bind::<Text, _>(text).execute(conn)?;
    Ok(())
}

/// Forgets the documents of removed tickets (SQLite's FTS table has no foreign key).
pub fn remove(conn: &mut AnyConnection, ticket_ids: &[i64]) -> DomainResult<()> {
    for chunk in ticket_ids.chunks(500) {
        let list = chunk.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",");
        let sql = if conn.is_postgres() {
            format!("DELETE FROM ticket_search WHERE ticket_id IN ({list})")
        } else {
            format!("DELETE FROM ticket_search WHERE rowid IN ({list})")
        };
        diesel::sql_query(sql).execute(conn)?;
    }
    Ok(())
}

mod pg {
    diesel::table! {
        ticket_search (ticket_id) {
            ticket_id -> BigInt,
            // A tsvector; written only as binary COPY data (`binary_copy_of_documents`).
            document -> Text,
        }
    }
}

/// Writes many documents at once (demo data): `(ticket_id, document)`. Their words
/// must already be remembered (`remember_words`).
pub fn insert_documents(conn: &mut AnyConnection, docs: &[(i64, String)]) -> DomainResult<()> {
    match conn {
        AnyConnection::Postgresql(c) => {
            use diesel::pg::CopyFormat;
            use pg::ticket_search::dsl as t;
            use std::io::Write;
            let rows = binary_copy_of_documents(docs)?;
            diesel::copy_from(t::ticket_search)
                .from_raw_data(
                    (t::ticket_id, t::document),
                    |out: &mut dyn Write| -> Result<(), diesel::result::Error> {
                        out.write_all(&rows).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
                    },
                )
                .with_format(CopyFormat::Binary)
                .execute(c)?;
        }
        AnyConnection::Sqlite(c) => {
            // One statement for the whole batch, as a JSON array of [id, document]:
            // FTS5 writes its pending words out as a new segment at every statement
            // that changes it, and each segment is merged again later.
            let rows = serde_json::to_string(docs).map_err(|e| crate::error::DomainError::internal(e.to_string()))?;
            diesel::sql_query(
                "INSERT INTO ticket_search (rowid, body) SELECT value ->> 0, value ->> 1 FROM json_each(?)",
            )
            .bind::<Text, _>(rows)
            .execute(c)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_cut_at_the_character_and_lower_cased() {
        let long = "Ä".repeat(70);
        assert_eq!(terms(&format!("Payout-{long}, payout")), vec!["payout".to_string(), "ä".repeat(64)]);
        assert_eq!(document("Postback", ["no POSTBACK, no payout"].into_iter()), "postback no payout");
    }

    #[test]
    fn documents_are_copied_as_sorted_tsvectors() {
        let rows = binary_copy_of_documents(&[(7, "payout postback pay 2fa".to_string())]).unwrap_or_default();
        let mut want = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        want.extend_from_slice(&[0, 2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7]);
        want.extend_from_slice(&[0, 0, 0, 36, 0, 0, 0, 4]);
        for w in ["2fa", "pay", "payout", "postback"] {
            want.extend_from_slice(w.as_bytes());
            want.extend_from_slice(&[0, 0, 0]);
        }
        want.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(rows, want);
    }
}
