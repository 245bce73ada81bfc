//! Tickets: the model, and who may see which.

use chrono::NaiveDateTime;
use diesel::prelude::*;

pub use super::states::{RequestState, TicketKind, TicketStatus};
use crate::db::schema::tickets;
use crate::db::{AnyConnection, MaybeStamp, Stamp};
use crate::error::{DomainError, DomainResult};

#[derive(Queryable, Selectable, Identifiable, Debug, Clone, PartialEq)]
#[diesel(table_name = tickets)]
pub struct Ticket {
    pub id: i64,
    pub affiliate_id: i64,
    pub manager_id: Option<i64>,
    pub kind: TicketKind,
    pub status: TicketStatus,
    pub request_state: Option<RequestState>,
    pub offer_id: Option<i64>,
    pub smartlink_id: Option<i64>,
    pub title: String,
    pub description: String,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
    pub manager_answers: i32,
    pub affiliate_messages: i32,
    pub unread_by_manager: i32,
    pub unread_by_affiliate: i32,
    /// Since when the affiliate has been waiting for an answer (open tickets only).
    #[diesel(deserialize_as = MaybeStamp)]
    pub waiting_since: Option<NaiveDateTime>,
    /// A manager's first reply (the SLA's first answer).
    #[diesel(deserialize_as = MaybeStamp)]
    pub first_answer_at: Option<NaiveDateTime>,
    /// The last time it closed.
    #[diesel(deserialize_as = MaybeStamp)]
    pub closed_at: Option<NaiveDateTime>,
    /// When its access request was approved or rejected.
    #[diesel(deserialize_as = MaybeStamp)]
    pub decided_at: Option<NaiveDateTime>,
}

impl Ticket {
    pub fn is_open(&self) -> bool {
        self.status == TicketStatus::Open
    }
    pub fn is_closed(&self) -> bool {
        self.status == TicketStatus::Closed
    }
    pub fn is_pending_request(&self) -> bool {
        self.request_state == Some(RequestState::Pending)
    }
    /// When the ticket last changed, or `None` if never since it was created.
    pub fn changed_at(&self) -> Option<NaiveDateTime> {
        (self.updated_at != self.created_at).then_some(self.updated_at)
    }
    pub fn kind_label(&self) -> &'static str {
        self.kind.label()
    }
    pub fn status_label(&self) -> &'static str {
        self.status.label()
    }
    pub fn affiliate_status_label(&self) -> &'static str {
        self.status.affiliate_label()
    }

    pub fn find(conn: &mut AnyConnection, id: i64) -> DomainResult<Option<Ticket>> {
        Ok(tickets::table.find(id).select(Ticket::as_select()).get_result(conn).optional()?)
    }

    /// The ticket if `scope` may see it; otherwise `None`, as if it did not exist.
    pub fn find_visible(conn: &mut AnyConnection, scope: &Scope, id: i64) -> DomainResult<Ticket> {
        Ticket::find(conn, id)?.filter(|t| scope.allows(t)).ok_or(DomainError::NotFound)
    }

    /// Inside a write transaction: the ticket as it is now, with its row locked until
    /// the transaction ends, so what a use case decides on cannot change under it.
    /// (SQLite's write transactions already hold the whole database.)
    pub fn lock_visible(conn: &mut AnyConnection, scope: &Scope, id: i64) -> DomainResult<Ticket> {
        lock(conn, &[id])?;
        Ticket::find_visible(conn, scope, id)
    }

    /// Several tickets, locked as `lock_visible` does, in id order.
    pub fn lock_many(conn: &mut AnyConnection, ids: &[i64]) -> DomainResult<Vec<Ticket>> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            lock(conn, chunk)?;
            found.extend(
                tickets::table
                    .filter(crate::db::id_in(tickets::id, chunk, conn.is_postgres()))
                    .order(tickets::id)
                    .select(Ticket::as_select())
                    .load::<Ticket>(conn)?,
            );
        }
        Ok(found)
    }
}

/// `SELECT ... FOR UPDATE` on PostgreSQL, in id order (two lockers of overlapping
/// sets then wait for each other instead of deadlocking).
fn lock(conn: &mut AnyConnection, ids: &[i64]) -> DomainResult<()> {
    if let AnyConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT id FROM tickets WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(ids)
            .execute(pg)?;
    }
    Ok(())
}

/// Which tickets someone may see: everything (admins, managers granted all), the
/// tickets of one manager's affiliates, or one affiliate's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Manager(i64),
    Affiliate(i64),
}

impl Scope {
    pub fn allows(&self, ticket: &Ticket) -> bool {
        match self {
            Scope::All => true,
            Scope::Manager(m) => ticket.manager_id == Some(*m),
            Scope::Affiliate(a) => ticket.affiliate_id == *a,
        }
    }

    /// May this scope see the tickets of an affiliate with this manager?
    pub fn allows_affiliate(&self, affiliate_id: i64, manager_id: Option<i64>) -> bool {
        match self {
            Scope::All => true,
            Scope::Manager(m) => manager_id == Some(*m),
            Scope::Affiliate(a) => affiliate_id == *a,
        }
    }
}
