//! What happens to a ticket as a whole: close, reopen, remove, and the bulk form of
//! each with a summary a person can read.

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::access::{self, Decision};
use super::tickets::{Scope, Ticket};
use super::{Actor, audit, now, search, ticket_counts};
use crate::db::AnyConnection;
use crate::db::schema::{attachments, messages, tickets};
use crate::error::AppResult;

/// What one action did to one ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Skipped(&'static str),
}

/// Closes an open ticket without replying.
pub fn close(conn: &mut AnyConnection, actor: &Actor, ticket: &Ticket, via: &str) -> AppResult<Outcome> {
    set_status(conn, actor, ticket, "closed", via)
}

/// Reopens a closed ticket.
pub fn reopen(conn: &mut AnyConnection, actor: &Actor, ticket: &Ticket, via: &str) -> AppResult<Outcome> {
    set_status(conn, actor, ticket, "open", via)
}

fn set_status(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket: &Ticket,
    to: &'static str,
    via: &str,
) -> AppResult<Outcome> {
    let from = if to == "open" { "closed" } else { "open" };
    let changed = diesel::update(tickets::table.find(ticket.id).filter(tickets::status.eq(from)))
        .set((tickets::status.eq(to), tickets::updated_at.eq(now())))
        .execute(conn)?;
    if changed == 0 {
        return Ok(Outcome::Skipped(if to == "open" { "already open" } else { "already closed" }));
    }
    ticket_counts::adjust(conn, ticket.manager_id, from, &ticket.kind, -1)?;
    ticket_counts::adjust(conn, ticket.manager_id, to, &ticket.kind, 1)?;
    audit::record(conn, actor, if to == "open" { "reopen" } else { "close" }, Some(ticket.id), via)?;
    Ok(Outcome::Done)
}

/// Deletes tickets with their messages and attachment rows; returns the storage
/// keys of their files, to delete once the transaction has committed.
pub fn remove(
    conn: &mut AnyConnection,
    actor: &Actor,
    tickets_to_remove: &[Ticket],
    via: &str,
) -> AppResult<Vec<String>> {
    let ids: Vec<i64> = tickets_to_remove.iter().map(|t| t.id).collect();
    let mut keys = Vec::new();
    for chunk in ids.chunks(500) {
        let chunk_keys: Vec<String> = attachments::table
            .inner_join(messages::table)
            .filter(messages::ticket_id.eq_any(chunk))
            .select(attachments::storage_key)
            .load(conn)?;
        keys.extend(chunk_keys);
        diesel::delete(tickets::table.filter(tickets::id.eq_any(chunk))).execute(conn)?;
    }
    search::remove(conn, &ids)?;
    for t in tickets_to_remove {
        ticket_counts::adjust(conn, t.manager_id, &t.status, &t.kind, -1)?;
        audit::record(conn, actor, "remove", Some(t.id), &format!("{via}: {}", t.title))?;
    }
    Ok(keys)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkAction {
    Activate,
    Close,
    Reject,
    Remove,
}

impl BulkAction {
    pub fn parse(s: &str) -> Option<BulkAction> {
        match s {
            "activate" => Some(BulkAction::Activate),
            "close" => Some(BulkAction::Close),
            "reject" => Some(BulkAction::Reject),
            "remove" => Some(BulkAction::Remove),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            BulkAction::Activate => "activate",
            BulkAction::Close => "close",
            BulkAction::Reject => "reject",
            BulkAction::Remove => "remove",
        }
    }
    fn past_tense(self) -> &'static str {
        match self {
            BulkAction::Activate => "approved",
            BulkAction::Close => "closed",
            BulkAction::Reject => "rejected",
            BulkAction::Remove => "removed",
        }
    }
}

/// What a bulk action did, for the person who asked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BulkSummary {
    pub done: usize,
    /// Reason -> how many tickets were skipped for it.
    pub skipped: BTreeMap<&'static str, usize>,
    /// Tickets that do not exist or that this person may not touch.
    pub not_allowed: usize,
    pub verb: &'static str,
    /// Files of removed tickets, to delete after commit.
    pub removed_files: Vec<String>,
}

impl BulkSummary {
    /// "12 closed, 3 skipped (already closed)".
    pub fn text(&self) -> String {
        let mut parts = vec![format!("{} {}", self.done, self.verb)];
        for (reason, n) in &self.skipped {
            parts.push(format!("{n} skipped ({reason})"));
        }
        if self.not_allowed > 0 {
            parts.push(format!("{} not changed (not found or not yours)", self.not_allowed));
        }
        parts.join(", ")
    }
}

/// Applies one action to many tickets in one transaction (the caller's), with one
/// audit entry per changed ticket. Tickets outside `scope` are counted, not touched.
pub fn bulk(
    conn: &mut AnyConnection,
    actor: &Actor,
    scope: &Scope,
    action: BulkAction,
    ids: &[i64],
) -> AppResult<BulkSummary> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut summary = BulkSummary { verb: action.past_tense(), ..Default::default() };
    let mut visible = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let found: Vec<Ticket> =
            tickets::table.filter(tickets::id.eq_any(chunk)).select(Ticket::as_select()).load(conn)?;
        summary.not_allowed += chunk.len() - found.len();
        for t in found {
            if scope.allows(&t) { visible.push(t) } else { summary.not_allowed += 1 }
        }
    }
    let via = "bulk";
    if action == BulkAction::Remove {
        summary.removed_files = remove(conn, actor, &visible, via)?;
        summary.done = visible.len();
        return Ok(summary);
    }
    for t in &visible {
        let outcome = match action {
            BulkAction::Close => close(conn, actor, t, via)?,
            BulkAction::Activate | BulkAction::Reject => {
                let decision = if action == BulkAction::Activate { Decision::Approve } else { Decision::Reject };
                match access::decide(conn, actor, t, decision, via)? {
                    Ok(()) => Outcome::Done,
                    Err(why) => Outcome::Skipped(why.reason()),
                }
            }
            BulkAction::Remove => unreachable!("handled above"),
        };
        match outcome {
            Outcome::Done => summary.done += 1,
            Outcome::Skipped(reason) => *summary.skipped.entry(reason).or_default() += 1,
        }
    }
    Ok(summary)
}
