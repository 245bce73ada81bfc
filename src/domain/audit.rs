//! The audit log: who did what to which ticket or access row, and when.

use diesel::prelude::*;

use super::{Actor, now};
use crate::db::AnyConnection;
use crate::db::schema::audit_log;
use crate::error::AppResult;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub action: String,
    pub ticket_id: Option<i64>,
    pub detail: String,
    pub created_at: chrono::NaiveDateTime,
}

pub fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    ticket_id: Option<i64>,
    detail: &str,
) -> AppResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_kind.eq(actor.kind()),
            audit_log::actor_id.eq(actor.id()),
            audit_log::action.eq(action),
            audit_log::ticket_id.eq(ticket_id),
            audit_log::detail.eq(detail),
            audit_log::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn for_ticket(conn: &mut AnyConnection, ticket_id: i64) -> AppResult<Vec<AuditEntry>> {
    Ok(audit_log::table
        .filter(audit_log::ticket_id.eq(ticket_id))
        .order(audit_log::id.asc())
        .select(AuditEntry::as_select())
        .load(conn)?)
}
