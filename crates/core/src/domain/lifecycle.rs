//! What happens to a ticket as a whole: close, reopen, remove, and the bulk form of
//! each (and of the access decisions) with a summary a person can read.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::access::{self, Decision};
use super::actor::Actor;
use super::states::AuditAction;
use super::states::TicketStatus;
use super::ticket_filter::TicketFilter;
use super::ticket_list;
use super::tickets::Ticket;
use super::{Acted, Effects, audit, notify, now, search, ticket_counts};
use super::{assignment, attachments};
use crate::db::schema::{attachments as attachment_rows, messages, tickets};
use crate::db::{AnyConnection, write_transaction};
use crate::error::{DomainError, DomainResult};
use crate::storage::AttachmentStore;

/// Why an action left a ticket as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Skip {
    AlreadyOpen,
    AlreadyClosed,
    NotARequest,
    AlreadyDecided,
    AlreadyRejected,
    AlreadyAssigned,
}

impl Skip {
    pub fn reason(self) -> &'static str {
        match self {
            Skip::AlreadyOpen => "already open",
            Skip::AlreadyClosed => "already closed",
            Skip::NotARequest => "not an access request",
            Skip::AlreadyDecided => "already decided",
            Skip::AlreadyRejected => "already rejected, nothing to revoke",
            Skip::AlreadyAssigned => "already with that manager",
        }
    }
}

/// What one action did to one ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Skipped(Skip),
}

/// Use case: close a ticket without replying.
pub fn close(conn: &mut AnyConnection, actor: &Actor, ticket_id: i64) -> DomainResult<Acted<Outcome>> {
    set_status(conn, actor, ticket_id, TicketStatus::Closed)
}

/// What closing a ticket from its thread answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseAnswer {
    /// The ticket is a pending access request: closing it leaves the affiliate
    /// without an answer, so the person is asked whether to reject it instead.
    AsksAboutPendingRequest,
    Done(Outcome),
}

/// Use case: close a ticket from its thread. Unless `confirmed`, a pending access
/// request is not closed but asked about, decided in the transaction that would
/// have closed it.
pub fn close_or_ask(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket_id: i64,
    confirmed: bool,
) -> DomainResult<Acted<CloseAnswer>> {
    actor.as_staff()?;
    write_transaction(conn, |conn| {
        let ticket = Ticket::lock_visible(conn, &actor.scope(), ticket_id)?;
        if !confirmed && ticket.is_pending_request() {
            return Ok(Acted::quiet(CloseAnswer::AsksAboutPendingRequest));
        }
        let mut tally = ticket_counts::Tally::default();
        let to = TicketStatus::Closed;
        let outcome = change_status(conn, actor, &ticket, to, actor.via.as_str(), &mut tally, notify::Tell::Now)?;
        tally.write(conn)?;
        Ok(outcome.map(CloseAnswer::Done))
    })
}

/// Use case: reopen a closed ticket.
pub fn reopen(conn: &mut AnyConnection, actor: &Actor, ticket_id: i64) -> DomainResult<Acted<Outcome>> {
    set_status(conn, actor, ticket_id, TicketStatus::Open)
}

fn set_status(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket_id: i64,
    to: TicketStatus,
) -> DomainResult<Acted<Outcome>> {
    actor.as_staff()?;
    write_transaction(conn, |conn| {
        let ticket = Ticket::lock_visible(conn, &actor.scope(), ticket_id)?;
        let mut tally = ticket_counts::Tally::default();
        let outcome = change_status(conn, actor, &ticket, to, actor.via.as_str(), &mut tally, notify::Tell::Now)?;
        tally.write(conn)?;
        Ok(outcome)
    })
}

/// Moves a locked ticket to `to`, with an audit entry; its totals go into `tally`.
fn change_status(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket: &Ticket,
    to: TicketStatus,
    detail: &str,
    tally: &mut ticket_counts::Tally,
    tell: notify::Tell,
) -> DomainResult<Acted<Outcome>> {
    if ticket.status == to {
        let skip = if to == TicketStatus::Open { Skip::AlreadyOpen } else { Skip::AlreadyClosed };
        return Ok(Acted::quiet(Outcome::Skipped(skip)));
    }
    diesel::update(tickets::table.find(ticket.id))
        // Closing or reopening by hand answers nobody: the ticket waits for no one.
        .set((
            tickets::status.eq(to),
            tickets::updated_at.eq(now()),
            tickets::waiting_since.eq(None::<NaiveDateTime>),
            tickets::closed_at.eq(if to == TicketStatus::Closed { Some(now()) } else { ticket.closed_at }),
        ))
        .execute(conn)?;
    tally.moved(ticket.manager_id, ticket.kind, ticket.status, to);
    let action = if to == TicketStatus::Open { AuditAction::Reopen } else { AuditAction::Close };
    audit::record(conn, actor, action, Some(ticket.id), detail)?;
    let change = if to == TicketStatus::Open { notify::Change::Reopened } else { notify::Change::Closed };
    let effects = notify::ticket_changed_telling(conn, actor, ticket, change, tell)?;
    Ok(Acted::new(Outcome::Done, effects))
}

/// Closes many locked tickets as `change_status` closes one, a few hundred per
/// statement: their rows, audit entries, live events and emails. Returns the ids
/// closed and those that were closed already.
fn close_many(
    conn: &mut AnyConnection,
    actor: &Actor,
    tickets: &[Ticket],
    detail: &str,
    tally: &mut ticket_counts::Tally,
) -> DomainResult<Acted<(Vec<i64>, Vec<i64>)>> {
    let (already, open): (Vec<&Ticket>, Vec<&Ticket>) = tickets.iter().partition(|t| t.status == TicketStatus::Closed);
    let open: Vec<Ticket> = open.into_iter().cloned().collect();
    let ids: Vec<i64> = open.iter().map(|t| t.id).collect();
    let pg = conn.is_postgres();
    let at = now();
    for chunk in ids.chunks(500) {
        diesel::update(tickets::table.filter(crate::db::id_in(tickets::id, chunk, pg)))
            .set((
                tickets::status.eq(TicketStatus::Closed),
                tickets::updated_at.eq(at),
                tickets::waiting_since.eq(None::<NaiveDateTime>),
                tickets::closed_at.eq(Some(at)),
            ))
            .execute(conn)?;
    }
    for t in &open {
        tally.moved(t.manager_id, t.kind, t.status, TicketStatus::Closed);
    }
    audit::record_many(conn, actor, AuditAction::Close, &ids, detail)?;
    let effects = notify::tickets_closed(conn, actor, &open)?;
    Ok(Acted::new((ids, already.iter().map(|t| t.id).collect()), effects))
}

/// Closes the tickets that have waited on the affiliate (status pending) since
/// before `cutoff`, each with a notice in its thread and the closing email, a few
/// hundred per transaction. Returns how many closed. The server's periodic chores
/// call it with `--pending-close-days`.
pub fn close_unanswered(conn: &mut AnyConnection, cutoff: NaiveDateTime, days: u32) -> DomainResult<Acted<usize>> {
    let system = Actor::system();
    let notice =
        format!("Closed after {days} days without a reply from the affiliate. Replying opens the ticket again.");
    let mut closed = 0;
    let mut effects = Effects::NONE;
    loop {
        let done = write_transaction(conn, |conn| {
            let due: Vec<i64> = tickets::table
                .filter(tickets::status.eq(TicketStatus::Pending))
                .filter(tickets::updated_at.lt(cutoff))
                .order(tickets::updated_at.asc())
                .select(tickets::id)
                .limit(200)
                .load(conn)?;
            let mut tally = ticket_counts::Tally::default();
            let mut shut = 0;
            let mut effects = Effects::NONE;
            for t in Ticket::lock_many(conn, &due)? {
                // A reply may have come in between the read and the lock.
                if t.status != TicketStatus::Pending {
                    continue;
                }
                shut += 1;
                let at = now();
                let message = super::messages::NewMessage::system(t.id, None, &notice, at);
                super::messages::insert_message(conn, &message, &[])?;
                diesel::update(tickets::table.find(t.id))
                    .set(tickets::unread_by_affiliate.eq(tickets::unread_by_affiliate + 1))
                    .execute(conn)?;
                let to = TicketStatus::Closed;
                effects |= change_status(conn, &system, &t, to, "no reply", &mut tally, notify::Tell::Now)?.effects();
            }
            tally.write(conn)?;
            Ok::<_, crate::error::DomainError>((due.len(), shut, effects))
        })?;
        closed += done.1;
        effects |= done.2;
        // A short read means none are left; a full one may have more behind it.
        if done.0 < 200 {
            return Ok(Acted::new(closed, effects));
        }
    }
}

/// Use case: remove a ticket with its messages and files.
pub fn remove(
    conn: &mut AnyConnection,
    store: &dyn AttachmentStore,
    actor: &Actor,
    ticket_id: i64,
) -> DomainResult<()> {
    actor.as_staff()?;
    let files = write_transaction(conn, |conn| {
        let ticket = Ticket::lock_visible(conn, &actor.scope(), ticket_id)?;
        let mut tally = ticket_counts::Tally::default();
        let files = remove_rows(conn, actor, &[ticket], actor.via.as_str(), &mut tally)?;
        tally.write(conn)?;
        Ok::<_, crate::error::DomainError>(files)
    })?;
    attachments::delete_files(store, &files);
    Ok(())
}

/// Deletes locked tickets with their messages and attachment rows; returns the
/// storage keys of their files, to delete once the transaction has committed.
fn remove_rows(
    conn: &mut AnyConnection,
    actor: &Actor,
    removed: &[Ticket],
    detail: &str,
    tally: &mut ticket_counts::Tally,
) -> DomainResult<Vec<String>> {
    let ids: Vec<i64> = removed.iter().map(|t| t.id).collect();
    let mut keys = Vec::new();
    for chunk in ids.chunks(500) {
        let chunk_keys: Vec<String> = attachment_rows::table
            .inner_join(messages::table)
            .filter(messages::ticket_id.eq_any(chunk))
            .select(attachment_rows::storage_key)
            .load(conn)?;
        keys.extend(chunk_keys);
        diesel::delete(tickets::table.filter(tickets::id.eq_any(chunk))).execute(conn)?;
    }
    search::remove(conn, &ids)?;
    for t in removed {
        tally.add(t.manager_id, t.status, t.kind, -1);
        audit::record(conn, actor, AuditAction::Remove, Some(t.id), &format!("{detail}: {}", t.title))?;
    }
    Ok(keys)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkAction {
    Activate,
    Close,
    /// Close, rejecting the pending access requests among the tickets rather than
    /// leaving them pending and out of every queue.
    CloseRejectingPending,
    Reject,
    Remove,
    /// Hand the tickets to this manager.
    Assign(i64),
}

impl BulkAction {
    pub fn parse(s: &str) -> Option<BulkAction> {
        match s {
            "activate" => Some(BulkAction::Activate),
            "close" => Some(BulkAction::Close),
            "close_reject" => Some(BulkAction::CloseRejectingPending),
            "reject" => Some(BulkAction::Reject),
            "remove" => Some(BulkAction::Remove),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            BulkAction::Activate => "activate",
            BulkAction::Close => "close",
            BulkAction::CloseRejectingPending => "close_reject",
            BulkAction::Reject => "reject",
            BulkAction::Remove => "remove",
            BulkAction::Assign(_) => "assign",
        }
    }

    /// The manager an Assign hands the tickets to.
    pub fn assignee(self) -> Option<i64> {
        match self {
            BulkAction::Assign(to) => Some(to),
            _ => None,
        }
    }
    fn past_tense(self) -> &'static str {
        match self {
            BulkAction::Activate => "approved",
            BulkAction::Close | BulkAction::CloseRejectingPending => "closed",
            BulkAction::Reject => "rejected",
            BulkAction::Remove => "removed",
            BulkAction::Assign(_) => "assigned",
        }
    }
}

/// Which tickets a bulk action is for.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    Ids(Vec<i64>),
    /// Every ticket the actor may see that matches, as found when the action runs.
    Matching(TicketFilter),
}

/// What a bulk action did, for the person who asked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BulkSummary {
    pub done: Vec<i64>,
    /// Why tickets were skipped, with which.
    pub skipped: BTreeMap<Skip, Vec<i64>>,
    /// Tickets that do not exist or that this person may not touch.
    pub not_allowed: Vec<i64>,
    pub verb: &'static str,
}

impl BulkSummary {
    /// The selection named no ticket at all (not even one it may not touch).
    pub fn is_empty(&self) -> bool {
        self.done.is_empty() && self.skipped.is_empty() && self.not_allowed.is_empty()
    }

    /// What happened to which tickets: "Closed #12, #15; skipped #9: already closed".
    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        if self.done.is_empty() {
            parts.push(format!("Nothing {}", self.verb));
        } else {
            let mut verb = self.verb.to_string();
            if let Some(first) = verb.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            parts.push(format!("{verb} {}", id_list(&self.done)));
        }
        for (skip, ids) in &self.skipped {
            parts.push(format!("skipped {}: {}", id_list(ids), skip.reason()));
        }
        if !self.not_allowed.is_empty() {
            parts.push(format!("not changed {}: not found or not yours", id_list(&self.not_allowed)));
        }
        parts.join("; ")
    }

    /// Every ticket the action touched or looked at, for marking rows.
    pub fn mentioned(&self) -> impl Iterator<Item = i64> + '_ {
        self.done.iter().chain(self.skipped.values().flatten()).copied()
    }
}

/// "#3, #5" or, for many, "1,200 tickets (#3, #5, … and 1,190 more)".
fn id_list(ids: &[i64]) -> String {
    const SHOWN: usize = 10;
    let named = ids.iter().take(SHOWN).map(|id| format!("#{id}")).collect::<Vec<_>>().join(", ");
    if ids.len() <= SHOWN {
        named
    } else {
        let count = crate::domain::group_digits(ids.len() as i64);
        format!("{count} tickets ({named} and {} more)", crate::domain::group_digits((ids.len() - SHOWN) as i64))
    }
}

/// What a bulk action asked for the first time answers: the question to put to the
/// person, or what it did.
#[derive(Clone, Debug, PartialEq)]
pub enum BulkAnswer {
    /// Removing, acting on all matching tickets, and closing pending requests are
    /// asked first. `count` is what the action would touch (a stale selection may
    /// name tickets since removed or handed over); `pending` the pending requests
    /// among them when closing.
    NeedsConfirmation {
        count: usize,
        pending: usize,
    },
    Done(BulkSummary),
}

/// Use case: one action on many tickets, confirmed already (the API and the
/// thread's buttons, which ask nothing first).
pub fn bulk(
    conn: &mut AnyConnection,
    store: &dyn AttachmentStore,
    actor: &Actor,
    action: BulkAction,
    selection: &Selection,
) -> DomainResult<Acted<BulkSummary>> {
    let (answer, effects) = bulk_or_ask(conn, store, actor, action, selection, true)?.into_parts();
    match answer {
        BulkAnswer::Done(summary) => Ok(Acted::new(summary, effects)),
        BulkAnswer::NeedsConfirmation { .. } => Err(DomainError::internal("a confirmed bulk action asked again")),
    }
}

/// Use case: one action on many tickets in one transaction, with one audit entry
/// per changed ticket. Tickets the actor may not see are counted, not touched.
/// Unless `confirmed`, an action that must be asked first returns the question,
/// from the same transaction that would have acted, and changes nothing.
pub fn bulk_or_ask(
    conn: &mut AnyConnection,
    store: &dyn AttachmentStore,
    actor: &Actor,
    action: BulkAction,
    selection: &Selection,
    confirmed: bool,
) -> DomainResult<Acted<BulkAnswer>> {
    actor.as_staff()?;
    let scope = actor.scope();
    let mut summary = BulkSummary { verb: action.past_tense(), ..Default::default() };
    let ended = write_transaction(conn, |conn| {
        let mut ids = match selection {
            Selection::Ids(ids) => ids.clone(),
            Selection::Matching(filter) => ticket_list::matching_ids(conn, actor, filter)?,
        };
        ids.sort_unstable();
        ids.dedup();
        let found = Ticket::lock_many(conn, &ids)?;
        let mut visible = Vec::with_capacity(found.len());
        let mut found_ids = found.iter().map(|t| t.id).peekable();
        for id in &ids {
            if found_ids.peek() == Some(id) {
                found_ids.next();
            } else {
                summary.not_allowed.push(*id);
            }
        }
        for t in found {
            if scope.allows(&t) { visible.push(t) } else { summary.not_allowed.push(t.id) }
        }
        if !confirmed && !visible.is_empty() {
            let pending =
                if action == BulkAction::Close { visible.iter().filter(|t| t.is_pending_request()).count() } else { 0 };
            let matching = matches!(selection, Selection::Matching(_));
            if action == BulkAction::Remove || matching || pending > 0 {
                return Ok(Ended::Asked { count: visible.len(), pending });
            }
        }
        let detail = "bulk";
        let mut tally = ticket_counts::Tally::default();
        if action == BulkAction::Remove {
            summary.done = visible.iter().map(|t| t.id).collect();
            let files = remove_rows(conn, actor, &visible, detail, &mut tally)?;
            tally.write(conn)?;
            return Ok(Ended::Done(files, Effects::NONE));
        }
        if action == BulkAction::Close {
            let ((closed, skipped), effects) = close_many(conn, actor, &visible, detail, &mut tally)?.into_parts();
            summary.done = closed;
            if !skipped.is_empty() {
                summary.skipped.insert(Skip::AlreadyClosed, skipped);
            }
            tally.write(conn)?;
            return Ok(Ended::Done(Vec::new(), effects));
        }
        // Each affiliate hears of the action once, in its digest.
        let (told, tell) = (access::Told::InDigest, notify::Tell::InDigest);
        let assignee = action.assignee().map(|to| assignment::assignee(conn, to)).transpose()?;
        let mut done: Vec<(&Ticket, Option<Decision>)> = Vec::new();
        let mut effects = Effects::NONE;
        for t in &visible {
            let (outcome, decision) = match action {
                BulkAction::CloseRejectingPending if t.is_pending_request() => (
                    access::decide_locked(conn, actor, t, Decision::Reject, detail, &mut tally, told)?,
                    Some(Decision::Reject),
                ),
                BulkAction::Close | BulkAction::CloseRejectingPending => {
                    (change_status(conn, actor, t, TicketStatus::Closed, detail, &mut tally, tell)?, None)
                }
                BulkAction::Activate => (
                    access::decide_locked(conn, actor, t, Decision::Approve, detail, &mut tally, told)?,
                    Some(Decision::Approve),
                ),
                BulkAction::Reject => (
                    access::decide_locked(conn, actor, t, Decision::Reject, detail, &mut tally, told)?,
                    Some(Decision::Reject),
                ),
                BulkAction::Assign(_) => match &assignee {
                    Some(to) => (assignment::assign_locked(conn, actor, t, to, detail, &mut tally)?, None),
                    None => (Acted::quiet(Outcome::Done), None),
                },
                BulkAction::Remove => (Acted::quiet(Outcome::Done), None),
            };
            let (outcome, made) = outcome.into_parts();
            effects |= made;
            match outcome {
                Outcome::Done => {
                    summary.done.push(t.id);
                    done.push((t, decision));
                }
                Outcome::Skipped(skip) => summary.skipped.entry(skip).or_default().push(t.id),
            }
        }
        let event = match action {
            BulkAction::Activate | BulkAction::Reject => Some(notify::MailEvent::RequestDecided),
            BulkAction::Close | BulkAction::CloseRejectingPending => Some(notify::MailEvent::TicketClosed),
            // Handing tickets over is the team's business: the affiliates are not told.
            BulkAction::Assign(_) | BulkAction::Remove => None,
        };
        if let Some(event) = event {
            notify::digest(conn, actor, event, &done)?;
        }
        tally.write(conn)?;
        Ok::<_, DomainError>(Ended::Done(Vec::new(), effects))
    })?;
    // Thousands of tickets read and written: their pages are not kept mapped. The
    // action is committed by now, so a failure here is only logged.
    if let Err(e) = crate::db::release_memory_map(conn) {
        log::warn!("could not release the database map after a bulk action: {e}");
    }
    match ended {
        Ended::Asked { count, pending } => Ok(Acted::quiet(BulkAnswer::NeedsConfirmation { count, pending })),
        Ended::Done(files, effects) => {
            attachments::delete_files(store, &files);
            summary.not_allowed.sort_unstable();
            Ok(Acted::new(BulkAnswer::Done(summary), effects))
        }
    }
}

/// What the transaction of a bulk action ended with.
enum Ended {
    /// It must be asked first; nothing changed.
    Asked { count: usize, pending: usize },
    /// It acted; the files of the tickets it removed are deleted once it committed.
    Done(Vec<String>, Effects),
}
