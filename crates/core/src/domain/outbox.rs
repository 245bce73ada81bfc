//! The email outbox: rows written with the change they tell of, claimed by one
//! sender at a time (a lease, so a sender that dies gives its rows back), retried
//! with growing pauses, and marked sent or failed with the server's answer.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::notify::{Account, MailEvent};
use crate::db::schema::outbox;
use crate::db::{AnyConnection, write_transaction};
use crate::error::DomainResult;

use super::states::AccountKind;
pub use super::states::OutboxState;

pub struct NewMail<'a> {
    pub event: MailEvent,
    pub ticket_id: i64,
    pub ticket_title: &'a str,
    pub recipient: Account,
    pub recipient_name: &'a str,
    pub recipient_email: &'a str,
    pub actor_name: &'a str,
    /// The message (never an internal note), or the decision, in words.
    pub body: &'a str,
    pub link_path: &'a str,
    /// A decision's outcome ("approved", "rejected"), said in the subject.
    pub outcome: Option<&'a str>,
    /// More than one for a bulk action's digest: `body` lists the tickets.
    pub ticket_count: i32,
}

#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = outbox)]
pub struct Mail {
    pub id: i64,
    pub event: MailEvent,
    pub ticket_id: i64,
    pub ticket_title: String,
    pub recipient_kind: AccountKind,
    pub recipient_id: i64,
    pub recipient_name: String,
    pub recipient_email: String,
    pub actor_name: String,
    pub body: String,
    pub link_path: String,
    pub state: OutboxState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
    pub ticket_count: i32,
}

impl Mail {
    /// What the email is, in words, for the outbox page: "Request approved",
    /// "6 tickets closed", "Reply to the affiliate".
    pub fn kind_text(&self) -> String {
        let n = self.ticket_count;
        let outcome = self.outcome.as_deref().unwrap_or("decided");
        match self.event {
            MailEvent::NewTicket => "New ticket, to the manager".into(),
            MailEvent::AffiliateReply => "Affiliate's reply, to the manager".into(),
            MailEvent::ManagerReply => "Reply, to the affiliate".into(),
            MailEvent::TicketForYou => "Ticket opened for the affiliate".into(),
            MailEvent::TicketClosed if self.is_digest() => format!("{n} tickets closed"),
            MailEvent::TicketClosed => "Ticket closed".into(),
            MailEvent::RequestDecided if self.is_digest() => format!("{n} requests {outcome}"),
            MailEvent::RequestDecided => format!("Request {outcome}"),
            MailEvent::Invitation => "Invitation".into(),
            MailEvent::PasswordReset => "Password reset".into(),
            MailEvent::LoginUnlock => "Link to unlock a login".into(),
        }
    }

    /// A bulk action's one email about several tickets (its body lists them).
    pub fn is_digest(&self) -> bool {
        self.ticket_count > 1
    }

    /// The `Message-ID`, the same on every attempt: a receiver that gets the email
    /// twice (a sender killed between sending and marking) can tell.
    pub fn message_id(&self, host: &str) -> String {
        format!("<outbox.{}.{}@{host}>", self.id, self.created_at.and_utc().timestamp_micros())
    }
}

/// Writes an email into the outbox, in the caller's transaction.
pub fn enqueue(conn: &mut AnyConnection, mail: &NewMail, at: NaiveDateTime) -> DomainResult<()> {
    enqueue_many(conn, std::slice::from_ref(mail), at)
}

/// Puts many emails into the outbox in one statement (a bulk change's).
pub fn enqueue_many(conn: &mut AnyConnection, mails: &[NewMail], at: NaiveDateTime) -> DomainResult<()> {
    if mails.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = mails
        .iter()
        .map(|mail| {
            (
                outbox::event.eq(mail.event),
                outbox::ticket_id.eq(mail.ticket_id),
                outbox::ticket_title.eq(mail.ticket_title),
                outbox::recipient_kind.eq(mail.recipient.kind()),
                outbox::recipient_id.eq(mail.recipient.id()),
                outbox::recipient_name.eq(mail.recipient_name),
                outbox::recipient_email.eq(mail.recipient_email),
                outbox::actor_name.eq(mail.actor_name),
                outbox::body.eq(mail.body),
                outbox::link_path.eq(mail.link_path),
                outbox::outcome.eq(mail.outcome),
                outbox::ticket_count.eq(mail.ticket_count),
                outbox::state.eq(OutboxState::Pending),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(at),
                outbox::created_at.eq(at),
            )
        })
        .collect();
    crate::db::insert_rows!(conn, outbox::table, rows)?;
    Ok(())
}

/// Takes up to `limit` due emails for this sender for `lease`: another sender (on
/// this or another instance) skips them until the lease ends. On PostgreSQL the
/// rows are picked with `FOR UPDATE SKIP LOCKED`, so senders never wait for each
/// other; SQLite has one writer at a time anyway. Each claim counts as an attempt.
pub fn claim_due(conn: &mut AnyConnection, now: NaiveDateTime, lease: Duration, limit: i64) -> DomainResult<Vec<Mail>> {
    let postgres = conn.is_postgres();
    write_transaction(conn, |conn| {
        let due = outbox::table
            .filter(outbox::state.eq(OutboxState::Pending))
            .filter(outbox::next_attempt_at.le(now))
            .filter(outbox::claimed_until.is_null().or(outbox::claimed_until.lt(now)))
            .order(outbox::id.asc())
            .limit(limit)
            .select(outbox::id);
        let ids: Vec<i64> = if postgres {
            #[derive(QueryableByName)]
            struct Id {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                id: i64,
            }
            diesel::sql_query(
                "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1 \
                 AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .bind::<diesel::sql_types::BigInt, _>(limit)
            .load::<Id>(conn)?
            .into_iter()
            .map(|r| r.id)
            .collect()
        } else {
            due.load(conn)?
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set((outbox::claimed_until.eq(Some(now + lease)), outbox::attempts.eq(outbox::attempts + 1)))
            .execute(conn)?;
        Ok(outbox::table
            .filter(outbox::id.eq_any(&ids))
            .order(outbox::id.asc())
            .select(Mail::as_select())
            .load(conn)?)
    })
}

pub fn mark_sent(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> DomainResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::state.eq(OutboxState::Sent),
            outbox::sent_at.eq(Some(at)),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// After a failed attempt: tried again after a pause that doubles each time, or
/// marked failed for good (a permanent refusal, or `max_attempts` used up).
pub fn mark_attempt_failed(
    conn: &mut AnyConnection,
    mail: &Mail,
    error: &str,
    permanent: bool,
    max_attempts: i32,
    base_pause: Duration,
    at: NaiveDateTime,
) -> DomainResult<()> {
    let give_up = permanent || mail.attempts >= max_attempts;
    let doublings = (mail.attempts - 1).clamp(0, 16) as u32;
    let pause = (base_pause * 2i32.pow(doublings)).min(Duration::hours(6));
    diesel::update(outbox::table.find(mail.id))
        .set((
            outbox::state.eq(if give_up { OutboxState::Failed } else { OutboxState::Pending }),
            outbox::next_attempt_at.eq(at + pause),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(error)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Use case (admins, and the command line): send a pending or failed email again now.
pub fn retry_now(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> DomainResult<bool> {
    let n = diesel::update(outbox::table.find(id).filter(outbox::state.ne(OutboxState::Sent)))
        .set((
            outbox::state.eq(OutboxState::Pending),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(at),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// The newest emails, optionally of one state.
pub fn list(conn: &mut AnyConnection, state: Option<OutboxState>, limit: i64) -> DomainResult<Vec<Mail>> {
    let mut q = outbox::table.into_boxed();
    if let Some(state) = state {
        q = q.filter(outbox::state.eq(state));
    }
    Ok(q.order(outbox::id.desc()).limit(limit).select(Mail::as_select()).load(conn)?)
}

/// How many emails are in each state.
pub fn counts(conn: &mut AnyConnection) -> DomainResult<Vec<(OutboxState, i64)>> {
    Ok(outbox::table
        .group_by(outbox::state)
        .select((outbox::state, diesel::dsl::count_star()))
        .order(outbox::state.asc())
        .load(conn)?)
}
