//! Access of affiliates to offers and Smartlinks, and the decisions on access
//! requests (Activate / Reject) that change it.

use diesel::prelude::*;

use super::actor::Actor;
use super::lifecycle::{Outcome, Skip};
use super::states::AuditAction;
use super::states::{AccessGrant, AccessSource, RequestState, TicketKind, TicketStatus};
use super::tickets::Ticket;
use super::{Acted, affise_push, audit, messages, notify, now, ticket_counts};
use crate::db::schema::tickets;
use crate::db::{AnyConnection, write_transaction};
use crate::error::{DomainError, DomainResult};

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
) -> DomainResult<Acted<Outcome>> {
    actor.as_staff()?;
    write_transaction(conn, |conn| {
        let ticket = Ticket::lock_visible(conn, &actor.scope(), ticket_id)?;
        if let Some(kind) = only.filter(|k| *k != ticket.kind) {
            let what = if kind == TicketKind::OfferRequest { "an offer" } else { "a Smartlink" };
            return Err(DomainError::invalid(format!("Ticket {ticket_id} is not {what} access request")));
        }
        let mut tally = ticket_counts::Tally::default();
        let outcome = decide_locked(conn, actor, &ticket, decision, actor.via.as_str(), &mut tally, Told::Alone)?;
        tally.write(conn)?;
        Ok(outcome)
    })
}

/// Decides a locked ticket's request: the state leaves pending, the ticket closes,
/// the affiliate's access changes, and a system message and an audit entry say so.
/// The change to the totals goes into `tally`, written by the caller.
///
/// Activate decides pending requests only. Reject, as Affise defines it, also takes
/// away access that was granted some other way (by hand, by an earlier ticket, or
/// by approving this one): after it the affiliate has no access to the target,
/// whatever granted it. Rejecting a rejected request with nothing left to revoke
/// changes nothing.
pub(crate) fn decide_locked(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket: &Ticket,
    decision: Decision,
    detail: &str,
    tally: &mut ticket_counts::Tally,
    told: Told,
) -> DomainResult<Acted<Outcome>> {
    let staff = actor.as_staff()?;
    let target = match (ticket.kind, ticket.offer_id, ticket.smartlink_id) {
        (TicketKind::OfferRequest, Some(offer), _) => Target::Offer(offer),
        (TicketKind::SmartlinkRequest, _, Some(smartlink)) => Target::Smartlink(smartlink),
        _ => return Ok(Acted::quiet(Outcome::Skipped(Skip::NotARequest))),
    };
    let granted = current_grant(conn, target, ticket.affiliate_id)?;
    match (decision, ticket.request_state) {
        (_, Some(RequestState::Pending)) => {}
        (Decision::Approve, _) => return Ok(Acted::quiet(Outcome::Skipped(Skip::AlreadyDecided))),
        (Decision::Reject, Some(RequestState::Rejected)) if granted.is_none() => {
            return Ok(Acted::quiet(Outcome::Skipped(Skip::AlreadyRejected)));
        }
        (Decision::Reject, _) => {}
    }
    let t = now();
    let changes_state = ticket.request_state != Some(decision.state());
    diesel::update(tickets::table.find(ticket.id))
        .set((
            tickets::request_state.eq(decision.state()),
            tickets::status.eq(TicketStatus::Closed),
            tickets::updated_at.eq(t),
            tickets::unread_by_affiliate.eq(tickets::unread_by_affiliate + 1),
            tickets::unread_by_manager.eq(0),
            tickets::waiting_since.eq(None::<chrono::NaiveDateTime>),
            tickets::closed_at.eq(Some(t)),
            tickets::decided_at.eq(Some(t)),
        ))
        .execute(conn)?;
    tally.moved(ticket.manager_id, ticket.kind, ticket.status, TicketStatus::Closed);
    if let Target::Offer(offer) = target {
        let action = match decision {
            Decision::Approve => affise_push::PushAction::Enable,
            Decision::Reject => affise_push::PushAction::Disable,
        };
        affise_push::enqueue(conn, Some(ticket.id), action, offer, ticket.affiliate_id, t)?;
    }
    let text = match decision {
        Decision::Approve => {
            set_grant(conn, target, ticket.affiliate_id, AccessGrant::Enabled, staff.id)?;
            format!("Request approved by {}.", staff.name)
        }
        Decision::Reject => {
            set_grant(conn, target, ticket.affiliate_id, AccessGrant::Disabled, staff.id)?;
            let verb = if changes_state { "Request rejected" } else { "Access revoked" };
            match granted {
                Some(source) => {
                    let revoked = format!("revoked {} access to {} (granted {})", source.words(), target, source.how());
                    audit::record(conn, actor, AuditAction::RevokeAccess, Some(ticket.id), &revoked)?;
                    format!("{verb} by {}: access to {target}, granted {}, was revoked.", staff.name, source.how())
                }
                None => format!("{verb} by {}.", staff.name),
            }
        }
    };
    messages::insert_message(conn, &messages::NewMessage::system(ticket.id, Some(staff.id), &text, t), &[])?;
    let action = if decision == Decision::Approve { AuditAction::Approve } else { AuditAction::Reject };
    audit::record(conn, actor, action, Some(ticket.id), detail)?;
    let (reply, tell) = match told {
        Told::Alone => (None, notify::Tell::Now),
        Told::WithReply(text) => (Some(text), notify::Tell::Now),
        Told::InDigest => (None, notify::Tell::InDigest),
    };
    let effects = notify::ticket_changed_telling(conn, actor, ticket, notify::Change::Decided(decision, reply), tell)?;
    Ok(Acted::new(Outcome::Done, effects))
}

/// How the affiliate hears of a decision: its own email, the email of the reply it
/// was sent with (that reply's text in it), or the bulk action's digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Told<'a> {
    Alone,
    WithReply(&'a str),
    InDigest,
}

/// What a request asks access to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Offer(i64),
    Smartlink(i64),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Offer(id) => write!(f, "offer #{id}"),
            Target::Smartlink(id) => write!(f, "Smartlink #{id}"),
        }
    }
}

impl AccessSource {
    pub fn words(self) -> &'static str {
        match self {
            AccessSource::Manual => "manual",
            AccessSource::Ticket => "ticket",
            AccessSource::Affise => "affise",
            AccessSource::Import => "import",
        }
    }
    /// How the access came about, for the message the affiliate reads.
    pub fn how(self) -> &'static str {
        match self {
            AccessSource::Manual => "by hand",
            AccessSource::Ticket => "by an approved request",
            AccessSource::Affise => "in Affise",
            AccessSource::Import => "by an import",
        }
    }
}

/// The source of the affiliate's enabled access to `target`, if it is enabled.
pub fn current_grant(conn: &mut AnyConnection, target: Target, affiliate: i64) -> DomainResult<Option<AccessSource>> {
    use crate::db::schema::{offer_access, smartlink_access};
    Ok(match target {
        Target::Offer(id) => offer_access::table
            .find((id, affiliate))
            .filter(offer_access::state.eq(AccessGrant::Enabled))
            .select(offer_access::source)
            .get_result(conn)
            .optional()?,
        Target::Smartlink(id) => smartlink_access::table
            .find((id, affiliate))
            .filter(smartlink_access::state.eq(AccessGrant::Enabled))
            .select(smartlink_access::source)
            .get_result(conn)
            .optional()?,
    })
}

/// Approve enables the affiliate (source "ticket"); reject disables the access,
/// whatever its source. The offer and Smartlink access tables have the same shape;
/// one macro writes both.
macro_rules! set_access {
    ($conn:expr, $table:ident, $target_column:ident, $target:expr, $affiliate:expr, $grant:expr, $by:expr) => {{
        use crate::db::schema::$table::dsl as access;
        let t = now();
        let key = access::$table.find(($target, $affiliate));
        let updated = if $grant == AccessGrant::Enabled {
            diesel::update(key)
                .set((
                    access::state.eq(AccessGrant::Enabled),
                    access::source.eq(AccessSource::Ticket),
                    access::updated_at.eq(t),
                    access::updated_by.eq(Some($by)),
                ))
                .execute($conn)?
        } else {
            diesel::update(key)
                .set((
                    access::state.eq(AccessGrant::Disabled),
                    access::updated_at.eq(t),
                    access::updated_by.eq(Some($by)),
                ))
                .execute($conn)?
        };
        if updated == 0 {
            diesel::insert_into(access::$table)
                .values((
                    access::$target_column.eq($target),
                    access::affiliate_id.eq($affiliate),
                    access::state.eq($grant),
                    access::source.eq(AccessSource::Ticket),
                    access::updated_at.eq(t),
                    access::updated_by.eq(Some($by)),
                ))
                .execute($conn)?;
        }
        Ok(())
    }};
}

fn set_grant(
    conn: &mut AnyConnection,
    target: Target,
    affiliate: i64,
    grant: AccessGrant,
    by: i64,
) -> DomainResult<()> {
    match target {
        Target::Offer(offer) => set_access!(conn, offer_access, offer_id, offer, affiliate, grant, by),
        Target::Smartlink(smartlink) => {
            set_access!(conn, smartlink_access, smartlink_id, smartlink, affiliate, grant, by)
        }
    }
}
