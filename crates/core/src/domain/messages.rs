//! The messages of a thread: replies and internal notes, what they do to the
//! ticket's counters, and the checks on what people type.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::access::{self, Decision};
use super::actor::{Actor, Who};
use super::attachments::{self, NewAttachment};
use super::lifecycle::Outcome;
use super::states::AuditAction;
use super::states::{AuthorKind, RequestState, TicketStatus};
use super::tickets::Ticket;
use super::{Acted, Effects, audit, notify, now, search, ticket_counts};
use crate::db::AnyConnection;
use crate::db::schema::{attachments as attachment_rows, messages, tickets};
use crate::error::{DomainError, DomainResult};
use crate::storage::{AttachmentStore, TempFile};

#[derive(Queryable, Selectable, Identifiable, Debug, Clone, PartialEq)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: i64,
    pub ticket_id: i64,
    pub author_kind: AuthorKind,
    pub author_id: Option<i64>,
    pub body: String,
    pub internal: bool,
    #[diesel(deserialize_as = crate::db::Stamp)]
    pub created_at: NaiveDateTime,
}

pub const MAX_TITLE: usize = 200;
pub const MAX_BODY: usize = 20_000;

/// Checks a title; the message is for the person who typed it. A title is one
/// line: line breaks become spaces.
pub fn check_title(title: &str) -> Result<String, String> {
    let one_line = title.replace("\r\n", " ").replace(['\r', '\n'], " ");
    let t = one_line.trim();
    if t.contains('\0') {
        Err("The title holds a NUL character.".into())
    } else if t.is_empty() {
        Err("Enter a title.".into())
    } else if t.chars().count() > MAX_TITLE {
        Err(format!("The title is too long (at most {MAX_TITLE} characters)."))
    } else {
        Ok(t.to_string())
    }
}

pub fn check_body(body: &str) -> Result<String, String> {
    let b = body.trim_end();
    if b.contains('\0') {
        Err("The message holds a NUL character.".into())
    } else if b.trim().is_empty() {
        Err("Write a message.".into())
    } else if b.chars().count() > MAX_BODY {
        Err(format!("The message is too long (at most {MAX_BODY} characters)."))
    } else {
        Ok(b.to_string())
    }
}

/// What someone wrote, and the form it came from: a form that is sent again (its
/// answer was lost to a network error or an outage) finds its message instead of
/// adding it twice.
#[derive(Clone, Copy, Debug)]
pub struct Draft<'a> {
    pub body: &'a str,
    /// The form's one-time token (the panels' hidden `submission` field, the
    /// API's `Idempotency-Key` header).
    pub submission: Option<&'a str>,
    /// The thread as the writer last saw it: if someone else changed it since, the
    /// message is not sent blindly (`DomainError::Conflict` says what changed).
    pub seen: Option<Seen>,
}

/// What a reply form was showing when it was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub last_message: i64,
    pub status: TicketStatus,
    pub request_state: Option<RequestState>,
}

impl<'a> Draft<'a> {
    pub fn new(body: &'a str) -> Draft<'a> {
        Draft { body, submission: None, seen: None }
    }

    pub fn from_form(body: &'a str, submission: &'a str) -> Draft<'a> {
        let token = submission.trim();
        let valid = (8..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        Draft { body, submission: valid.then_some(token), seen: None }
    }

    pub fn seen(self, seen: Option<Seen>) -> Draft<'a> {
        Draft { seen, ..self }
    }
}

/// What a manager's reply does besides adding the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    Stay,
    Close,
    /// "Send and wait": answered, now the affiliate owes a reply (status pending).
    Wait,
    /// Decide the ticket's access request (Approve and send, Reject and send).
    Decide(Decision),
}

impl From<bool> for Then {
    fn from(close: bool) -> Then {
        if close { Then::Close } else { Then::Stay }
    }
}

/// The variables of quick replies still in a manager's text: sent as they are, the
/// affiliate would read `{offer.title}`.
pub fn unfilled_variables(body: &str) -> Vec<&'static str> {
    super::reply_templates::VARIABLES.iter().map(|(name, _)| *name).filter(|name| body.contains(name)).collect()
}

/// The refusal for a text with unfilled variables, naming them.
pub fn unfilled_message(names: &[&str]) -> String {
    format!(
        "Replace {} with {} before sending: the affiliate would read {} as typed.",
        names.join(", "),
        if names.len() == 1 { "its value" } else { "their values" },
        if names.len() == 1 { "it" } else { "them" }
    )
}

/// A form's token as stored: its author's, so a token another person happens to
/// send (or guesses) never finds their message.
fn submission_key(actor: &Actor, token: &str) -> String {
    format!("{}:{}:{token}", actor.kind(), actor.id().unwrap_or(0))
}

/// The message this author's form already added to a ticket, if it was sent
/// before. The same token with other text is not a repeat: it is refused.
fn already_sent(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket_id: i64,
    draft: &Draft,
    body: &str,
) -> DomainResult<Option<Message>> {
    let Some(token) = draft.submission else { return Ok(None) };
    let found = messages::table
        .filter(messages::ticket_id.eq(ticket_id))
        .filter(messages::submission.eq(submission_key(actor, token)))
        .select(Message::as_select())
        .get_result(conn)
        .optional()?;
    match found {
        Some(m) if m.body != body => Err(DomainError::conflict(
            "A message with other text was already sent under this key (the form's or the Idempotency-Key): \
             reload the thread to see it, or send with a new key.",
        )),
        found => Ok(found),
    }
}

/// What a reply did.
#[derive(Clone, Debug, PartialEq)]
pub struct Replied {
    pub message: Message,
    /// The ticket's status before and after.
    pub status_before: TicketStatus,
    pub status: TicketStatus,
    /// The access request decided with the reply ("Approve and send").
    pub decided: Option<Decision>,
}

impl Replied {
    /// What was done, in words for the person who sent it.
    pub fn done_text(&self) -> &'static str {
        match (self.message.internal, self.status_before, self.status) {
            (true, _, _) => "Internal note added.",
            _ if self.decided == Some(Decision::Approve) => "Reply sent and request approved.",
            _ if self.decided == Some(Decision::Reject) => "Reply sent and request rejected.",
            (false, before, after) if before == after => "Reply sent.",
            (false, _, TicketStatus::Closed) => "Reply sent and ticket closed.",
            (false, _, TicketStatus::Pending) => "Reply sent; the ticket waits for the affiliate.",
            (false, _, TicketStatus::Open) => "Reply sent and ticket reopened.",
        }
    }
}

/// What a manager's message is: an internal note, or a reply and what follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sending {
    Note,
    Reply(Then),
}

/// Use case: a manager's message from the thread's one box, a reply or a note.
pub fn send(
    conn: &mut AnyConnection,
    store: &dyn AttachmentStore,
    actor: &Actor,
    ticket_id: i64,
    draft: Draft,
    sending: Sending,
    files: Vec<TempFile>,
) -> DomainResult<Acted<Replied>> {
    match sending {
        Sending::Note => add_note(conn, store, actor, ticket_id, draft, files),
        Sending::Reply(then) => reply(conn, store, actor, ticket_id, draft, then, files),
    }
}

/// Use case: reply to a ticket, with files. A manager's reply is an answer the
/// affiliate has not read yet, and may close the ticket ("reply and close"); an
/// affiliate's reply is unread for managers and reopens a closed ticket.
pub fn reply(
    conn: &mut AnyConnection,
    store: &dyn AttachmentStore,
    actor: &Actor,
    ticket_id: i64,
    draft: Draft,
    then: impl Into<Then>,
    files: Vec<TempFile>,
) -> DomainResult<Acted<Replied>> {
    if matches!(actor.who, Who::System) {
        return Err(DomainError::not_allowed("Only a manager or the affiliate can reply."));
    }
    let then = if actor.is_affiliate() { Then::Stay } else { then.into() };
    if !actor.is_affiliate() {
        let unfilled = unfilled_variables(draft.body);
        if !unfilled.is_empty() {
            return Err(DomainError::Invalid(unfilled_message(&unfilled)));
        }
    }
    let reply_text = draft.body.trim();
    add_message(conn, store, actor, ticket_id, draft, false, files, |conn, ticket, t| {
        if actor.is_affiliate() {
            diesel::update(tickets::table.find(ticket.id))
                .set((
                    tickets::affiliate_messages.eq(tickets::affiliate_messages + 1),
                    tickets::unread_by_manager.eq(tickets::unread_by_manager + 1),
                    tickets::unread_by_affiliate.eq(0),
                    tickets::status.eq(TicketStatus::Open),
                    tickets::updated_at.eq(t),
                    tickets::waiting_since.eq(ticket.waiting_since.or(Some(t))),
                ))
                .execute(conn)?;
            return Ok(After::status(TicketStatus::Open));
        }
        let status = match then {
            Then::Close => TicketStatus::Closed,
            Then::Wait => TicketStatus::Pending,
            Then::Stay | Then::Decide(_) => ticket.status,
        };
        diesel::update(tickets::table.find(ticket.id))
            .set((
                tickets::manager_answers.eq(tickets::manager_answers + 1),
                tickets::unread_by_affiliate.eq(tickets::unread_by_affiliate + 1),
                tickets::unread_by_manager.eq(0),
                tickets::status.eq(status),
                tickets::updated_at.eq(t),
                tickets::waiting_since.eq(None::<NaiveDateTime>),
                tickets::first_answer_at.eq(ticket.first_answer_at.or(Some(t))),
                tickets::closed_at.eq(if status == TicketStatus::Closed { Some(t) } else { ticket.closed_at }),
            ))
            .execute(conn)?;
        if let Then::Decide(decision) = then {
            // The decision closes the ticket and counts that itself.
            let mut tally = ticket_counts::Tally::default();
            // One email says both: the decision, with the reply's text.
            let told = access::Told::WithReply(reply_text);
            let (outcome, effects) =
                access::decide_locked(conn, actor, ticket, decision, "reply", &mut tally, told)?.into_parts();
            match outcome {
                Outcome::Done => tally.write(conn)?,
                Outcome::Skipped(why) => {
                    return Err(DomainError::conflict(format!("The request was not changed: {}.", why.reason())));
                }
            }
            return Ok(After { status: TicketStatus::Closed, counted: true, decided: Some(decision), effects });
        }
        Ok(After::status(status))
    })
}

/// Where a message left its ticket: its status, and whether a change of status was
/// already counted and audited (by a decision).
struct After {
    status: TicketStatus,
    counted: bool,
    /// The request decided with the message: the affiliate was already told of
    /// the message, in the decision's email.
    decided: Option<Decision>,
    /// What the decision asks of the instances.
    effects: Effects,
}

impl After {
    fn status(status: TicketStatus) -> After {
        After { status, counted: false, decided: None, effects: Effects::NONE }
    }
}

/// Use case: an internal note, with files: managers read it, the affiliate never
/// does. It changes no counter and no status.
pub fn add_note(
    conn: &mut AnyConnection,
    store: &dyn AttachmentStore,
    actor: &Actor,
    ticket_id: i64,
    draft: Draft,
    files: Vec<TempFile>,
) -> DomainResult<Acted<Replied>> {
    actor.as_staff()?;
    add_message(conn, store, actor, ticket_id, draft, true, files, |conn, ticket, t| {
        diesel::update(tickets::table.find(ticket.id)).set(tickets::updated_at.eq(t)).execute(conn)?;
        Ok(After::status(ticket.status))
    })
}

/// What a reply and a note share: the text is checked; in one write transaction
/// the ticket is locked, a form sent before finds its message, the message and its
/// files are recorded, `update` moves the ticket's counters and says its status,
/// and the totals, the search entry and the audit follow.
#[allow(clippy::too_many_arguments)]
fn add_message(
    conn: &mut AnyConnection,
    store: &dyn AttachmentStore,
    actor: &Actor,
    ticket_id: i64,
    draft: Draft,
    internal: bool,
    files: Vec<TempFile>,
    update: impl FnOnce(&mut AnyConnection, &Ticket, NaiveDateTime) -> DomainResult<After>,
) -> DomainResult<Acted<Replied>> {
    let body = check_body(draft.body).map_err(DomainError::Invalid)?;
    attachments::write_with_files(conn, store, files, |conn, new_files| {
        let ticket = Ticket::lock_visible(conn, &actor.scope(), ticket_id)?;
        if let Some(message) = already_sent(conn, actor, ticket.id, &draft, &body)? {
            let replied = Replied { message, status_before: ticket.status, status: ticket.status, decided: None };
            return Ok((Acted::quiet(replied), false));
        }
        if let Some(seen) = draft.seen {
            let changes = changes_since(conn, actor, &ticket, seen)?;
            if !changes.is_empty() {
                return Err(DomainError::conflict(format!("While you were writing, {}.", changes.join(", "))));
            }
        }
        let t = now();
        let key = draft.submission.map(|token| submission_key(actor, token));
        let new = NewMessage { internal, submission: key.as_deref(), ..NewMessage::by(actor, ticket.id, &body, t) };
        let message = insert_message(conn, &new, new_files)?;
        let After { status, counted, decided, effects } = update(conn, &ticket, t)?;
        if status != ticket.status && !counted {
            let mut tally = ticket_counts::Tally::default();
            tally.moved(ticket.manager_id, ticket.kind, ticket.status, status);
            tally.write(conn)?;
            let action = match status {
                TicketStatus::Open => AuditAction::Reopen,
                TicketStatus::Closed => AuditAction::Close,
                TicketStatus::Pending => AuditAction::Wait,
            };
            audit::record(conn, actor, action, Some(ticket.id), "reply")?;
        }
        search::reindex(conn, ticket.id)?;
        let change = match (internal, decided.is_some()) {
            (true, _) => notify::Change::Noted,
            (false, true) => notify::Change::RepliedWithDecision,
            (false, false) => notify::Change::Replied(&message),
        };
        let effects = effects | notify::ticket_changed(conn, actor, &ticket, change)?;
        let action = if internal { AuditAction::Note } else { AuditAction::Reply };
        audit::record(conn, actor, action, Some(ticket.id), &format!("message {}", message.id))?;
        Ok((Acted::new(Replied { message, status_before: ticket.status, status, decided }, effects), true))
    })
}

/// What others did to the ticket after the writer's form was opened, in words:
/// "Maria Lopez replied", "the ticket was closed", "the request was approved".
fn changes_since(conn: &mut AnyConnection, actor: &Actor, ticket: &Ticket, seen: Seen) -> DomainResult<Vec<String>> {
    use crate::db::schema::users;
    let mut q = messages::table
        .left_join(users::table.on(messages::author_id.eq(users::id.nullable())))
        .filter(messages::ticket_id.eq(ticket.id))
        .filter(messages::id.gt(seen.last_message))
        .filter(messages::author_kind.ne(AuthorKind::System))
        .into_boxed();
    if actor.is_affiliate() {
        q = q.filter(messages::internal.eq(false));
    }
    let newer: Vec<(AuthorKind, Option<i64>, bool, Option<String>)> = q
        .order(messages::id.asc())
        .select((messages::author_kind, messages::author_id, messages::internal, users::name.nullable()))
        .load(conn)?;
    let mut changes: Vec<String> = Vec::new();
    for (kind, author, internal, name) in newer {
        if kind == author_kind(actor) && author == actor.id() {
            continue;
        }
        let who = match kind {
            AuthorKind::Affiliate => "the affiliate".to_string(),
            _ => name.unwrap_or_else(|| "a manager".into()),
        };
        let what = if internal { format!("{who} added an internal note") } else { format!("{who} replied") };
        if !changes.contains(&what) {
            changes.push(what);
        }
    }
    if ticket.status != seen.status {
        changes.push(
            match ticket.status {
                TicketStatus::Open => "the ticket was reopened",
                TicketStatus::Closed => "the ticket was closed",
                TicketStatus::Pending => "the ticket was answered and waits on the affiliate",
            }
            .to_string(),
        );
    }
    if let Some(state) = ticket.request_state.filter(|s| Some(*s) != seen.request_state) {
        changes.push(format!("the request was {state}"));
    }
    Ok(changes)
}

/// How a message by `actor` is signed.
fn author_kind(actor: &Actor) -> AuthorKind {
    match actor.who {
        Who::Staff(_) => AuthorKind::Manager,
        Who::Affiliate(_) => AuthorKind::Affiliate,
        Who::System => AuthorKind::System,
    }
}

/// A message about to be written.
pub(crate) struct NewMessage<'a> {
    pub ticket_id: i64,
    pub author_kind: AuthorKind,
    pub author_id: Option<i64>,
    pub body: &'a str,
    pub internal: bool,
    pub at: NaiveDateTime,
    pub submission: Option<&'a str>,
}

impl<'a> NewMessage<'a> {
    /// What `actor` writes to a ticket (a reply, unless said otherwise).
    pub(crate) fn by(actor: &Actor, ticket_id: i64, body: &'a str, at: NaiveDateTime) -> NewMessage<'a> {
        let author_kind = author_kind(actor);
        NewMessage { ticket_id, author_kind, author_id: actor.id(), body, internal: false, at, submission: None }
    }

    /// What the desk writes itself (a decision), naming who decided.
    pub(crate) fn system(ticket_id: i64, by: Option<i64>, body: &'a str, at: NaiveDateTime) -> NewMessage<'a> {
        NewMessage {
            ticket_id,
            author_kind: AuthorKind::System,
            author_id: by,
            body,
            internal: false,
            at,
            submission: None,
        }
    }
}

/// How much of a message the ticket keeps as its last message's start (the list
/// shows the first words of it).
const PREVIEW_SOURCE_CHARS: usize = 600;

/// The first `PREVIEW_SOURCE_CHARS` characters of a message.
pub(crate) fn start_of(body: &str) -> &str {
    body.char_indices().nth(PREVIEW_SOURCE_CHARS).map_or(body, |(end, _)| &body[..end])
}

/// Writes a message with its files' rows, in the caller's transaction; a public
/// message becomes the ticket's last message.
pub(crate) fn insert_message(
    conn: &mut AnyConnection,
    new: &NewMessage,
    files: &[NewAttachment],
) -> DomainResult<Message> {
    let (ticket_id, at) = (new.ticket_id, new.at);
    let id: i64 = diesel::insert_into(messages::table)
        .values((
            messages::ticket_id.eq(ticket_id),
            messages::author_kind.eq(new.author_kind),
            messages::author_id.eq(new.author_id),
            messages::body.eq(new.body),
            messages::internal.eq(new.internal),
            messages::created_at.eq(at),
            messages::submission.eq(new.submission),
        ))
        .returning(messages::id)
        .get_result(conn)?;
    if !new.internal {
        diesel::update(tickets::table.find(ticket_id))
            .set((tickets::last_author_kind.eq(new.author_kind), tickets::last_preview.eq(start_of(new.body))))
            .execute(conn)?;
    }
    for f in files {
        diesel::insert_into(attachment_rows::table)
            .values((
                attachment_rows::message_id.eq(id),
                attachment_rows::file_name.eq(&f.file_name),
                attachment_rows::content_type.eq(&f.content_type),
                attachment_rows::size.eq(f.size),
                attachment_rows::sha256.eq(&f.sha256),
                attachment_rows::storage_key.eq(&f.storage_key),
                attachment_rows::created_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(messages::table.find(id).select(Message::as_select()).get_result(conn)?)
}

/// Opening a thread marks the other side's messages as read.
pub(crate) fn mark_read(conn: &mut AnyConnection, ticket: &Ticket, by_manager: bool) -> DomainResult<()> {
    if by_manager && ticket.unread_by_manager > 0 {
        diesel::update(tickets::table.find(ticket.id)).set(tickets::unread_by_manager.eq(0)).execute(conn)?;
    } else if !by_manager && ticket.unread_by_affiliate > 0 {
        diesel::update(tickets::table.find(ticket.id)).set(tickets::unread_by_affiliate.eq(0)).execute(conn)?;
    }
    Ok(())
}
