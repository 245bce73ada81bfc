//! The affiliate beside a ticket's thread: their other open tickets, the offers and
//! Smartlinks they have access to (and how it was granted), their pending
//! requests, and their last seven days of statistics. A handful of index-backed
//! reads of one affiliate, loaded beside the thread, not with it.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::actor::Actor;
use super::affiliates::Affiliate;
use super::now;
use super::states::{AccessGrant, AccessSource, RequestState, TicketStatus};
use super::stats::{self, DayStats};
use super::tickets::Ticket;
use crate::db::AnyConnection;
use crate::db::schema::{offer_access, offers, smartlink_access, smartlinks, tickets};
use crate::error::{DomainError, DomainResult};

/// At most this many of each list; the rest is a link away.
const SHOWN: i64 = 8;

/// An offer or Smartlink the affiliate may run, with how and when it was granted.
#[derive(Clone, Debug, PartialEq)]
pub struct Granted {
    pub id: i64,
    pub title: String,
    pub source: AccessSource,
    pub at: NaiveDateTime,
}

pub struct AffiliateSide {
    pub ticket_id: i64,
    pub affiliate: Affiliate,
    /// Open or waiting, newest change first; not the ticket being read.
    pub other_open: Vec<Ticket>,
    pub pending_requests: Vec<Ticket>,
    pub offers: Vec<Granted>,
    pub smartlinks: Vec<Granted>,
    pub week: Vec<DayStats>,
    pub week_total: DayStats,
}

/// Use case: the side panel of ticket `ticket_id`, for staff who may see it.
pub fn for_ticket(conn: &mut AnyConnection, actor: &Actor, ticket_id: i64) -> DomainResult<AffiliateSide> {
    actor.as_staff()?;
    let ticket = Ticket::find_visible(conn, &actor.scope(), ticket_id)?;
    let affiliate = Affiliate::find(conn, ticket.affiliate_id)?.ok_or(DomainError::NotFound)?;
    let other_open: Vec<Ticket> = tickets::table
        .filter(tickets::affiliate_id.eq(affiliate.id))
        .filter(tickets::id.ne(ticket.id))
        .filter(tickets::status.eq_any([TicketStatus::Open, TicketStatus::Pending]))
        .order((tickets::updated_at.desc(), tickets::id.desc()))
        .limit(SHOWN)
        .select(Ticket::as_select())
        .load(conn)?;
    let pending_requests: Vec<Ticket> = tickets::table
        .filter(tickets::request_state.eq(RequestState::Pending))
        .filter(tickets::affiliate_id.eq(affiliate.id))
        .filter(tickets::id.ne(ticket.id))
        .order(tickets::id.desc())
        .limit(SHOWN)
        .select(Ticket::as_select())
        .load(conn)?;
    let offers: Vec<Granted> = offer_access::table
        .inner_join(offers::table)
        .filter(offer_access::affiliate_id.eq(affiliate.id))
        .filter(offer_access::state.eq(AccessGrant::Enabled))
        .order(offer_access::updated_at.desc())
        .limit(SHOWN)
        .select((offers::id, offers::title, offer_access::source, offer_access::updated_at))
        .load::<(i64, String, AccessSource, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, title, source, at)| Granted { id, title, source, at })
        .collect();
    let smartlinks: Vec<Granted> = smartlink_access::table
        .inner_join(smartlinks::table)
        .filter(smartlink_access::affiliate_id.eq(affiliate.id))
        .filter(smartlink_access::state.eq(AccessGrant::Enabled))
        .order(smartlink_access::updated_at.desc())
        .limit(SHOWN)
        .select((smartlinks::id, smartlinks::name, smartlink_access::source, smartlink_access::updated_at))
        .load::<(i64, String, AccessSource, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, title, source, at)| Granted { id, title, source, at })
        .collect();
    let today = now().date();
    let week = stats::daily(conn, affiliate.id, today - Duration::days(6), today)?;
    let week_total = stats::totals(&week);
    Ok(AffiliateSide {
        ticket_id: ticket.id,
        affiliate,
        other_open,
        pending_requests,
        offers,
        smartlinks,
        week,
        week_total,
    })
}
