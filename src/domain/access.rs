//! Access of affiliates to offers and Smartlinks, and the decisions on access
//! requests (Activate / Reject) that change it.

use diesel::prelude::*;

use super::actor::Actor;
use super::lifecycle::{Outcome, Skip};
use super::states::{AccessGrant, AccessSource, RequestState, TicketKind, TicketStatus};
use super::tickets::Ticket;
use super::{audit, messages, now, ticket_counts};
use crate::db::schema::tickets;
use crate::db::{AnyConnection, write_transaction};
use crate::error::{AppError, AppResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    fn state(self) -> RequestState {
        match self {
            Decision::Approve => RequestState::Approved,
            Decision::Reject => RequestState::Rejected,
        }
    }
}

/// Use case: Activate (approve) or Reject the access request of a ticket. `only`
/// names the kind of request the caller means (the API has one method per kind);
/// another kind of ticket is a bad request there.
pub fn decide(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket_id: i64,
    decision: Decision,
    only: Option<TicketKind>,
) -> AppResult<Outcome> {
    actor.as_staff()?;
    write_transaction(conn, |conn| {
        let ticket = Ticket::lock_visible(conn, &actor.scope(), ticket_id)?;
        if let Some(kind) = only.filter(|k| *k != ticket.kind) {
            let what = if kind == TicketKind::OfferRequest { "an offer" } else { "a Smartlink" };
            return Err(AppError::bad_request(format!("Ticket {ticket_id} is not {what} access request")));
        }
        let mut tally = ticket_counts::Tally::default();
        let outcome = decide_locked(conn, actor, &ticket, decision, actor.via.as_str(), &mut tally)?;
        tally.write(conn)?;
        Ok(outcome)
    })
}

/// Decides a locked ticket's request: the state leaves pending, the ticket closes,
/// the affiliate's access changes, and a system message and an audit entry say so.
/// The change to the totals goes into `tally`, written by the caller.
pub(crate) fn decide_locked(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket: &Ticket,
    decision: Decision,
    detail: &str,
    tally: &mut ticket_counts::Tally,
) -> AppResult<Outcome> {
    let staff = actor.as_staff()?;
    if !ticket.kind.is_request() {
        return Ok(Outcome::Skipped(Skip::NotARequest));
    }
    if ticket.request_state != Some(RequestState::Pending) {
        return Ok(Outcome::Skipped(Skip::AlreadyDecided));
    }
    let t = now();
    diesel::update(tickets::table.find(ticket.id))
        .set((
            tickets::request_state.eq(decision.state()),
            tickets::status.eq(TicketStatus::Closed),
            tickets::updated_at.eq(t),
            tickets::unread_by_affiliate.eq(tickets::unread_by_affiliate + 1),
            tickets::unread_by_manager.eq(0),
        ))
        .execute(conn)?;
    tally.moved(ticket.manager_id, ticket.kind, ticket.status, TicketStatus::Closed);
    match (ticket.kind, ticket.offer_id, ticket.smartlink_id) {
        (TicketKind::OfferRequest, Some(offer), _) => {
            set_offer_access(conn, offer, ticket.affiliate_id, decision, staff.id)?
        }
        (TicketKind::SmartlinkRequest, _, Some(smartlink)) => {
            set_smartlink_access(conn, smartlink, ticket.affiliate_id, decision, staff.id)?
        }
        _ => {}
    }
    let verb = if decision == Decision::Approve { "approved" } else { "rejected" };
    let text = format!("Request {verb} by {}.", staff.name);
    messages::insert_message(conn, &messages::NewMessage::system(ticket.id, Some(staff.id), &text, t), &[])?;
    let action = if decision == Decision::Approve { "approve" } else { "reject" };
    audit::record(conn, actor, action, Some(ticket.id), detail)?;
    Ok(Outcome::Done)
}

/// Approve enables the affiliate (source "ticket"); reject disables an access that
/// had been enabled by hand, as Affise does, and leaves other rows alone. The offer
/// and Smartlink access tables have the same shape; one macro writes both.
macro_rules! set_access {
    ($conn:expr, $table:ident, $target_column:ident, $target:expr, $affiliate:expr, $decision:expr, $by:expr) => {{
        use crate::db::schema::$table::dsl as access;
        let t = now();
        let key = access::$table.find(($target, $affiliate));
        match $decision {
            Decision::Approve => {
                let updated = diesel::update(key)
                    .set((
                        access::state.eq(AccessGrant::Enabled),
                        access::source.eq(AccessSource::Ticket),
                        access::updated_at.eq(t),
                        access::updated_by.eq(Some($by)),
                    ))
                    .execute($conn)?;
                if updated == 0 {
                    diesel::insert_into(access::$table)
                        .values((
                            access::$target_column.eq($target),
                            access::affiliate_id.eq($affiliate),
                            access::state.eq(AccessGrant::Enabled),
                            access::source.eq(AccessSource::Ticket),
                            access::updated_at.eq(t),
                            access::updated_by.eq(Some($by)),
                        ))
                        .execute($conn)?;
                }
            }
            Decision::Reject => {
                diesel::update(
                    key.filter(access::state.eq(AccessGrant::Enabled)).filter(access::source.eq(AccessSource::Manual)),
                )
                .set((
                    access::state.eq(AccessGrant::Disabled),
                    access::updated_at.eq(t),
                    access::updated_by.eq(Some($by)),
                ))
                .execute($conn)?;
            }
        }
        Ok(())
    }};
}

fn set_offer_access(
    conn: &mut AnyConnection,
    offer: i64,
    affiliate: i64,
    decision: Decision,
    by: i64,
) -> AppResult<()> {
    set_access!(conn, offer_access, offer_id, offer, affiliate, decision, by)
}

fn set_smartlink_access(
    conn: &mut AnyConnection,
    smartlink: i64,
    affiliate: i64,
    decision: Decision,
    by: i64,
) -> AppResult<()> {
    set_access!(conn, smartlink_access, smartlink_id, smartlink, affiliate, decision, by)
}
