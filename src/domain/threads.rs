//! A ticket's thread as people read it: messages with their authors' names and
//! attachments, loaded with a fixed number of queries whatever its length.

use std::collections::HashMap;

use super::access::{self, Target};
use super::actor::Actor;
use super::affiliates::Affiliate;
use super::attachments::{self, Attachment};
use super::catalogue::{Offer, Smartlink};
use super::messages::{self, Message, Seen};
use super::states::{AccessSource, AuthorKind};
use super::tickets::Ticket;
use crate::db::AnyConnection;
use crate::error::{AppError, AppResult};

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
        let activate = format!("Activate: {who} gets access to {target}, and the ticket closes.");
        let reject = match self.access {
            Some(AccessSource::Manual) => {
                format!(
                    "Reject: the ticket closes and the access {who} has to {target} now, granted by hand, is revoked."
                )
            }
            Some(AccessSource::Ticket) => format!(
                "Reject: the ticket closes and the access {who} has to {target} now, granted by an approved request, is revoked."
            ),
            None => format!("Reject: {who} gets no access to {target}, and the ticket closes."),
        };
        Some((activate, reject))
    }
}

/// Use case: read a ticket's thread, as the actor may see it (internal notes only
/// for managers); `mark_read` marks the other side's messages read, as opening it does.
pub fn read(conn: &mut AnyConnection, actor: &Actor, ticket_id: i64, mark_read: bool) -> AppResult<Thread> {
    let ticket = Ticket::find_visible(conn, &actor.scope(), ticket_id)?;
    let for_manager = !actor.is_affiliate();
    if mark_read {
        messages::mark_read(conn, &ticket, for_manager)?;
    }
    load(conn, ticket, for_manager)
}

/// Loads a ticket's thread; internal notes only for managers.
fn load(conn: &mut AnyConnection, ticket: Ticket, for_manager: bool) -> AppResult<Thread> {
    let affiliate = Affiliate::find(conn, ticket.affiliate_id)?.ok_or(AppError::NotFound)?;
    let offer = match ticket.offer_id {
        Some(id) => Offer::find(conn, id)?,
        None => None,
    };
    let smartlink = match ticket.smartlink_id {
        Some(id) => Smartlink::find(conn, id)?,
        None => None,
    };
    let messages = messages::thread(conn, ticket.id, for_manager)?;
    let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
    let mut files: HashMap<i64, Vec<Attachment>> = HashMap::new();
    for a in attachments::for_messages(conn, &ids)? {
        files.entry(a.message_id).or_default().push(a);
    }
    let mut staff_ids: Vec<i64> =
        messages.iter().filter(|m| m.author_kind != AuthorKind::Affiliate).filter_map(|m| m.author_id).collect();
    staff_ids.extend(ticket.manager_id);
    let names = super::users::names(conn, &staff_ids)?;
    let entries = messages
        .into_iter()
        .map(|m| {
            let author = match m.author_kind {
                AuthorKind::Affiliate => affiliate.name.clone(),
                AuthorKind::System => "System".to_string(),
                AuthorKind::Manager if for_manager => {
                    m.author_id.and_then(|id| names.get(&id).cloned()).unwrap_or_else(|| "Manager".into())
                }
                // Affiliates see their manager's name, as in a mail from them.
                AuthorKind::Manager => {
                    m.author_id.and_then(|id| names.get(&id).cloned()).unwrap_or_else(|| "Support".into())
                }
            };
            ThreadEntry { attachments: files.remove(&m.id).unwrap_or_default(), author, message: m }
        })
        .collect();
    let manager_name = ticket.manager_id.and_then(|id| names.get(&id).cloned());
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
    Ok(Thread { ticket, affiliate, manager_name, offer, smartlink, access, entries })
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
