//! Telling people that a ticket moved: an email in the outbox for whoever should
//! hear of it, and a live event for the browsers watching. Both are written in
//! the transaction of the change itself, so a change is never told without
//! happening, nor happens without being told.

use diesel::prelude::*;

use super::access::Decision;
use super::actor::{Actor, Who};
use super::affiliates::Affiliate;
use super::live::{self, LiveKind};
use super::messages::Message;
use super::states::AffiliateStatus;
use super::tickets::Ticket;
use super::{now, outbox};
use crate::db::AnyConnection;
use crate::db::schema::{notification_optouts, users};
use crate::error::AppResult;

/// The kinds of email, each of which a person can switch off on their profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MailEvent {
    /// An affiliate opened a ticket (a question or an access request): to their manager.
    NewTicket,
    /// An affiliate replied: to their manager.
    AffiliateReply,
    /// A manager replied: to the affiliate.
    ManagerReply,
    /// A manager opened a ticket for the affiliate: to the affiliate.
    TicketForYou,
    /// A manager closed the ticket: to the affiliate.
    TicketClosed,
    /// An access request was approved or rejected: to the affiliate.
    RequestDecided,
    /// An account was made for someone: the link to set their password.
    Invitation,
    /// Someone asked to reset their password: the link to set a new one.
    PasswordReset,
    /// The account is locked by failed logins: the link that lets its owner log in.
    LoginUnlock,
}

impl MailEvent {
    pub const FOR_STAFF: [MailEvent; 2] = [MailEvent::NewTicket, MailEvent::AffiliateReply];
    /// Emails about an account, not a ticket: always sent (no opt-out).
    pub const ACCOUNT: [MailEvent; 3] = [MailEvent::Invitation, MailEvent::PasswordReset, MailEvent::LoginUnlock];
    pub const FOR_AFFILIATES: [MailEvent; 4] =
        [MailEvent::ManagerReply, MailEvent::TicketForYou, MailEvent::TicketClosed, MailEvent::RequestDecided];

    pub fn as_str(self) -> &'static str {
        match self {
            MailEvent::NewTicket => "new_ticket",
            MailEvent::AffiliateReply => "affiliate_reply",
            MailEvent::ManagerReply => "manager_reply",
            MailEvent::TicketForYou => "ticket_for_you",
            MailEvent::TicketClosed => "ticket_closed",
            MailEvent::RequestDecided => "request_decided",
            MailEvent::Invitation => "invitation",
            MailEvent::PasswordReset => "password_reset",
            MailEvent::LoginUnlock => "login_unlock",
        }
    }

    pub fn parse(s: &str) -> Option<MailEvent> {
        MailEvent::FOR_STAFF
            .iter()
            .chain(MailEvent::FOR_AFFILIATES.iter())
            .chain(MailEvent::ACCOUNT.iter())
            .copied()
            .find(|e| e.as_str() == s)
    }

    /// What the profile page's checkbox says.
    pub fn label(self) -> &'static str {
        match self {
            MailEvent::NewTicket => "An affiliate of mine opens a ticket",
            MailEvent::AffiliateReply => "An affiliate replies to a ticket",
            MailEvent::ManagerReply => "My manager replies",
            MailEvent::TicketForYou => "My manager opens a ticket for me",
            MailEvent::TicketClosed => "A ticket of mine is closed",
            MailEvent::RequestDecided => "An access request of mine is approved or rejected",
            MailEvent::Invitation => "An invitation to affdesk",
            MailEvent::PasswordReset => "A password reset",
            MailEvent::LoginUnlock => "A link to log in to a locked account",
        }
    }
}

/// What happened to a ticket.
#[derive(Clone, Copy, Debug)]
pub enum Change<'a> {
    Opened,
    Replied(&'a Message),
    /// An internal note: managers' browsers hear of it; nobody gets an email.
    Noted,
    Closed,
    Reopened,
    Decided(Decision),
}

/// Who receives an email: a user (manager) or an affiliate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recipient {
    User(i64),
    Affiliate(i64),
}

impl Recipient {
    pub fn kind(self) -> &'static str {
        match self {
            Recipient::User(_) => "user",
            Recipient::Affiliate(_) => "affiliate",
        }
    }
    pub fn id(self) -> i64 {
        match self {
            Recipient::User(id) | Recipient::Affiliate(id) => id,
        }
    }
}

/// Records `change` of `ticket` made by `actor`: the live event, and the email for
/// whoever should hear of it (unless they switched that kind off).
pub fn ticket_changed(conn: &mut AnyConnection, actor: &Actor, ticket: &Ticket, change: Change) -> AppResult<()> {
    let affiliate = Affiliate::find(conn, ticket.affiliate_id)?;
    let actor_name = match &actor.who {
        Who::Staff(s) => s.name.clone(),
        Who::Affiliate(_) => affiliate.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
        Who::System => "affdesk".to_string(),
    };
    let staff_only = matches!(change, Change::Noted);
    live::record(conn, LiveKind::Ticket, ticket, actor, &actor_name, staff_only)?;
    let by_affiliate = actor.is_affiliate();
    let (event, body) = match change {
        Change::Opened if by_affiliate => (MailEvent::NewTicket, ticket.description.clone()),
        Change::Opened => (MailEvent::TicketForYou, ticket.description.clone()),
        Change::Replied(m) if by_affiliate => (MailEvent::AffiliateReply, m.body.clone()),
        Change::Replied(m) => (MailEvent::ManagerReply, m.body.clone()),
        Change::Closed if !by_affiliate => (MailEvent::TicketClosed, String::new()),
        Change::Decided(d) => (
            MailEvent::RequestDecided,
            match d {
                Decision::Approve => "Your request was approved.".to_string(),
                Decision::Reject => "Your request was rejected.".to_string(),
            },
        ),
        Change::Noted | Change::Closed | Change::Reopened => return Ok(()),
    };
    let to_staff = MailEvent::FOR_STAFF.contains(&event);
    let recipient = if to_staff {
        let Some(manager) = ticket.manager_id else { return Ok(()) };
        let found: Option<(String, String)> =
            users::table.find(manager).select((users::name, users::email)).get_result(conn).optional()?;
        found.map(|(name, email)| (Recipient::User(manager), name, email))
    } else {
        affiliate
            .filter(|a| a.status != AffiliateStatus::Banned)
            .map(|a| (Recipient::Affiliate(a.id), a.name.clone(), a.email.clone()))
    };
    let Some((recipient, name, email)) = recipient else { return Ok(()) };
    if opted_out(conn, recipient, event)? {
        return Ok(());
    }
    let link_path = match recipient {
        Recipient::User(_) => format!("/admin/tickets/{}", ticket.id),
        Recipient::Affiliate(_) => format!("/affiliate/tickets/{}", ticket.id),
    };
    outbox::enqueue(
        conn,
        &outbox::NewMail {
            event,
            ticket_id: ticket.id,
            ticket_title: &ticket.title,
            recipient,
            recipient_name: &name,
            recipient_email: &email,
            actor_name: &actor_name,
            body: &body,
            link_path: &link_path,
        },
        now(),
    )
}

/// Records that staff closed `closed` (many tickets at once, as a bulk close does):
/// what `ticket_changed` writes for each, in one statement per few hundred tickets
/// instead of several per ticket, so a close of ten thousand stays one short
/// transaction.
pub fn tickets_closed(conn: &mut AnyConnection, actor: &Actor, closed: &[Ticket]) -> AppResult<()> {
    use crate::db::schema::affiliates;
    use std::collections::{HashMap, HashSet};
    let Who::Staff(staff) = &actor.who else {
        // Only staff close in bulk; anyone else takes the one-by-one path.
        for t in closed {
            ticket_changed(conn, actor, t, Change::Closed)?;
        }
        return Ok(());
    };
    let pg = conn.is_postgres();
    for chunk in closed.chunks(500) {
        live::record_many(conn, LiveKind::Ticket, chunk, actor, &staff.name, false)?;
        let mut ids: Vec<i64> = chunk.iter().map(|t| t.affiliate_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let affiliates: HashMap<i64, Affiliate> = affiliates::table
            .filter(crate::db::id_in(affiliates::id, &ids, pg))
            .select(Affiliate::as_select())
            .load::<Affiliate>(conn)?
            .into_iter()
            .filter(|a| a.status != AffiliateStatus::Banned)
            .map(|a| (a.id, a))
            .collect();
        let opted_out: HashSet<i64> = notification_optouts::table
            .filter(notification_optouts::recipient_kind.eq(Recipient::Affiliate(0).kind()))
            .filter(crate::db::id_in(notification_optouts::recipient_id, &ids, pg))
            .filter(notification_optouts::event.eq(MailEvent::TicketClosed.as_str()))
            .select(notification_optouts::recipient_id)
            .load::<i64>(conn)?
            .into_iter()
            .collect();
        let paths: Vec<String> = chunk.iter().map(|t| format!("/affiliate/tickets/{}", t.id)).collect();
        let mails: Vec<outbox::NewMail> = chunk
            .iter()
            .zip(&paths)
            .filter(|(t, _)| !opted_out.contains(&t.affiliate_id))
            .filter_map(|(t, path)| {
                let a = affiliates.get(&t.affiliate_id)?;
                Some(outbox::NewMail {
                    event: MailEvent::TicketClosed,
                    ticket_id: t.id,
                    ticket_title: &t.title,
                    recipient: Recipient::Affiliate(a.id),
                    recipient_name: &a.name,
                    recipient_email: &a.email,
                    actor_name: &staff.name,
                    body: "",
                    link_path: path,
                })
            })
            .collect();
        outbox::enqueue_many(conn, &mails, now())?;
    }
    Ok(())
}

fn opted_out(conn: &mut AnyConnection, recipient: Recipient, event: MailEvent) -> AppResult<bool> {
    let n: i64 = notification_optouts::table
        .filter(notification_optouts::recipient_kind.eq(recipient.kind()))
        .filter(notification_optouts::recipient_id.eq(recipient.id()))
        .filter(notification_optouts::event.eq(event.as_str()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The kinds of email `recipient` switched off.
pub fn optouts(conn: &mut AnyConnection, recipient: Recipient) -> AppResult<Vec<MailEvent>> {
    let rows: Vec<String> = notification_optouts::table
        .filter(notification_optouts::recipient_kind.eq(recipient.kind()))
        .filter(notification_optouts::recipient_id.eq(recipient.id()))
        .select(notification_optouts::event)
        .load(conn)?;
    Ok(rows.iter().filter_map(|e| MailEvent::parse(e)).collect())
}

/// Use case: a person chooses which kinds of email they get (`wanted`, of those
/// their kind of account can get).
pub fn set_wanted(conn: &mut AnyConnection, recipient: Recipient, wanted: &[MailEvent]) -> AppResult<()> {
    let offered: &[MailEvent] = match recipient {
        Recipient::User(_) => &MailEvent::FOR_STAFF,
        Recipient::Affiliate(_) => &MailEvent::FOR_AFFILIATES,
    };
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(
            notification_optouts::table
                .filter(notification_optouts::recipient_kind.eq(recipient.kind()))
                .filter(notification_optouts::recipient_id.eq(recipient.id())),
        )
        .execute(conn)?;
        for event in offered.iter().filter(|e| !wanted.contains(e)) {
            diesel::insert_into(notification_optouts::table)
                .values((
                    notification_optouts::recipient_kind.eq(recipient.kind()),
                    notification_optouts::recipient_id.eq(recipient.id()),
                    notification_optouts::event.eq(event.as_str()),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}
