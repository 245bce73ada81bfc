//! The thread of a ticket: opening a ticket, replies, internal notes, and what they
//! do to the ticket's counters.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::kinds::TicketKind;
use super::tickets::Ticket;
use super::{Actor, audit, now, search, ticket_counts};
use crate::db::AnyConnection;
use crate::db::schema::{affiliates, attachments, messages, tickets};
use crate::error::{AppError, AppResult};

#[derive(Queryable, Selectable, Identifiable, Debug, Clone, PartialEq)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: i64,
    pub ticket_id: i64,
    pub author_kind: String,
    pub author_id: Option<i64>,
    pub body: String,
    pub internal: bool,
    pub created_at: NaiveDateTime,
}

/// A file already received into temporary storage, to be recorded with a message.
#[derive(Clone, Debug)]
pub struct NewAttachment {
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
}

pub const MAX_TITLE: usize = 200;
pub const MAX_BODY: usize = 20_000;

/// Checks a title; the message is for the person who typed it.
pub fn check_title(title: &str) -> Result<String, String> {
    let t = title.trim();
    if t.is_empty() {
        Err("Enter a title.".into())
    } else if t.chars().count() > MAX_TITLE {
        Err(format!("The title is too long (at most {MAX_TITLE} characters)."))
    } else {
        Ok(t.to_string())
    }
}

pub fn check_body(body: &str) -> Result<String, String> {
    let b = body.trim_end();
    if b.trim().is_empty() {
        Err("Write a message.".into())
    } else if b.chars().count() > MAX_BODY {
        Err(format!("The message is too long (at most {MAX_BODY} characters)."))
    } else {
        Ok(b.to_string())
    }
}

/// A new ticket, before it exists.
pub struct NewTicket {
    pub affiliate_id: i64,
    pub kind: TicketKind,
    pub title: String,
    pub body: String,
    pub offer_id: Option<i64>,
    pub smartlink_id: Option<i64>,
}

/// Opens a ticket with its first message (the body, with any files), for the
/// affiliate's manager. Runs in the caller's transaction.
pub fn open_ticket(
    conn: &mut AnyConnection,
    actor: &Actor,
    new: NewTicket,
    files: &[NewAttachment],
) -> AppResult<Ticket> {
    let manager_id: Option<i64> = affiliates::table
        .find(new.affiliate_id)
        .select(affiliates::manager_id)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    let by_affiliate = matches!(actor, Actor::Affiliate(_));
    let t = now();
    let id: i64 = diesel::insert_into(tickets::table)
        .values((
            tickets::affiliate_id.eq(new.affiliate_id),
            tickets::manager_id.eq(manager_id),
            tickets::kind.eq(new.kind.as_str()),
            tickets::status.eq("open"),
            tickets::request_state.eq(new.kind.is_request().then_some("pending")),
            tickets::offer_id.eq(new.offer_id),
            tickets::smartlink_id.eq(new.smartlink_id),
            tickets::title.eq(&new.title),
            tickets::description.eq(&new.body),
            tickets::created_at.eq(t),
            tickets::updated_at.eq(t),
            tickets::manager_answers.eq(if by_affiliate { 0 } else { 1 }),
            tickets::affiliate_messages.eq(if by_affiliate { 1 } else { 0 }),
            tickets::unread_by_manager.eq(if by_affiliate { 1 } else { 0 }),
            tickets::unread_by_affiliate.eq(if by_affiliate { 0 } else { 1 }),
        ))
        .returning(tickets::id)
        .get_result(conn)?;
    insert_message(conn, id, actor, &new.body, false, t, files)?;
    ticket_counts::adjust(conn, manager_id, "open", new.kind.as_str(), 1)?;
    search::reindex(conn, id)?;
    audit::record(conn, actor, "create", Some(id), new.kind.as_str())?;
    Ticket::find(conn, id)?.ok_or(AppError::NotFound)
}

/// What a reply does besides adding the message.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplyOptions {
    /// A note only managers see.
    pub internal: bool,
    /// Close the ticket after replying ("reply and close").
    pub close: bool,
}

/// Adds a reply (or an internal note) to a ticket, with its files, and updates the
/// counters: a manager's reply is an answer the affiliate has not read yet; an
/// affiliate's reply is unread for managers and reopens a closed ticket.
pub fn reply(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket: &Ticket,
    body: &str,
    options: ReplyOptions,
    files: &[NewAttachment],
) -> AppResult<Message> {
    let t = now();
    let by_affiliate = matches!(actor, Actor::Affiliate(_));
    let internal = options.internal && !by_affiliate;
    let message = insert_message(conn, ticket.id, actor, body, internal, t, files)?;
    let mut status = ticket.status.clone();
    if by_affiliate {
        diesel::update(tickets::table.find(ticket.id))
            .set((
                tickets::affiliate_messages.eq(tickets::affiliate_messages + 1),
                tickets::unread_by_manager.eq(tickets::unread_by_manager + 1),
                tickets::unread_by_affiliate.eq(0),
                tickets::status.eq("open"),
                tickets::updated_at.eq(t),
            ))
            .execute(conn)?;
        status = "open".into();
    } else if internal {
        diesel::update(tickets::table.find(ticket.id)).set(tickets::updated_at.eq(t)).execute(conn)?;
    } else {
        diesel::update(tickets::table.find(ticket.id))
            .set((
                tickets::manager_answers.eq(tickets::manager_answers + 1),
                tickets::unread_by_affiliate.eq(tickets::unread_by_affiliate + 1),
                tickets::unread_by_manager.eq(0),
                tickets::updated_at.eq(t),
            ))
            .execute(conn)?;
    }
    if options.close && !by_affiliate {
        diesel::update(tickets::table.find(ticket.id)).set(tickets::status.eq("closed")).execute(conn)?;
        status = "closed".into();
    }
    if status != ticket.status {
        ticket_counts::adjust(conn, ticket.manager_id, &ticket.status, &ticket.kind, -1)?;
        ticket_counts::adjust(conn, ticket.manager_id, &status, &ticket.kind, 1)?;
        audit::record(conn, actor, if status == "open" { "reopen" } else { "close" }, Some(ticket.id), "reply")?;
    }
    search::reindex(conn, ticket.id)?;
    audit::record(
        conn,
        actor,
        if internal { "note" } else { "reply" },
        Some(ticket.id),
        &format!("message {}", message.id),
    )?;
    Ok(message)
}

fn insert_message(
    conn: &mut AnyConnection,
    ticket_id: i64,
    actor: &Actor,
    body: &str,
    internal: bool,
    at: NaiveDateTime,
    files: &[NewAttachment],
) -> AppResult<Message> {
    let author_kind = match actor {
        Actor::Staff(_) => "manager",
        Actor::Affiliate(_) => "affiliate",
        Actor::System => "system",
    };
    let id: i64 = diesel::insert_into(messages::table)
        .values((
            messages::ticket_id.eq(ticket_id),
            messages::author_kind.eq(author_kind),
            messages::author_id.eq(actor.id()),
            messages::body.eq(body),
            messages::internal.eq(internal),
            messages::created_at.eq(at),
        ))
        .returning(messages::id)
        .get_result(conn)?;
    for f in files {
        diesel::insert_into(attachments::table)
            .values((
                attachments::message_id.eq(id),
                attachments::file_name.eq(&f.file_name),
                attachments::content_type.eq(&f.content_type),
                attachments::size.eq(f.size),
                attachments::sha256.eq(&f.sha256),
                attachments::storage_key.eq(&f.storage_key),
                attachments::created_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(messages::table.find(id).select(Message::as_select()).first(conn)?)
}

/// The thread in order, oldest first; without internal notes for affiliates.
pub fn thread(conn: &mut AnyConnection, ticket_id: i64, include_internal: bool) -> AppResult<Vec<Message>> {
    let mut q = messages::table.filter(messages::ticket_id.eq(ticket_id)).into_boxed();
    if !include_internal {
        q = q.filter(messages::internal.eq(false));
    }
    Ok(q.order(messages::id.asc()).select(Message::as_select()).load(conn)?)
}

/// Opening a thread marks the other side's messages as read.
pub fn mark_read(conn: &mut AnyConnection, ticket: &Ticket, by_manager: bool) -> AppResult<()> {
    if by_manager && ticket.unread_by_manager > 0 {
        diesel::update(tickets::table.find(ticket.id)).set(tickets::unread_by_manager.eq(0)).execute(conn)?;
    } else if !by_manager && ticket.unread_by_affiliate > 0 {
        diesel::update(tickets::table.find(ticket.id)).set(tickets::unread_by_affiliate.eq(0)).execute(conn)?;
    }
    Ok(())
}
