//! Access requests by affiliates: what they may see of offers and Smartlinks, the
//! state of their access to each, and asking for it (an access-request ticket).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Acted;
use super::actor::{Actor, Who};
use super::affiliates::Affiliate;
use super::catalogue::{Offer, Smartlink};
use super::opening::{self, Target as NewTarget};
use super::states::{AccessGrant, OfferStatus, Privacy, RequestState, TicketKind};
use super::tickets::Ticket;
use crate::db::schema::{offer_access, offers, smartlink_access, smartlinks, tickets};
use crate::db::{AnyConnection, write_transaction};
use crate::error::{DomainError, DomainResult};

/// Where an affiliate stands with one offer or Smartlink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessState {
    /// Public, or enabled for them.
    Available,
    Approved(NaiveDateTime),
    Pending(i64),
    Rejected(NaiveDateTime),
    /// Premoderated and never asked for.
    CanRequest,
}

impl AccessState {
    pub fn may_request(&self) -> bool {
        matches!(self, AccessState::CanRequest | AccessState::Rejected(_))
    }
}

pub struct OfferRow {
    pub offer: Offer,
    pub state: AccessState,
}

pub struct SmartlinkRow {
    pub smartlink: Smartlink,
    pub state: AccessState,
}

/// The latest request ticket per target (offer or Smartlink id) of an affiliate.
fn latest_requests(
    conn: &mut AnyConnection,
    affiliate_id: i64,
    kind: TicketKind,
) -> DomainResult<HashMap<i64, Ticket>> {
    let rows: Vec<Ticket> = tickets::table
        .filter(tickets::affiliate_id.eq(affiliate_id))
        .filter(tickets::kind.eq(kind))
        .order(tickets::id.asc())
        .select(Ticket::as_select())
        .load(conn)?;
    let mut latest = HashMap::new();
    for t in rows {
        if let Some(target) = if kind == TicketKind::OfferRequest { t.offer_id } else { t.smartlink_id } {
            latest.insert(target, t);
        }
    }
    Ok(latest)
}

/// `None` when the affiliate may not see it at all: a public one disabled for them,
/// or a private one they are not enabled on.
fn state_of(
    privacy: Privacy,
    access: Option<&(AccessGrant, NaiveDateTime)>,
    request: Option<&Ticket>,
) -> Option<AccessState> {
    let enabled_at = access.filter(|(state, _)| *state == AccessGrant::Enabled).map(|(_, at)| *at);
    let disabled = access.is_some_and(|(state, _)| *state == AccessGrant::Disabled);
    let granted = |at: NaiveDateTime| match request {
        Some(r) if r.request_state == Some(RequestState::Approved) => AccessState::Approved(at),
        _ => AccessState::Available,
    };
    match (privacy, enabled_at) {
        (Privacy::Public, _) if disabled => None,
        (Privacy::Public, _) => Some(AccessState::Available),
        (_, Some(at)) => Some(granted(at)),
        (Privacy::Private, None) => None,
        (Privacy::Premoderated, None) => Some(match request.and_then(|r| r.request_state.map(|s| (r, s))) {
            Some((r, RequestState::Pending)) => AccessState::Pending(r.id),
            Some((r, RequestState::Rejected)) => AccessState::Rejected(r.updated_at),
            _ => AccessState::CanRequest,
        }),
    }
}

/// The active offers an affiliate may see: public ones (unless disabled for them),
/// premoderated ones, and private ones they are enabled on.
pub fn offers_for(conn: &mut AnyConnection, affiliate_id: i64) -> DomainResult<Vec<OfferRow>> {
    let all: Vec<Offer> = offers::table
        .filter(offers::status.eq(OfferStatus::Active))
        .order(offers::title.asc())
        .select(Offer::as_select())
        .load(conn)?;
    let access: HashMap<i64, (AccessGrant, NaiveDateTime)> = offer_access::table
        .filter(offer_access::affiliate_id.eq(affiliate_id))
        .select((offer_access::offer_id, offer_access::state, offer_access::updated_at))
        .load::<(i64, AccessGrant, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, s, at)| (id, (s, at)))
        .collect();
    let requests = latest_requests(conn, affiliate_id, TicketKind::OfferRequest)?;
    Ok(all
        .into_iter()
        .filter_map(|offer| {
            let state = state_of(offer.privacy, access.get(&offer.id), requests.get(&offer.id))?;
            Some(OfferRow { offer, state })
        })
        .collect())
}

pub fn smartlinks_for(conn: &mut AnyConnection, affiliate_id: i64) -> DomainResult<Vec<SmartlinkRow>> {
    let all: Vec<Smartlink> =
        smartlinks::table.order(smartlinks::name.asc()).select(Smartlink::as_select()).load(conn)?;
    let access: HashMap<i64, (AccessGrant, NaiveDateTime)> = smartlink_access::table
        .filter(smartlink_access::affiliate_id.eq(affiliate_id))
        .select((smartlink_access::smartlink_id, smartlink_access::state, smartlink_access::updated_at))
        .load::<(i64, AccessGrant, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, s, at)| (id, (s, at)))
        .collect();
    let requests = latest_requests(conn, affiliate_id, TicketKind::SmartlinkRequest)?;
    Ok(all
        .into_iter()
        .filter_map(|smartlink| {
            let state = state_of(smartlink.privacy, access.get(&smartlink.id), requests.get(&smartlink.id))?;
            Some(SmartlinkRow { smartlink, state })
        })
        .collect())
}

/// Why a request cannot be made, in words for the affiliate (or the API client).
fn refuse(msg: impl Into<String>) -> DomainError {
    DomainError::invalid(msg)
}

fn check_comment(comment: &str) -> DomainResult<String> {
    let c = comment.trim();
    if c.is_empty() {
        return Err(refuse("Write a comment: tell your manager how you will promote it."));
    }
    if c.chars().count() > 5_000 {
        return Err(refuse("The comment is too long (at most 5,000 characters)."));
    }
    Ok(c.to_string())
}

/// What an affiliate asks access to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Offer(i64),
    Smartlink(i64),
}

impl Target {
    fn noun(self) -> &'static str {
        match self {
            Target::Offer(_) => "offer",
            Target::Smartlink(_) => "Smartlink",
        }
    }
}

/// Use case: an affiliate asks for access to a premoderated offer or Smartlink: an
/// `offer_request` / `smartlink_request` ticket titled `Connect offer <title> (<id>)`,
/// for their manager. Decided inside one write transaction, so two requests at once
/// cannot both pass the check.
pub fn request_access(
    conn: &mut AnyConnection,
    actor: &Actor,
    target: Target,
    comment: &str,
) -> DomainResult<Acted<Ticket>> {
    let Who::Affiliate(partner) = &actor.who else {
        return Err(DomainError::not_allowed("Only affiliates request access."));
    };
    let comment = check_comment(comment)?;
    write_transaction(conn, |conn| {
        let affiliate = Affiliate::find(conn, partner.id)?.ok_or(DomainError::NotFound)?;
        if !affiliate.is_active() {
            return Err(DomainError::not_allowed("Only active affiliates can request access."));
        }
        let (kind, id, name, privacy, state) = match target {
            Target::Offer(id) => {
                let row = offers_for(conn, affiliate.id)?
                    .into_iter()
                    .find(|r| r.offer.id == id)
                    .ok_or(DomainError::NotFound)?;
                (TicketKind::OfferRequest, id, row.offer.title, row.offer.privacy, row.state)
            }
            Target::Smartlink(id) => {
                let row = smartlinks_for(conn, affiliate.id)?
                    .into_iter()
                    .find(|r| r.smartlink.id == id)
                    .ok_or(DomainError::NotFound)?;
                (TicketKind::SmartlinkRequest, id, row.smartlink.name, row.smartlink.privacy, row.state)
            }
        };
        let noun = target.noun();
        match state {
            AccessState::Pending(ticket) => {
                return Err(DomainError::conflict(format!(
                    "You already asked for this {noun} (ticket {ticket}); wait for the answer."
                )));
            }
            AccessState::Available | AccessState::Approved(_) => {
                return Err(DomainError::conflict(format!("You already have access to this {noun}.")));
            }
            AccessState::CanRequest | AccessState::Rejected(_) if privacy != Privacy::Premoderated => {
                return Err(refuse(format!("Access to this {noun} cannot be requested.")));
            }
            AccessState::CanRequest | AccessState::Rejected(_) => {}
        }
        let new = NewTarget {
            kind,
            offer_id: matches!(target, Target::Offer(_)).then_some(id),
            smartlink_id: matches!(target, Target::Smartlink(_)).then_some(id),
        };
        let title = format!("Connect {noun} {name} ({id})");
        opening::insert_ticket(conn, actor, &affiliate, new, &title, &comment, &[])
    })
}
