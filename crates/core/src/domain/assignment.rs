//! Handing tickets to another manager: one from its thread, many from the list.
//! The ticket moves (its totals with it); the affiliate keeps their manager. An
//! internal note in the thread says who handed it to whom, so the next reader
//! knows why it is theirs.

use diesel::prelude::*;

use super::actor::Actor;
use super::lifecycle::{Outcome, Skip};
use super::messages::{self, NewMessage};
use super::states::AuditAction;
use super::tickets::Ticket;
use super::users::User;
use super::{Acted, audit, notify, now, ticket_counts};
use crate::db::AnyConnection;
use crate::db::schema::tickets;
use crate::error::{DomainError, DomainResult};

/// The manager tickets are handed to: an enabled member of staff.
pub fn assignee(conn: &mut AnyConnection, to: i64) -> DomainResult<User> {
    let user = User::find(conn, to)?.ok_or_else(|| DomainError::invalid("Choose a manager to assign to."))?;
    if user.disabled {
        return Err(DomainError::invalid(format!(
            "{} is disabled: enable them first, or choose someone else.",
            user.name
        )));
    }
    Ok(user)
}

/// Hands a locked ticket to `to`; its totals go into `tally`. A ticket already
/// theirs is left as it is.
pub(crate) fn assign_locked(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket: &Ticket,
    to: &User,
    detail: &str,
    tally: &mut ticket_counts::Tally,
) -> DomainResult<Acted<Outcome>> {
    let staff = actor.as_staff()?;
    if ticket.manager_id == Some(to.id) {
        return Ok(Acted::quiet(Outcome::Skipped(Skip::AlreadyAssigned)));
    }
    let t = now();
    diesel::update(tickets::table.find(ticket.id))
        .set((tickets::manager_id.eq(Some(to.id)), tickets::updated_at.eq(t)))
        .execute(conn)?;
    tally.add(ticket.manager_id, ticket.status, ticket.kind, -1);
    tally.add(Some(to.id), ticket.status, ticket.kind, 1);
    let text = if to.id == staff.id {
        format!("{} took the ticket over.", staff.name)
    } else {
        format!("Handed to {} by {}.", to.name, staff.name)
    };
    let note = NewMessage { internal: true, ..NewMessage::system(ticket.id, Some(staff.id), &text, t) };
    messages::insert_message(conn, &note, &[])?;
    audit::record(
        conn,
        actor,
        AuditAction::Assign,
        Some(ticket.id),
        &format!("to {} (#{}), {detail}", to.name, to.id),
    )?;
    // The new manager's list and the old one's hear of it; the affiliate is not told.
    let moved = Ticket { manager_id: Some(to.id), ..ticket.clone() };
    let effects = notify::ticket_changed(conn, actor, &moved, notify::Change::Noted)?;
    Ok(Acted::new(Outcome::Done, effects))
}
