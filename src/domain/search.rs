//! Text search over tickets: one document per ticket (title, description, every
//! message), matched by word prefix, case-insensitively. SQLite uses FTS5,
//! PostgreSQL a GIN index over `to_tsvector('simple', body)`; this file is the only
//! place that knows the difference.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use crate::db::schema::{messages, tickets};
use crate::db::{AnyConnection, Db};
use crate::error::AppResult;

/// At most this many words of a query are used.
const MAX_TERMS: usize = 8;

/// The words of a search: letters and digits, lower-cased. Empty when the text has none.
pub fn terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_TERMS)
        .map(|w| w.to_lowercase())
        .collect()
}

/// A condition on `tickets` that keeps the tickets whose document has every term.
pub fn condition(
    is_postgres: bool,
    terms: &[String],
) -> Box<dyn BoxableExpression<tickets::table, Db, SqlType = Bool>> {
    if is_postgres {
        let query = terms.iter().map(|t| format!("{t}:*")).collect::<Vec<_>>().join(" & ");
        Box::new(
            diesel::dsl::sql::<Bool>(
                "tickets.id IN (SELECT ticket_id FROM ticket_search \
                 WHERE to_tsvector('simple', body) @@ to_tsquery('simple', ",
            )
            .bind::<Text, _>(query)
            .sql("))"),
        )
    } else {
        let query = terms.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" AND ");
        Box::new(
            diesel::dsl::sql::<Bool>("tickets.id IN (SELECT rowid FROM ticket_search WHERE ticket_search MATCH ")
                .bind::<Text, _>(query)
                .sql(")"),
        )
    }
}

/// Rebuilds the search document of one ticket from its current text.
pub fn reindex(conn: &mut AnyConnection, ticket_id: i64) -> AppResult<()> {
    let title: String = tickets::table.find(ticket_id).select(tickets::title).first(conn)?;
    let bodies: Vec<String> = messages::table
        .filter(messages::ticket_id.eq(ticket_id))
        .order(messages::id)
        .select(messages::body)
        .load(conn)?;
    let document = document(&title, bodies.iter().map(String::as_str));
    set_document(conn, ticket_id, &document)
}

/// The searchable text: the title and every message (the first message is the
/// ticket's description).
pub fn document<'a>(title: &str, bodies: impl Iterator<Item = &'a str>) -> String {
    let mut doc = title.to_string();
    for b in bodies {
        doc.push('\n');
        doc.push_str(b);
    }
    doc
}

fn set_document(conn: &mut AnyConnection, ticket_id: i64, document: &str) -> AppResult<()> {
    remove(conn, &[ticket_id])?;
    let sql = if conn.is_postgres() {
        "INSERT INTO ticket_search (ticket_id, body) VALUES ($1, $2)"
    } else {
        "INSERT INTO ticket_search (rowid, body) VALUES (?, ?)"
    };
    diesel::sql_query(sql).bind::<BigInt, _>(ticket_id).bind::<Text, _>(document).execute(conn)?;
    Ok(())
}

/// Forgets the documents of removed tickets (SQLite's FTS table has no foreign key).
pub fn remove(conn: &mut AnyConnection, ticket_ids: &[i64]) -> AppResult<()> {
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
            body -> Text,
        }
    }
}

mod sqlite {
    diesel::table! {
        ticket_search (rowid) {
            rowid -> BigInt,
            body -> Text,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = pg::ticket_search, treat_none_as_default_value = false)]
struct PgDocument<'a> {
    ticket_id: i64,
    body: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = sqlite::ticket_search, treat_none_as_default_value = false)]
struct SqliteDocument<'a> {
    rowid: i64,
    body: &'a str,
}

/// Writes many documents at once (demo data): `(ticket_id, document)`.
pub fn insert_many(conn: &mut AnyConnection, docs: &[(i64, String)]) -> AppResult<()> {
    match conn {
        AnyConnection::Postgresql(c) => {
            let rows: Vec<_> = docs.iter().map(|(id, body)| PgDocument { ticket_id: *id, body }).collect();
            diesel::copy_from(pg::ticket_search::table).from_insertable(&rows).execute(c)?;
        }
        AnyConnection::Sqlite(c) => {
            let rows: Vec<_> = docs.iter().map(|(id, body)| SqliteDocument { rowid: *id, body }).collect();
            for part in rows.chunks(500) {
                diesel::insert_into(sqlite::ticket_search::table).values(part).execute(c)?;
            }
        }
    }
    Ok(())
}
