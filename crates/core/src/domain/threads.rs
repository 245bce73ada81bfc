//! A ticket's thread as people read it: messages with their authors' names and
//! attachments, loaded with a fixed number of queries whatever its length.

use diesel::prelude::*;

use super::access::{self, Target};
use super::actor::Actor;
use super::affiliates::Affiliate;
use super::attachments::Attachment;
use super::catalogue::{Offer, Smartlink};
use super::messages::{self, Message, Seen};
use super::states::{AccessSource, AuthorKind};
use super::tickets::Ticket;
use crate::db::AnyConnection;
use crate::db::schema::{
    affiliates, attachments as attachment_rows, messages as message_rows, offers, smartlinks, tickets, users,
};
use crate::error::{DomainError, DomainResult};

pub struct ThreadEntry {
    pub message: Message,
    /// "Maria Keller", the affiliate's name, or "System".
    pub author: String,
    pub attachments: Vec<Attachment>,
}

impl ThreadEntry {
    pub fn by_manager(&self) -> bool {
        self.message.author_kind == AuthorKind::Manager
    }
    pub fn by_system(&self) -> bool {
        self.message.author_kind == AuthorKind::System
    }
}

pub struct Thread {
    pub ticket: Ticket,
    pub affiliate: Affiliate,
    pub manager_name: Option<String>,
    pub offer: Option<Offer>,
    pub smartlink: Option<Smartlink>,
    /// For a request, how the affiliate has access to its target now, if they do
    /// (managers only: it says what Reject would take away).
    pub access: Option<AccessSource>,
    /// For an offer request, its decisions on their way to Affise (managers only).
    pub pushes: Vec<super::affise_push::Push>,
    pub entries: Vec<ThreadEntry>,
}

impl Thread {
    /// What the reply form saw: sent back with it, so changes made meanwhile show.
    pub fn seen(&self) -> Seen {
        Seen {
            last_message: self.entries.last().map_or(0, |e| e.message.id),
            status: self.ticket.status,
            request_state: self.ticket.request_state,
        }
    }

    /// What Activate and Reject do to the affiliate's access, in words.
    pub fn decision_effects(&self) -> Option<(String, String)> {
        let target = match (&self.offer, &self.smartlink) {
            (Some(o), _) => format!("the offer {}", o.title),
            (_, Some(s)) => format!("the Smartlink {}", s.name),
            _ => return None,
        };
        let who = &self.affiliate.name;
        let activate = format!("Approve: {who} gets access to {target}, and the ticket closes.");
        let reject = match self.access {
            Some(AccessSource::Manual) => {
                format!(
                    "Reject: the ticket closes and the access {who} has to {target} now, granted by hand, is revoked."
                )
            }
            Some(AccessSource::Ticket) => format!(
                "Reject: the ticket closes and the access {who} has to {target} now, granted by an approved request, is revoked."
            ),
            Some(AccessSource::Import) => format!(
                "Reject: the ticket closes and the access {who} has to {target} now, granted by an import, is revoked."
            ),
            Some(AccessSource::Affise) => format!(
                "Reject: the ticket closes and the access {who} has to {target} now, granted in Affise, is revoked."
            ),
            None => format!("Reject: {who} gets no access to {target}, and the ticket closes."),
        };
        Some((activate, reject))
    }
}

/// Use case: read a ticket's thread, as the actor may see it (internal notes only
/// for managers); `mark_read` marks the other side's messages read, as opening it does.
///
/// Two statements, whatever the thread holds: the ticket with its affiliate, manager
/// and target, then the messages with their attachments and authors. Over a network
/// each statement is a round trip that costs more than the rows it reads.
pub fn read(conn: &mut AnyConnection, actor: &Actor, ticket_id: i64, mark_read: bool) -> DomainResult<Thread> {
    let head = head(conn, ticket_id)?.filter(|h| actor.scope().allows(&h.0)).ok_or(DomainError::NotFound)?;
    let (ticket, affiliate, manager_name, offer, smartlink) = head;
    let for_manager = !actor.is_affiliate();
    if mark_read {
        messages::mark_read(conn, &ticket, for_manager)?;
    }
    let entries = entries(conn, &ticket, &affiliate, for_manager)?;
    let target = match (ticket.offer_id, ticket.smartlink_id) {
        (Some(o), _) => Some(Target::Offer(o)),
        (_, Some(s)) => Some(Target::Smartlink(s)),
        _ => None,
    };
    let access = match target {
        Some(target) if for_manager && ticket.kind.is_request() => {
            access::current_grant(conn, target, ticket.affiliate_id)?
        }
        _ => None,
    };
    let pushes = if for_manager && ticket.kind == super::states::TicketKind::OfferRequest {
        super::affise_push::of_ticket(conn, ticket.id)?
    } else {
        Vec::new()
    };
    Ok(Thread { ticket, affiliate, manager_name, offer, smartlink, access, pushes, entries })
}

/// A ticket with its affiliate, its manager's name and the offer or Smartlink it asks for.
type Head = (Ticket, Affiliate, Option<String>, Option<Offer>, Option<Smartlink>);

fn head(conn: &mut AnyConnection, ticket_id: i64) -> DomainResult<Option<Head>> {
    Ok(tickets::table
        .inner_join(affiliates::table)
        .left_join(users::table.on(tickets::manager_id.eq(users::id.nullable())))
        .left_join(offers::table)
        .left_join(smartlinks::table)
        .filter(tickets::id.eq(ticket_id))
        .select((
            Ticket::as_select(),
            Affiliate::as_select(),
            users::name.nullable(),
            Option::<Offer>::as_select(),
            Option::<Smartlink>::as_select(),
        ))
        .get_result::<Head>(conn)
        .optional()?)
}

/// The thread's messages in order with their attachments and authors' names;
/// internal notes only for managers.
fn entries(
    conn: &mut AnyConnection,
    ticket: &Ticket,
    affiliate: &Affiliate,
    for_manager: bool,
) -> DomainResult<Vec<ThreadEntry>> {
    // A message with two files comes back twice, once with each.
    let staff = users::table
        .on(users::id.nullable().eq(message_rows::author_id).and(message_rows::author_kind.ne(AuthorKind::Affiliate)));
    let mut q = message_rows::table
        .left_join(attachment_rows::table)
        .left_join(staff)
        .filter(message_rows::ticket_id.eq(ticket.id))
        .into_boxed();
    if !for_manager {
        q = q.filter(message_rows::internal.eq(false));
    }
    let rows: Vec<(Message, Option<Attachment>, Option<String>)> = q
        .order((message_rows::id.asc(), attachment_rows::id.asc()))
        .select((Message::as_select(), Option::<Attachment>::as_select(), users::name.nullable()))
        .load(conn)?;
    let mut entries: Vec<ThreadEntry> = Vec::new();
    for (message, attachment, staff_name) in rows {
        if entries.last().is_none_or(|e| e.message.id != message.id) {
            let author = match message.author_kind {
                AuthorKind::Affiliate => affiliate.name.clone(),
                AuthorKind::System => "System".to_string(),
                AuthorKind::Manager if for_manager => staff_name.unwrap_or_else(|| "Manager".into()),
                // Affiliates see their manager's name, as in a mail from them.
                AuthorKind::Manager => staff_name.unwrap_or_else(|| "Support".into()),
            };
            entries.push(ThreadEntry { message, author, attachments: Vec::new() });
        }
        if let (Some(a), Some(entry)) = (attachment, entries.last_mut()) {
            entry.attachments.push(a);
        }
    }
    Ok(entries)
}

/// A piece of message text: plain text, or a web address to show as a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Link(String),
}

/// Splits text into plain parts and http(s) links, so templates can make links
/// clickable while escaping everything else.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find_link_start(rest) {
        if start > 0 {
            out.push(Segment::Text(rest[..start].to_string()));
        }
        let tail = &rest[start..];
        let mut end = tail.find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"').unwrap_or(tail.len());
        // Trailing punctuation belongs to the sentence, not the address.
        while end > 0 && tail[..end].ends_with(['.', ',', ')', ';', ':', '!', '?', '\'']) {
            end -= 1;
        }
        out.push(Segment::Link(tail[..end].to_string()));
        rest = &tail[end..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest.to_string()));
    }
    out
}

fn find_link_start(s: &str) -> Option<usize> {
    match (s.find("https://"), s.find("http://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
