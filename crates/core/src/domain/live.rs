//! Live events: what changed on which ticket, for the browsers watching lists and
//! threads. Written with the change (so they are as durable as it is), read by
//! every instance, filtered by scope before a browser hears of them, and kept for
//! an hour so a browser that reconnects catches up from its last event.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::Effects;
use super::actor::{Actor, Who};
use super::states::ActorKind;
use super::tickets::Ticket;
use crate::db::AnyConnection;
use crate::db::schema::live_events;
use crate::error::DomainResult;

/// How long events are kept for reconnecting browsers.
pub const KEPT: Duration = Duration::hours(1);

pub use super::states::LiveKind;

#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = live_events)]
pub struct LiveEvent {
    pub id: i64,
    pub kind: LiveKind,
    pub ticket_id: i64,
    pub affiliate_id: i64,
    pub manager_id: Option<i64>,
    pub staff_only: bool,
    pub actor_kind: ActorKind,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub created_at: NaiveDateTime,
}

impl LiveEvent {
    pub fn is_typing(&self) -> bool {
        self.kind == LiveKind::Typing
    }

    /// Whether `viewer` may hear of this event: the same rule as seeing the ticket,
    /// and internal matters (notes, managers typing) only for staff.
    pub fn visible_to(&self, viewer: &Actor) -> bool {
        let scope = viewer.scope();
        let sees_ticket = match scope {
            super::tickets::Scope::All => true,
            super::tickets::Scope::Manager(m) => self.manager_id == Some(m),
            super::tickets::Scope::Affiliate(a) => self.affiliate_id == a,
        };
        sees_ticket && !(self.staff_only && viewer.is_affiliate())
    }

    /// Whether `viewer` did it themself (nobody is told of their own typing).
    pub fn by(&self, viewer: &Actor) -> bool {
        self.actor_kind == viewer.kind() && self.actor_id == viewer.id()
    }
}

/// Writes an event, in the caller's transaction. The returned effect wakes this
/// instance's live bus after the commit; other instances hear of it through `NOTIFY`.
pub fn record(
    conn: &mut AnyConnection,
    kind: LiveKind,
    ticket: &Ticket,
    actor: &Actor,
    actor_name: &str,
    staff_only: bool,
) -> DomainResult<Effects> {
    record_many(conn, kind, std::slice::from_ref(ticket), actor, actor_name, staff_only)
}

/// Records the same change of many tickets (a bulk action's), one row each, in one
/// statement and with one notification.
pub fn record_many(
    conn: &mut AnyConnection,
    kind: LiveKind,
    tickets: &[Ticket],
    actor: &Actor,
    actor_name: &str,
    staff_only: bool,
) -> DomainResult<Effects> {
    if tickets.is_empty() {
        return Ok(Effects::NONE);
    }
    let at = super::now();
    let rows: Vec<_> = tickets
        .iter()
        .map(|ticket| {
            (
                live_events::kind.eq(kind),
                live_events::ticket_id.eq(ticket.id),
                live_events::affiliate_id.eq(ticket.affiliate_id),
                live_events::manager_id.eq(ticket.manager_id),
                live_events::staff_only.eq(staff_only),
                live_events::actor_kind.eq(actor.kind()),
                live_events::actor_id.eq(actor.id()),
                live_events::actor_name.eq(actor_name),
                live_events::created_at.eq(at),
            )
        })
        .collect();
    crate::db::insert_rows!(conn, live_events::table, rows)?;
    if conn.is_postgres() {
        diesel::sql_query(format!("NOTIFY {CHANNEL}")).execute(conn)?;
    }
    Ok(Effects::LIVE_EVENT)
}

/// The PostgreSQL channel every instance listens on.
pub const CHANNEL: &str = "affdesk_live";

/// Use case: someone is writing a reply to a ticket they may see. Managers' typing
/// is for managers only; an affiliate's typing is shown to the managers too.
pub fn typing(conn: &mut AnyConnection, actor: &Actor, ticket_id: i64) -> DomainResult<Effects> {
    let ticket = Ticket::find_visible(conn, &actor.scope(), ticket_id)?;
    let name = match &actor.who {
        Who::Staff(s) => s.name.clone(),
        Who::Affiliate(_) => {
            super::affiliates::Affiliate::find(conn, ticket.affiliate_id)?.map(|a| a.name).unwrap_or_default()
        }
        Who::System => return Ok(Effects::NONE),
    };
    // One notice per person every few seconds is all a "… is replying" needs; a
    // client that sends more is not let to fill the table.
    let recent: Option<i64> = live_events::table
        .filter(live_events::kind.eq(LiveKind::Typing))
        .filter(live_events::actor_kind.eq(actor.kind()))
        .filter(live_events::actor_id.eq(actor.id()))
        .filter(live_events::created_at.gt(super::now() - TYPING_EVERY))
        .select(live_events::id)
        .first(conn)
        .optional()?;
    if recent.is_some() {
        return Ok(Effects::NONE);
    }
    record(conn, LiveKind::Typing, &ticket, actor, &name, !actor.is_affiliate())
}

/// At most one typing notice per person in this time.
pub const TYPING_EVERY: chrono::TimeDelta = chrono::TimeDelta::seconds(3);

/// Events after `after`, oldest first, at most `limit`.
pub fn since(conn: &mut AnyConnection, after: i64, limit: i64) -> DomainResult<Vec<LiveEvent>> {
    Ok(live_events::table
        .filter(live_events::id.gt(after))
        .order(live_events::id.asc())
        .limit(limit)
        .select(LiveEvent::as_select())
        .load(conn)?)
}

/// The id of the newest event (0 without any): where a new page starts listening.
pub fn last_id(conn: &mut AnyConnection) -> DomainResult<i64> {
    Ok(live_events::table.select(diesel::dsl::max(live_events::id)).get_result::<Option<i64>>(conn)?.unwrap_or(0))
}

/// Drops events older than `KEPT`.
pub fn prune(conn: &mut AnyConnection, now: NaiveDateTime) -> DomainResult<usize> {
    Ok(diesel::delete(live_events::table.filter(live_events::created_at.lt(now - KEPT))).execute(conn)?)
}
