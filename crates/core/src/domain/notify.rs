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
use super::{Effects, now, outbox};
use crate::db::AnyConnection;
use crate::db::schema::{notification_optouts, users};
use crate::error::DomainResult;

pub use super::account::Account;
pub use super::states::MailEvent;

impl MailEvent {
    pub const FOR_STAFF: [MailEvent; 2] = [MailEvent::NewTicket, MailEvent::AffiliateReply];
    /// Emails about an account, not a ticket: always sent (no opt-out).
    pub const ACCOUNT: [MailEvent; 3] = [MailEvent::Invitation, MailEvent::PasswordReset, MailEvent::LoginUnlock];
    pub const FOR_AFFILIATES: [MailEvent; 4] =
        [MailEvent::ManagerReply, MailEvent::TicketForYou, MailEvent::TicketClosed, MailEvent::RequestDecided];

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
    /// A reply sent with a decision ("Approve and send"): the decision's email
    /// carries its text, so the reply itself mails nobody.
    RepliedWithDecision,
    /// An internal note: managers' browsers hear of it; nobody gets an email.
    Noted,
    Closed,
    Reopened,
    /// An access request decided, with the reply sent with the decision, if any.
    Decided(Decision, Option<&'a str>),
}

/// When the affiliate hears of a change: in its own email, or in the one email a
/// bulk action sends each affiliate (`digest`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tell {
    Now,
    InDigest,
}

/// Records `change` of `ticket` made by `actor`: the live event, and the email for
/// whoever should hear of it (unless they switched that kind off). With
/// `Tell::InDigest` only the live event: the bulk action's `digest` mails.
pub fn ticket_changed_telling(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket: &Ticket,
    change: Change,
    tell: Tell,
) -> DomainResult<Effects> {
    let affiliate = Affiliate::find(conn, ticket.affiliate_id)?;
    let actor_name = match &actor.who {
        Who::Staff(s) => s.name.clone(),
        Who::Affiliate(_) => affiliate.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
        Who::System => "affdesk".to_string(),
    };
    let staff_only = matches!(change, Change::Noted);
    let effects = live::record(conn, LiveKind::Ticket, ticket, actor, &actor_name, staff_only)?;
    if tell == Tell::InDigest {
        return Ok(effects);
    }
    let by_affiliate = actor.is_affiliate();
    let (event, body) = match change {
        Change::Opened if by_affiliate => (MailEvent::NewTicket, ticket.description.clone()),
        Change::Opened => (MailEvent::TicketForYou, ticket.description.clone()),
        Change::Replied(m) if by_affiliate => (MailEvent::AffiliateReply, m.body.clone()),
        Change::Replied(m) => (MailEvent::ManagerReply, m.body.clone()),
        Change::Closed if !by_affiliate => (MailEvent::TicketClosed, String::new()),
        Change::Decided(d, reply) => {
            (MailEvent::RequestDecided, reply.map_or_else(|| decided_sentence(d), str::to_string))
        }
        Change::Noted | Change::Closed | Change::Reopened | Change::RepliedWithDecision => return Ok(effects),
    };
    let outcome = match change {
        Change::Decided(d, _) => Some(outcome_word(d)),
        _ => None,
    };
    let to_staff = MailEvent::FOR_STAFF.contains(&event);
    let recipient = if to_staff {
        let Some(manager) = ticket.manager_id else { return Ok(effects) };
        let found: Option<(String, String)> =
            users::table.find(manager).select((users::name, users::email)).get_result(conn).optional()?;
        found.map(|(name, email)| (Account::User(manager), name, email))
    } else {
        affiliate
            .filter(|a| a.status != AffiliateStatus::Banned)
            .map(|a| (Account::Affiliate(a.id), a.name.clone(), a.email.clone()))
    };
    let Some((recipient, name, email)) = recipient else { return Ok(effects) };
    if opted_out(conn, recipient, event)? {
        return Ok(effects);
    }
    let link_path = match recipient {
        Account::User(_) => format!("/admin/tickets/{}", ticket.id),
        Account::Affiliate(_) => format!("/affiliate/tickets/{}", ticket.id),
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
            outcome,
            ticket_count: 1,
        },
        now(),
    )?;
    Ok(effects)
}

/// Records `change` of `ticket` made by `actor` and tells whoever should hear of it.
pub fn ticket_changed(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket: &Ticket,
    change: Change,
) -> DomainResult<Effects> {
    ticket_changed_telling(conn, actor, ticket, change, Tell::Now)
}

/// "approved", "rejected": the word of a decision's email subject.
pub fn outcome_word(d: Decision) -> &'static str {
    match d {
        Decision::Approve => "approved",
        Decision::Reject => "rejected",
    }
}

fn decided_sentence(d: Decision) -> String {
    format!("Your request was {}.", outcome_word(d))
}

/// Records that staff closed `closed` (many tickets at once, as a bulk close does):
/// a live event per ticket, a few hundred per statement, and one email per
/// affiliate (`digest`), so a close of ten thousand stays one short transaction.
pub fn tickets_closed(conn: &mut AnyConnection, actor: &Actor, closed: &[Ticket]) -> DomainResult<Effects> {
    let mut effects = Effects::NONE;
    let Who::Staff(staff) = &actor.who else {
        // Only staff close in bulk; anyone else takes the one-by-one path.
        for t in closed {
            effects |= ticket_changed(conn, actor, t, Change::Closed)?;
        }
        return Ok(effects);
    };
    for chunk in closed.chunks(500) {
        effects |= live::record_many(conn, LiveKind::Ticket, chunk, actor, &staff.name, false)?;
    }
    let done: Vec<(&Ticket, Option<Decision>)> = closed.iter().map(|t| (t, None)).collect();
    digest(conn, actor, MailEvent::TicketClosed, &done)?;
    Ok(effects)
}

/// One affiliate's email of a bulk action.
struct Letter<'a> {
    to: &'a Affiliate,
    /// The ticket (the first, for several).
    ticket_id: i64,
    title: String,
    body: String,
    link: String,
    outcome: Option<&'static str>,
    count: i32,
}

/// The emails of a bulk action: one per affiliate, naming every ticket of theirs
/// it changed (with the decision, for requests); an affiliate with one ticket in
/// it gets that ticket's own email. Six tickets of one affiliate closed are one
/// email, not six.
pub fn digest(
    conn: &mut AnyConnection,
    actor: &Actor,
    event: MailEvent,
    done: &[(&Ticket, Option<Decision>)],
) -> DomainResult<()> {
    use crate::db::schema::affiliates;
    use std::collections::{BTreeMap, HashMap, HashSet};
    let Who::Staff(staff) = &actor.who else { return Ok(()) };
    let mut by_affiliate: BTreeMap<i64, Vec<(&Ticket, Option<Decision>)>> = BTreeMap::new();
    for (t, d) in done {
        by_affiliate.entry(t.affiliate_id).or_default().push((t, *d));
    }
    let ids: Vec<i64> = by_affiliate.keys().copied().collect();
    let pg = conn.is_postgres();
    let mut affiliates: HashMap<i64, Affiliate> = HashMap::new();
    let mut opted_out: HashSet<i64> = HashSet::new();
    for chunk in ids.chunks(500) {
        affiliates.extend(
            affiliates::table
                .filter(crate::db::id_in(affiliates::id, chunk, pg))
                .select(Affiliate::as_select())
                .load::<Affiliate>(conn)?
                .into_iter()
                .filter(|a| a.status != AffiliateStatus::Banned)
                .map(|a| (a.id, a)),
        );
        opted_out.extend(
            notification_optouts::table
                .filter(notification_optouts::recipient_kind.eq(Account::Affiliate(0).kind()))
                .filter(crate::db::id_in(notification_optouts::recipient_id, chunk, pg))
                .filter(notification_optouts::event.eq(event))
                .select(notification_optouts::recipient_id)
                .load::<i64>(conn)?,
        );
    }
    let mut letters: Vec<Letter> = Vec::new();
    for (affiliate_id, tickets) in &by_affiliate {
        let Some(a) = affiliates.get(affiliate_id).filter(|_| !opted_out.contains(affiliate_id)) else { continue };
        // One word in the subject when every ticket had the same decision.
        let outcome = match tickets[0].1 {
            Some(d) if tickets.iter().all(|(_, x)| *x == Some(d)) => Some(outcome_word(d)),
            _ => None,
        };
        if let [(t, d)] = tickets[..] {
            letters.push(Letter {
                to: a,
                ticket_id: t.id,
                title: t.title.clone(),
                body: d.map(decided_sentence).unwrap_or_default(),
                link: format!("/affiliate/tickets/{}", t.id),
                outcome,
                count: 1,
            });
            continue;
        }
        let lines: Vec<String> = tickets
            .iter()
            .map(|(t, d)| match d {
                Some(d) => format!("#{} {} (request {})", t.id, t.title, outcome_word(*d)),
                None => format!("#{} {}", t.id, t.title),
            })
            .collect();
        let count = i32::try_from(tickets.len()).unwrap_or(i32::MAX);
        letters.push(Letter {
            to: a,
            ticket_id: tickets[0].0.id,
            title: String::new(),
            body: lines.join("\n"),
            link: "/affiliate/tickets".into(),
            outcome,
            count,
        });
    }
    for chunk in letters.chunks(500) {
        let mails: Vec<outbox::NewMail> = chunk
            .iter()
            .map(|l| outbox::NewMail {
                event,
                ticket_id: l.ticket_id,
                ticket_title: &l.title,
                recipient: Account::Affiliate(l.to.id),
                recipient_name: &l.to.name,
                recipient_email: &l.to.email,
                actor_name: &staff.name,
                body: &l.body,
                link_path: &l.link,
                outcome: l.outcome,
                ticket_count: l.count,
            })
            .collect();
        outbox::enqueue_many(conn, &mails, now())?;
    }
    Ok(())
}

fn opted_out(conn: &mut AnyConnection, recipient: Account, event: MailEvent) -> DomainResult<bool> {
    let n: i64 = notification_optouts::table
        .filter(notification_optouts::recipient_kind.eq(recipient.kind()))
        .filter(notification_optouts::recipient_id.eq(recipient.id()))
        .filter(notification_optouts::event.eq(event))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The kinds of email `recipient` switched off.
pub fn optouts(conn: &mut AnyConnection, recipient: Account) -> DomainResult<Vec<MailEvent>> {
    let rows: Vec<String> = notification_optouts::table
        .filter(notification_optouts::recipient_kind.eq(recipient.kind()))
        .filter(notification_optouts::recipient_id.eq(recipient.id()))
        .select(notification_optouts::event)
        .load(conn)?;
    Ok(rows.iter().filter_map(|e| MailEvent::parse(e)).collect())
}

/// Use case: a person chooses which kinds of email they get (`wanted`, of those
/// their kind of account can get).
pub fn set_wanted(conn: &mut AnyConnection, recipient: Account, wanted: &[MailEvent]) -> DomainResult<()> {
    let offered: &[MailEvent] = match recipient {
        Account::User(_) => &MailEvent::FOR_STAFF,
        Account::Affiliate(_) => &MailEvent::FOR_AFFILIATES,
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
                    notification_optouts::event.eq(event),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}
