//! Access requests by affiliates: what they may see of offers and Smartlinks, the
//! state of their access to each, and asking for it (an access-request ticket).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Actor;
use super::affiliates::Affiliate;
use super::catalogue::{Offer, Smartlink};
use super::kinds::TicketKind;
use super::messages::{self, NewTicket};
use super::tickets::Ticket;
use crate::db::AnyConnection;
use crate::db::schema::{offer_access, offers, smartlink_access, smartlinks, tickets};
use crate::error::{AppError, AppResult};

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
fn latest_requests(conn: &mut AnyConnection, affiliate_id: i64, kind: TicketKind) -> AppResult<HashMap<i64, Ticket>> {
    let rows: Vec<Ticket> = tickets::table
        .filter(tickets::affiliate_id.eq(affiliate_id))
        .filter(tickets::kind.eq(kind.as_str()))
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
fn state_of(privacy: &str, access: Option<&(String, NaiveDateTime)>, request: Option<&Ticket>) -> Option<AccessState> {
    let enabled_at = access.filter(|(state, _)| state == "enabled").map(|(_, at)| *at);
    let disabled = access.is_some_and(|(state, _)| state == "disabled");
    let granted = |at: NaiveDateTime| match request {
        Some(r) if r.request_state.as_deref() == Some("approved") => AccessState::Approved(at),
        _ => AccessState::Available,
    };
    match (privacy, enabled_at) {
        ("public", _) if disabled => None,
        ("public", _) => Some(AccessState::Available),
        (_, Some(at)) => Some(granted(at)),
        ("private", None) => None,
        (_, None) => Some(match request {
            Some(r) if r.request_state.as_deref() == Some("pending") => AccessState::Pending(r.id),
            Some(r) if r.request_state.as_deref() == Some("rejected") => AccessState::Rejected(r.updated_at),
            _ => AccessState::CanRequest,
        }),
    }
}

/// The active offers an affiliate may see: public ones (unless disabled for them),
/// premoderated ones, and private ones they are enabled on.
pub fn offers_for(conn: &mut AnyConnection, affiliate_id: i64) -> AppResult<Vec<OfferRow>> {
    let all: Vec<Offer> = offers::table
        .filter(offers::status.eq("active"))
        .order(offers::title.asc())
        .select(Offer::as_select())
        .load(conn)?;
    let access: HashMap<i64, (String, NaiveDateTime)> = offer_access::table
        .filter(offer_access::affiliate_id.eq(affiliate_id))
        .select((offer_access::offer_id, offer_access::state, offer_access::updated_at))
        .load::<(i64, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, s, at)| (id, (s, at)))
        .collect();
    let requests = latest_requests(conn, affiliate_id, TicketKind::OfferRequest)?;
    Ok(all
        .into_iter()
        .filter_map(|offer| {
            let state = state_of(&offer.privacy, access.get(&offer.id), requests.get(&offer.id))?;
            Some(OfferRow { offer, state })
        })
        .collect())
}

pub fn smartlinks_for(conn: &mut AnyConnection, affiliate_id: i64) -> AppResult<Vec<SmartlinkRow>> {
    let all: Vec<Smartlink> =
        smartlinks::table.order(smartlinks::name.asc()).select(Smartlink::as_select()).load(conn)?;
    let access: HashMap<i64, (String, NaiveDateTime)> = smartlink_access::table
        .filter(smartlink_access::affiliate_id.eq(affiliate_id))
        .select((smartlink_access::smartlink_id, smartlink_access::state, smartlink_access::updated_at))
        .load::<(i64, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, s, at)| (id, (s, at)))
        .collect();
    let requests = latest_requests(conn, affiliate_id, TicketKind::SmartlinkRequest)?;
    Ok(all
        .into_iter()
        .filter_map(|smartlink| {
            let state = state_of(&smartlink.privacy, access.get(&smartlink.id), requests.get(&smartlink.id))?;
            Some(SmartlinkRow { smartlink, state })
        })
        .collect())
}

/// Why a request cannot be made, in words for the affiliate (or the API client).
fn refuse(msg: impl Into<String>) -> AppError {
    AppError::bad_request(msg)
}

fn check_comment(comment: &str) -> AppResult<String> {
    let c = comment.trim();
    if c.is_empty() {
        return Err(refuse("Write a comment: tell your manager how you will promote it."));
    }
    if c.chars().count() > 5_000 {
        return Err(refuse("The comment is too long (at most 5,000 characters)."));
    }
    Ok(c.to_string())
}

/// What is being asked for: an offer or a Smartlink, as the affiliate sees it.
struct Target {
    kind: TicketKind,
    id: i64,
    name: String,
    privacy: String,
    state: AccessState,
}

impl Target {
    fn noun(&self) -> &'static str {
        if self.kind == TicketKind::OfferRequest { "offer" } else { "Smartlink" }
    }
}

/// Asks for access to a premoderated offer: an `offer_request` ticket titled
/// `Connect offer <title> (<id>)`, for the affiliate's manager. Runs in the
/// caller's write transaction, so two requests at once cannot both pass the check.
pub fn request_offer(
    conn: &mut AnyConnection,
    affiliate: &Affiliate,
    offer_id: i64,
    comment: &str,
) -> AppResult<Ticket> {
    check_requester(affiliate)?;
    let comment = check_comment(comment)?;
    let row = offers_for(conn, affiliate.id)?.into_iter().find(|r| r.offer.id == offer_id).ok_or(AppError::NotFound)?;
    let target = Target {
        kind: TicketKind::OfferRequest,
        id: row.offer.id,
        name: row.offer.title,
        privacy: row.offer.privacy,
        state: row.state,
    };
    open_request(conn, affiliate, target, comment)
}

/// The same for a Smartlink: a `smartlink_request` ticket.
pub fn request_smartlink(
    conn: &mut AnyConnection,
    affiliate: &Affiliate,
    smartlink_id: i64,
    comment: &str,
) -> AppResult<Ticket> {
    check_requester(affiliate)?;
    let comment = check_comment(comment)?;
    let row = smartlinks_for(conn, affiliate.id)?
        .into_iter()
        .find(|r| r.smartlink.id == smartlink_id)
        .ok_or(AppError::NotFound)?;
    let target = Target {
        kind: TicketKind::SmartlinkRequest,
        id: row.smartlink.id,
        name: row.smartlink.name,
        privacy: row.smartlink.privacy,
        state: row.state,
    };
    open_request(conn, affiliate, target, comment)
}

fn check_requester(affiliate: &Affiliate) -> AppResult<()> {
    if affiliate.is_active() { Ok(()) } else { Err(AppError::forbidden("Only active affiliates can request access.")) }
}

fn open_request(conn: &mut AnyConnection, affiliate: &Affiliate, target: Target, comment: String) -> AppResult<Ticket> {
    let noun = target.noun();
    match target.state {
        AccessState::Pending(id) => {
            return Err(AppError::conflict(format!(
                "You already asked for this {noun} (ticket {id}); wait for the answer."
            )));
        }
        AccessState::Available | AccessState::Approved(_) => {
            return Err(AppError::conflict(format!("You already have access to this {noun}.")));
        }
        AccessState::CanRequest | AccessState::Rejected(_) if target.privacy != "premoderated" => {
            return Err(refuse(format!("Access to this {noun} cannot be requested.")));
        }
        _ => {}
    }
    let is_offer = target.kind == TicketKind::OfferRequest;
    let new = NewTicket {
        affiliate_id: affiliate.id,
        kind: target.kind,
        title: format!("Connect {noun} {} ({})", target.name, target.id),
        body: comment,
        offer_id: is_offer.then_some(target.id),
        smartlink_id: (!is_offer).then_some(target.id),
    };
    messages::open_ticket(conn, &Actor::Affiliate(affiliate.id), new, &[])
}
