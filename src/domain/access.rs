//! Access of affiliates to offers and Smartlinks, and the decisions on access
//! requests (Activate / Reject) that change it.

use diesel::prelude::*;

use super::kinds::TicketKind;
use super::tickets::Ticket;
use super::{Actor, audit, now, ticket_counts};
use crate::db::AnyConnection;
use crate::db::schema::{messages, tickets};
use crate::error::{AppError, AppResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "approve" | "activate" => Some(Decision::Approve),
            "reject" => Some(Decision::Reject),
            _ => None,
        }
    }
    fn state(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
        }
    }
}

/// Why a decision was not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotDecided {
    NotARequest,
    AlreadyDecided,
}

impl NotDecided {
    pub fn reason(self) -> &'static str {
        match self {
            NotDecided::NotARequest => "not an access request",
            NotDecided::AlreadyDecided => "already decided",
        }
    }
    pub fn into_error(self, ticket_id: i64) -> AppError {
        match self {
            NotDecided::NotARequest => {
                AppError::bad_request(format!("Ticket {ticket_id} is not an offer or Smartlink access request"))
            }
            NotDecided::AlreadyDecided => {
                AppError::conflict(format!("The request in ticket {ticket_id} was already decided"))
            }
        }
    }
}

/// Approves or rejects the access request of a ticket, inside the caller's
/// transaction. The state moves from pending with one conditional UPDATE, so of two
/// managers deciding at once exactly one wins; the other gets `AlreadyDecided`.
pub fn decide(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket: &Ticket,
    decision: Decision,
    via: &str,
) -> AppResult<Result<(), NotDecided>> {
    let (by, name) = match actor {
        Actor::Staff(s) => (s.id, s.name.clone()),
        _ => return Err(AppError::forbidden("Only managers decide access requests")),
    };
    let kind = ticket.kind();
    if !kind.is_some_and(TicketKind::is_request) {
        return Ok(Err(NotDecided::NotARequest));
    }
    let t = now();
    let changed = diesel::update(tickets::table.find(ticket.id).filter(tickets::request_state.eq("pending")))
        .set((
            tickets::request_state.eq(decision.state()),
            tickets::status.eq("closed"),
            tickets::updated_at.eq(t),
            tickets::unread_by_affiliate.eq(tickets::unread_by_affiliate + 1),
            tickets::unread_by_manager.eq(0),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Ok(Err(NotDecided::AlreadyDecided));
    }
    if ticket.status == "open" {
        ticket_counts::adjust(conn, ticket.manager_id, "open", &ticket.kind, -1)?;
        ticket_counts::adjust(conn, ticket.manager_id, "closed", &ticket.kind, 1)?;
    }
    let is_offer = kind == Some(TicketKind::OfferRequest);
    match (is_offer, ticket.offer_id, ticket.smartlink_id) {
        (true, Some(offer), _) => set_offer_access(conn, offer, ticket.affiliate_id, decision, by)?,
        (false, _, Some(smartlink)) => set_smartlink_access(conn, smartlink, ticket.affiliate_id, decision, by)?,
        _ => {}
    }
    let verb = if decision == Decision::Approve { "approved" } else { "rejected" };
    diesel::insert_into(messages::table)
        .values((
            messages::ticket_id.eq(ticket.id),
            messages::author_kind.eq("system"),
            messages::author_id.eq(Some(by)),
            messages::body.eq(format!("Request {verb} by {name}.")),
            messages::internal.eq(false),
            messages::created_at.eq(t),
        ))
        .execute(conn)?;
    audit::record(conn, actor, if decision == Decision::Approve { "approve" } else { "reject" }, Some(ticket.id), via)?;
    Ok(Ok(()))
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
                        access::state.eq("enabled"),
                        access::source.eq("ticket"),
                        access::updated_at.eq(t),
                        access::updated_by.eq(Some($by)),
                    ))
                    .execute($conn)?;
                if updated == 0 {
                    diesel::insert_into(access::$table)
                        .values((
                            access::$target_column.eq($target),
                            access::affiliate_id.eq($affiliate),
                            access::state.eq("enabled"),
                            access::source.eq("ticket"),
                            access::updated_at.eq(t),
                            access::updated_by.eq(Some($by)),
                        ))
                        .execute($conn)?;
                }
            }
            Decision::Reject => {
                diesel::update(key.filter(access::state.eq("enabled")).filter(access::source.eq("manual")))
                    .set((access::state.eq("disabled"), access::updated_at.eq(t), access::updated_by.eq(Some($by))))
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
