//! Ticket totals per (manager, status, type), so the list can show how many tickets
//! match without counting a million rows. Every change of a ticket's existence or
//! status goes through `adjust`, in the same transaction.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{ticket_counts, tickets};
use crate::error::AppResult;

/// Adds `delta` to the total of one group (creating the group row if needed).
pub fn adjust(
    conn: &mut AnyConnection,
    manager_id: Option<i64>,
    status: &str,
    kind: &str,
    delta: i64,
) -> AppResult<()> {
    if delta == 0 {
        return Ok(());
    }
    let manager = manager_id.unwrap_or(0);
    let key = ticket_counts::table
        .filter(ticket_counts::manager_id.eq(manager))
        .filter(ticket_counts::status.eq(status))
        .filter(ticket_counts::kind.eq(kind));
    let updated = diesel::update(key).set(ticket_counts::n.eq(ticket_counts::n + delta)).execute(conn)?;
    if updated == 0 {
        diesel::insert_into(ticket_counts::table)
            .values((
                ticket_counts::manager_id.eq(manager),
                ticket_counts::status.eq(status),
                ticket_counts::kind.eq(kind),
                ticket_counts::n.eq(delta),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Recomputes every total from the tickets (after a bulk load).
pub fn rebuild(conn: &mut AnyConnection) -> AppResult<()> {
    diesel::delete(ticket_counts::table).execute(conn)?;
    let groups: Vec<(Option<i64>, String, String, i64)> = tickets::table
        .group_by((tickets::manager_id, tickets::status, tickets::kind))
        .select((tickets::manager_id, tickets::status, tickets::kind, diesel::dsl::count_star()))
        .load(conn)?;
    for (manager, status, kind, n) in groups {
        adjust(conn, manager, &status, &kind, n)?;
    }
    Ok(())
}

/// The total for a scope (one manager or everyone), a status and a set of types.
/// Sums a handful of group rows in Rust: SUM over BIGINT is NUMERIC on PostgreSQL.
pub fn total(
    conn: &mut AnyConnection,
    manager_id: Option<i64>,
    status: Option<&str>,
    kinds: &[&str],
) -> AppResult<i64> {
    let mut query = ticket_counts::table.select(ticket_counts::n).into_boxed();
    if let Some(m) = manager_id {
        query = query.filter(ticket_counts::manager_id.eq(m));
    }
    if let Some(s) = status {
        query = query.filter(ticket_counts::status.eq(s.to_string()));
    }
    if !kinds.is_empty() {
        query = query.filter(ticket_counts::kind.eq_any(kinds.iter().map(|k| k.to_string()).collect::<Vec<_>>()));
    }
    Ok(query.load::<i64>(conn)?.into_iter().sum())
}
