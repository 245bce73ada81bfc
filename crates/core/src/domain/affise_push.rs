//! Access decisions on their way to the network's Affise: a row written in the
//! transaction of the decision itself (approve enables the affiliate on the offer,
//! reject disables them), pushed by a worker on any instance, retried with growing
//! pauses, and marked done with the time Affise took it. Affise has no idempotency
//! contract, but enabling an enabled affiliate (or disabling a disabled one) is
//! harmless there, so a push sent twice (a worker killed between sending and
//! marking) changes nothing.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

pub use super::states::{PushAction, PushState};
use crate::db::schema::{affiliates, affise_pushes, offers};
use crate::db::{AnyConnection, write_transaction};
use crate::error::DomainResult;

/// Attempts before a push is marked failed (with pauses doubling from 30 s up to
/// 6 hours, about two days of trying).
pub const MAX_ATTEMPTS: i32 = 16;

#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = affise_pushes)]
pub struct Push {
    pub id: i64,
    pub ticket_id: Option<i64>,
    pub action: PushAction,
    pub offer_id: i64,
    pub affiliate_id: i64,
    pub affise_offer_id: String,
    pub affise_partner_id: String,
    pub state: PushState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub done_at: Option<NaiveDateTime>,
}

impl Push {
    /// What the thread says of it: "Enabled in Affise at 12:03", "Waiting for
    /// Affise: timeout, retrying at 12:05".
    pub fn status_line(&self) -> String {
        let verb = match self.action {
            PushAction::Enable => "Enabled",
            PushAction::Disable => "Disabled",
        };
        let hm = |t: NaiveDateTime| t.format("%Y-%m-%d %H:%M UTC").to_string();
        match self.state {
            PushState::Done => format!("{verb} in Affise at {}", hm(self.done_at.unwrap_or(self.created_at))),
            PushState::Pending => match &self.last_error {
                None => "Waiting for Affise: not sent yet".to_string(),
                Some(e) => format!("Waiting for Affise: {e}, retrying at {}", hm(self.next_attempt_at)),
            },
            PushState::Failed => format!(
                "Not taken by Affise after {} attempts: {} (an admin can send it again from the outbox)",
                self.attempts,
                self.last_error.as_deref().unwrap_or("no answer")
            ),
            PushState::Superseded => "Replaced by a later decision before it was sent".to_string(),
        }
    }
}

/// Writes the push of a decision, in the caller's transaction: only when both the
/// offer and the affiliate came from Affise (a local offer has nothing to push).
/// Pushes of the same offer and affiliate still waiting are superseded: the newest
/// decision is the state Affise must end in.
pub fn enqueue(
    conn: &mut AnyConnection,
    ticket_id: Option<i64>,
    action: PushAction,
    offer_id: i64,
    affiliate_id: i64,
    at: NaiveDateTime,
) -> DomainResult<bool> {
    let offer: Option<Option<String>> =
        offers::table.find(offer_id).select(offers::affise_id).get_result(conn).optional()?;
    let partner: Option<Option<String>> =
        affiliates::table.find(affiliate_id).select(affiliates::affise_id).get_result(conn).optional()?;
    let (Some(Some(affise_offer)), Some(Some(affise_partner))) = (offer, partner) else {
        return Ok(false);
    };
    diesel::update(
        affise_pushes::table
            .filter(affise_pushes::offer_id.eq(offer_id))
            .filter(affise_pushes::affiliate_id.eq(affiliate_id))
            .filter(affise_pushes::state.eq_any([PushState::Pending, PushState::Failed])),
    )
    .set(affise_pushes::state.eq(PushState::Superseded))
    .execute(conn)?;
    diesel::insert_into(affise_pushes::table)
        .values((
            affise_pushes::ticket_id.eq(ticket_id),
            affise_pushes::action.eq(action),
            affise_pushes::offer_id.eq(offer_id),
            affise_pushes::affiliate_id.eq(affiliate_id),
            affise_pushes::affise_offer_id.eq(affise_offer),
            affise_pushes::affise_partner_id.eq(affise_partner),
            affise_pushes::state.eq(PushState::Pending),
            affise_pushes::attempts.eq(0),
            affise_pushes::next_attempt_at.eq(at),
            affise_pushes::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Takes up to `limit` due pushes for `lease`; another worker skips them until the
/// lease ends. Each claim counts as an attempt. Oldest first, so two decisions on
/// different pairs keep their order.
pub fn claim_due(conn: &mut AnyConnection, now: NaiveDateTime, lease: Duration, limit: i64) -> DomainResult<Vec<Push>> {
    let postgres = conn.is_postgres();
    write_transaction(conn, |conn| {
        let ids: Vec<i64> = if postgres {
            #[derive(QueryableByName)]
            struct Id {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                id: i64,
            }
            diesel::sql_query(
                "SELECT id FROM affise_pushes WHERE state = 'pending' AND next_attempt_at <= $1 \
                 AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .bind::<diesel::sql_types::BigInt, _>(limit)
            .load::<Id>(conn)?
            .into_iter()
            .map(|r| r.id)
            .collect()
        } else {
            affise_pushes::table
                .filter(affise_pushes::state.eq(PushState::Pending))
                .filter(affise_pushes::next_attempt_at.le(now))
                .filter(affise_pushes::claimed_until.is_null().or(affise_pushes::claimed_until.lt(now)))
                .order(affise_pushes::id.asc())
                .limit(limit)
                .select(affise_pushes::id)
                .load(conn)?
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(affise_pushes::table.filter(affise_pushes::id.eq_any(&ids)))
            .set((
                affise_pushes::claimed_until.eq(Some(now + lease)),
                affise_pushes::attempts.eq(affise_pushes::attempts + 1),
            ))
            .execute(conn)?;
        Ok(affise_pushes::table
            .filter(affise_pushes::id.eq_any(&ids))
            .order(affise_pushes::id.asc())
            .select(Push::as_select())
            .load(conn)?)
    })
}

/// Affise took it. Only a push still pending is marked (a superseded one stays so).
pub fn mark_done(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> DomainResult<()> {
    diesel::update(affise_pushes::table.find(id).filter(affise_pushes::state.eq(PushState::Pending)))
        .set((
            affise_pushes::state.eq(PushState::Done),
            affise_pushes::done_at.eq(Some(at)),
            affise_pushes::claimed_until.eq(None::<NaiveDateTime>),
            affise_pushes::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// After a failed attempt: tried again after a pause that doubles each time, or
/// marked failed once `MAX_ATTEMPTS` are used up. Never dropped.
pub fn mark_attempt_failed(
    conn: &mut AnyConnection,
    push: &Push,
    error: &str,
    base_pause: Duration,
    at: NaiveDateTime,
) -> DomainResult<()> {
    let give_up = push.attempts >= MAX_ATTEMPTS;
    let doublings = (push.attempts - 1).clamp(0, 16) as u32;
    let pause = (base_pause * 2i32.pow(doublings)).min(Duration::hours(6));
    diesel::update(affise_pushes::table.find(push.id).filter(affise_pushes::state.eq(PushState::Pending)))
        .set((
            affise_pushes::state.eq(if give_up { PushState::Failed } else { PushState::Pending }),
            affise_pushes::next_attempt_at.eq(at + pause),
            affise_pushes::claimed_until.eq(None::<NaiveDateTime>),
            affise_pushes::last_error.eq(Some(error)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Use case (admins, and the command line): send a failed or waiting push again now.
pub fn retry_now(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> DomainResult<bool> {
    let n = diesel::update(
        affise_pushes::table.find(id).filter(affise_pushes::state.eq_any([PushState::Pending, PushState::Failed])),
    )
    .set((
        affise_pushes::state.eq(PushState::Pending),
        affise_pushes::attempts.eq(0),
        affise_pushes::next_attempt_at.eq(at),
        affise_pushes::claimed_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The pushes of a ticket's decisions, oldest first (the thread shows them).
pub fn of_ticket(conn: &mut AnyConnection, ticket_id: i64) -> DomainResult<Vec<Push>> {
    Ok(affise_pushes::table
        .filter(affise_pushes::ticket_id.eq(ticket_id))
        .order(affise_pushes::id.asc())
        .select(Push::as_select())
        .load(conn)?)
}

/// The newest pushes, optionally of one state (the outbox page shows them).
pub fn list(conn: &mut AnyConnection, state: Option<PushState>, limit: i64) -> DomainResult<Vec<Push>> {
    let mut q = affise_pushes::table.into_boxed();
    if let Some(state) = state {
        q = q.filter(affise_pushes::state.eq(state));
    }
    Ok(q.order(affise_pushes::id.desc()).limit(limit).select(Push::as_select()).load(conn)?)
}

/// Pending pushes of an offer (a pull must not undo a decision still on its way).
pub fn pending_for_offer(conn: &mut AnyConnection, offer_id: i64) -> DomainResult<Vec<i64>> {
    Ok(affise_pushes::table
        .filter(affise_pushes::offer_id.eq(offer_id))
        .filter(affise_pushes::state.eq_any([PushState::Pending, PushState::Failed]))
        .select(affise_pushes::affiliate_id)
        .load(conn)?)
}

/// The newest push (replaced ones left out) of each of `affiliates` on an offer:
/// the offer page shows it beside their access.
pub fn latest_for_offer(conn: &mut AnyConnection, offer_id: i64, affiliates: &[i64]) -> DomainResult<Vec<Push>> {
    let mut latest: Vec<Push> = Vec::new();
    for chunk in affiliates.chunks(500) {
        let found: Vec<Push> = affise_pushes::table
            .filter(affise_pushes::offer_id.eq(offer_id))
            .filter(affise_pushes::affiliate_id.eq_any(chunk))
            .filter(affise_pushes::state.ne(PushState::Superseded))
            .order(affise_pushes::id.desc())
            .select(Push::as_select())
            .load(conn)?;
        for p in found {
            if !latest.iter().any(|l| l.affiliate_id == p.affiliate_id) {
                latest.push(p);
            }
        }
    }
    Ok(latest)
}
