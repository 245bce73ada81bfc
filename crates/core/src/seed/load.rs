//! Writing generated rows in bulk, per backend: binary COPY on PostgreSQL, multi-row
//! INSERTs on SQLite; and the index and sequence work around a large load.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::*;
use crate::domain::states::{
    AccessGrant, AccessSource, AffiliateStatus, AuthorKind, RequestState, TicketKind, TicketStatus,
};
use crate::error::DomainResult;

pub(super) const CHUNK: usize = 20_000;

#[derive(Insertable, Clone)]
#[diesel(table_name = tickets, treat_none_as_default_value = false)]
pub(super) struct TicketRow {
    pub(super) id: i64,
    pub(super) affiliate_id: i64,
    pub(super) manager_id: Option<i64>,
    pub(super) kind: TicketKind,
    pub(super) status: TicketStatus,
    pub(super) request_state: Option<RequestState>,
    pub(super) offer_id: Option<i64>,
    pub(super) smartlink_id: Option<i64>,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) created_at: NaiveDateTime,
    pub(super) updated_at: NaiveDateTime,
    pub(super) manager_answers: i32,
    pub(super) affiliate_messages: i32,
    pub(super) unread_by_manager: i32,
    pub(super) unread_by_affiliate: i32,
    pub(super) waiting_since: Option<NaiveDateTime>,
    pub(super) last_author_kind: Option<AuthorKind>,
    pub(super) last_preview: Option<String>,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = affiliates, treat_none_as_default_value = false)]
pub(super) struct AffiliateRow {
    pub(super) email: String,
    pub(super) login: String,
    pub(super) name: String,
    pub(super) status: AffiliateStatus,
    pub(super) manager_id: i64,
    pub(super) password_hash: String,
    pub(super) created_at: NaiveDateTime,
    pub(super) updated_at: NaiveDateTime,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = messages, treat_none_as_default_value = false)]
pub(super) struct MessageRow {
    pub(super) id: i64,
    pub(super) ticket_id: i64,
    pub(super) author_kind: AuthorKind,
    pub(super) author_id: Option<i64>,
    pub(super) body: String,
    pub(super) internal: bool,
    pub(super) created_at: NaiveDateTime,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = daily_stats, treat_none_as_default_value = false)]
pub(super) struct StatsRow {
    pub(super) day: NaiveDate,
    pub(super) affiliate_id: i64,
    pub(super) offer_id: i64,
    pub(super) clicks: i64,
    pub(super) unique_clicks: i64,
    pub(super) conversions: i64,
    pub(super) payout: i64,
    pub(super) revenue: i64,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = offer_access, treat_none_as_default_value = false)]
pub(super) struct OfferAccessRow {
    pub(super) offer_id: i64,
    pub(super) affiliate_id: i64,
    pub(super) state: AccessGrant,
    pub(super) source: AccessSource,
    pub(super) updated_at: NaiveDateTime,
    pub(super) updated_by: Option<i64>,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = smartlink_access, treat_none_as_default_value = false)]
pub(super) struct SmartlinkAccessRow {
    pub(super) smartlink_id: i64,
    pub(super) affiliate_id: i64,
    pub(super) state: AccessGrant,
    pub(super) source: AccessSource,
    pub(super) updated_at: NaiveDateTime,
    pub(super) updated_by: Option<i64>,
}

/// Writes a batch: binary COPY on PostgreSQL, multi-row INSERTs on SQLite.
macro_rules! bulk_insert {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        match $conn {
            AnyConnection::Postgresql(c) => {
                diesel::copy_from($table).from_insertable(&rows).execute(c)?;
            }
            AnyConnection::Sqlite(c) => {
                for part in rows.chunks(500) {
                    diesel::insert_into($table).values(part).execute(c)?;
                }
            }
        }
    }};
}
pub(super) use bulk_insert;

/// Tickets with their threads and search documents, made and written together.
pub(super) struct Chunk {
    pub(super) tickets: Vec<TicketRow>,
    pub(super) messages: Vec<MessageRow>,
    pub(super) documents: Vec<(i64, String)>,
    /// The documents' words not in an earlier chunk, sorted.
    pub(super) new_words: Vec<String>,
}

pub(super) fn insert_chunk(conn: &mut AnyConnection, chunk: Chunk) -> DomainResult<()> {
    bulk_insert!(conn, tickets::table, chunk.tickets);
    bulk_insert!(conn, messages::table, chunk.messages);
    crate::domain::search::remember_words(conn, chunk.new_words.iter().map(String::as_str))?;
    crate::domain::search::insert_documents(conn, &chunk.documents)
}

#[derive(QueryableByName)]
pub(super) struct IndexDef {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(super) name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(super) definition: String,
}

/// Drops the secondary indexes of `tables` (and on PostgreSQL their foreign keys,
/// checked row by row during a load but in one join when added back) and returns
/// the statements that create them again, read from the database's own catalogue
/// so they stay exactly as migrated.
pub(super) fn drop_secondary_indexes(conn: &mut AnyConnection, tables: &[&str]) -> DomainResult<Vec<String>> {
    let list = tables.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(",");
    let mut restore = Vec::new();
    if conn.is_postgres() {
        let keys: Vec<IndexDef> = diesel::sql_query(format!(
            "SELECT c.conname AS name, 'ALTER TABLE ' || r.relname || ' ADD CONSTRAINT ' || c.conname || ' ' || \
             pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid \
             WHERE c.contype = 'f' AND r.relname IN ({list}) AND r.relnamespace = current_schema()::regnamespace"
        ))
        .load(conn)?;
        for k in &keys {
            let table = k.definition.split_whitespace().nth(2).unwrap_or_default().to_string();
            diesel::sql_query(format!("ALTER TABLE {table} DROP CONSTRAINT {}", k.name)).execute(conn)?;
        }
        // Index builds sort in memory when they may; the default 64 MB spills to disk.
        diesel::sql_query("SET LOCAL maintenance_work_mem = '512MB'").execute(conn)?;
        let indexes: Vec<IndexDef> = diesel::sql_query(format!(
            "SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i \
             WHERE i.schemaname = current_schema() AND i.tablename IN ({list}) AND NOT EXISTS \
             (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ))
        .load(conn)?;
        for d in &indexes {
            diesel::sql_query(format!("DROP INDEX {}", d.name)).execute(conn)?;
        }
        restore.extend(indexes.into_iter().map(|d| d.definition));
        restore.extend(keys.into_iter().map(|k| k.definition));
    } else {
        let indexes: Vec<IndexDef> = diesel::sql_query(format!(
            "SELECT name, sql AS definition FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({list}) AND sql IS NOT NULL"
        ))
        .load(conn)?;
        for d in &indexes {
            diesel::sql_query(format!("DROP INDEX {}", d.name)).execute(conn)?;
        }
        restore.extend(indexes.into_iter().map(|d| d.definition));
    }
    Ok(restore)
}

/// Explicit ids leave PostgreSQL's sequences behind; move them past the data.
pub(super) fn reset_sequences(conn: &mut AnyConnection) -> DomainResult<()> {
    if conn.is_postgres() {
        for table in ["tickets", "messages"] {
            diesel::sql_query(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            ))
            .execute(conn)?;
        }
    }
    Ok(())
}
