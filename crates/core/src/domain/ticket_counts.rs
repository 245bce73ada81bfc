//! Ticket totals per (manager, status, type), so the list can show how many tickets
//! match without counting a million rows. Every change of a ticket's existence or
//! status goes through `adjust`, in the same transaction.

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::states::{TicketKind, TicketStatus};
use crate::db::AnyConnection;
use crate::db::schema::{ticket_counts, tickets};
use crate::error::DomainResult;

/// Adds `delta` to the total of one group (creating the group row if needed).
pub fn adjust(
    conn: &mut AnyConnection,
    manager_id: Option<i64>,
    status: TicketStatus,
    kind: TicketKind,
    delta: i64,
) -> DomainResult<()> {
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

/// What one transaction does to the totals, written together at its end in one
/// fixed order (manager, status, type). Two transactions that touch the same groups
/// then lock their rows in the same order: a bulk close and a reopen at once wait
/// for each other instead of deadlocking.
#[derive(Debug, Default)]
#[must_use = "a tally changes nothing until it is written"]
pub struct Tally(BTreeMap<(i64, TicketStatus, TicketKind), i64>);

impl Tally {
    pub fn add(&mut self, manager_id: Option<i64>, status: TicketStatus, kind: TicketKind, delta: i64) {
        *self.0.entry((manager_id.unwrap_or(0), status, kind)).or_default() += delta;
    }

    /// A ticket moved from one status to another.
    pub fn moved(&mut self, manager_id: Option<i64>, kind: TicketKind, from: TicketStatus, to: TicketStatus) {
        if from != to {
            self.add(manager_id, from, kind, -1);
            self.add(manager_id, to, kind, 1);
        }
    }

    pub fn write(self, conn: &mut AnyConnection) -> DomainResult<()> {
        for ((manager, status, kind), delta) in self.0 {
            adjust(conn, Some(manager), status, kind, delta)?;
        }
        Ok(())
    }
}

/// Recomputes every total from the tickets (after a bulk load).
pub fn rebuild(conn: &mut AnyConnection) -> DomainResult<()> {
    diesel::delete(ticket_counts::table).execute(conn)?;
    let groups: Vec<(Option<i64>, TicketStatus, TicketKind, i64)> = tickets::table
        .group_by((tickets::manager_id, tickets::status, tickets::kind))
        .select((tickets::manager_id, tickets::status, tickets::kind, diesel::dsl::count_star()))
        .load(conn)?;
    for (manager, status, kind, n) in groups {
        adjust(conn, manager, status, kind, n)?;
    }
    Ok(())
}

/// The total for a scope (one manager or everyone), a status and a set of types.
/// Sums a handful of group rows in Rust: SUM over BIGINT is NUMERIC on PostgreSQL.
pub fn total(
    conn: &mut AnyConnection,
    manager_id: Option<i64>,
    statuses: &[TicketStatus],
    kinds: &[TicketKind],
) -> DomainResult<i64> {
    // A manager has a few dozen groups at most: read them all and add up here, so
    // the statement is the same whatever the filter and stays prepared.
    let mut query =
        ticket_counts::table.select((ticket_counts::status, ticket_counts::kind, ticket_counts::n)).into_boxed();
    if let Some(m) = manager_id {
        query = query.filter(ticket_counts::manager_id.eq(m));
    }
    Ok(query
        .load::<(TicketStatus, TicketKind, i64)>(conn)?
        .into_iter()
        .filter(|(s, k, _)| (statuses.is_empty() || statuses.contains(s)) && (kinds.is_empty() || kinds.contains(k)))
        .map(|(_, _, n)| n)
        .sum())
}
