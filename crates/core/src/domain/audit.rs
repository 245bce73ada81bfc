//! The audit log: who did what to which ticket or access row, and when.

use diesel::prelude::*;

use super::states::AuditAction;
use super::{Actor, now};
use crate::db::AnyConnection;
use crate::db::schema::audit_log;
use crate::error::DomainResult;

pub fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: AuditAction,
    ticket_id: Option<i64>,
    detail: &str,
) -> DomainResult<()> {
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

/// One entry per ticket for the same action (a bulk action's), in one statement per
/// few hundred.
pub fn record_many(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: AuditAction,
    ticket_ids: &[i64],
    detail: &str,
) -> DomainResult<()> {
    let at = now();
    for chunk in ticket_ids.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|id| {
                (
                    audit_log::actor_kind.eq(actor.kind()),
                    audit_log::actor_id.eq(actor.id()),
                    audit_log::action.eq(action),
                    audit_log::ticket_id.eq(Some(*id)),
                    audit_log::detail.eq(detail),
                    audit_log::created_at.eq(at),
                )
            })
            .collect();
        crate::db::insert_rows!(conn, audit_log::table, rows)?;
    }
    Ok(())
}
