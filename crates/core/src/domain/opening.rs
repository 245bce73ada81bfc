//! Opening a ticket: a question an affiliate asks their manager, or one a manager
//! opens for an affiliate (the list's Add action). Access requests open theirs
//! through `requests`.

use diesel::prelude::*;

use super::actor::{Actor, Who};
use super::affiliates::{self, Affiliate};
use super::attachments::{self, NewAttachment};
use super::states::AuditAction;
use super::states::{AffiliateStatus, RequestState, TicketKind, TicketStatus};
use super::tickets::Ticket;
use super::{Acted, audit, messages, notify, now, search, ticket_counts};
use crate::db::AnyConnection;
use crate::db::schema::tickets;
use crate::error::{DomainError, DomainResult};
use crate::storage::{AttachmentStore, TempFile};

/// A question as typed: checked by `open_question`.
#[derive(Clone, Debug)]
pub struct NewQuestion {
    /// The affiliate it is for; a manager names one, an affiliate asks for themself.
    pub affiliate_id: Option<i64>,
    pub kind: TicketKind,
    pub title: String,
    pub body: String,
}

/// Why a question was not opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenRefused {
    /// No such affiliate among the manager's own.
    AffiliateNotYours(i64),
    /// Only active affiliates open tickets.
    AffiliateNotActive(AffiliateStatus),
}

impl OpenRefused {
    pub fn text(&self) -> String {
        match self {
            OpenRefused::AffiliateNotYours(id) => format!("There is no affiliate with ID {id} among yours."),
            OpenRefused::AffiliateNotActive(status) => format!(
                "The account is {}: only active accounts can open tickets and access requests.",
                status.label().to_lowercase()
            ),
        }
    }
}

/// Use case: open a question (general, financial, technical, other) with files, for
/// the affiliate's manager.
pub fn open_question(
    conn: &mut AnyConnection,
    store: &dyn AttachmentStore,
    actor: &Actor,
    question: NewQuestion,
    files: Vec<TempFile>,
) -> DomainResult<Acted<Result<Ticket, OpenRefused>>> {
    if !question.kind.is_question() {
        return Err(DomainError::invalid("Choose the type of question."));
    }
    let title = messages::check_title(&question.title).map_err(DomainError::Invalid)?;
    let body = messages::check_body(&question.body).map_err(DomainError::Invalid)?;
    let affiliate_id = match (&actor.who, question.affiliate_id) {
        (Who::Affiliate(p), _) => p.id,
        (Who::Staff(_) | Who::System, Some(id)) => id,
        (_, None) => return Err(DomainError::invalid("Enter the affiliate's ID.")),
    };
    attachments::write_with_files(conn, store, files, |conn, new_files| {
        let affiliate = match affiliates::visible_to(conn, actor, affiliate_id)? {
            Some(a) => a,
            None => return Ok((Acted::quiet(Err(OpenRefused::AffiliateNotYours(affiliate_id))), false)),
        };
        if actor.is_affiliate() && !affiliate.is_active() {
            return Ok((Acted::quiet(Err(OpenRefused::AffiliateNotActive(affiliate.status))), false));
        }
        let target = Target { kind: question.kind, offer_id: None, smartlink_id: None };
        let opened = insert_ticket(conn, actor, &affiliate, target, &title, &body, new_files)?;
        Ok((opened.map(Ok), true))
    })
}

/// What a new ticket is about.
pub(crate) struct Target {
    pub kind: TicketKind,
    pub offer_id: Option<i64>,
    pub smartlink_id: Option<i64>,
}

/// Writes a new ticket with its first message, its totals, its search entry and its
/// audit entry, in the caller's transaction.
pub(crate) fn insert_ticket(
    conn: &mut AnyConnection,
    actor: &Actor,
    affiliate: &Affiliate,
    target: Target,
    title: &str,
    body: &str,
    files: &[NewAttachment],
) -> DomainResult<Acted<Ticket>> {
    let by_affiliate = actor.is_affiliate();
    let t = now();
    let id: i64 = diesel::insert_into(tickets::table)
        .values((
            tickets::affiliate_id.eq(affiliate.id),
            tickets::manager_id.eq(affiliate.manager_id),
            tickets::kind.eq(target.kind),
            tickets::status.eq(TicketStatus::Open),
            tickets::request_state.eq(target.kind.is_request().then_some(RequestState::Pending)),
            tickets::offer_id.eq(target.offer_id),
            tickets::smartlink_id.eq(target.smartlink_id),
            tickets::title.eq(title),
            tickets::description.eq(body),
            tickets::created_at.eq(t),
            tickets::updated_at.eq(t),
            tickets::manager_answers.eq(if by_affiliate { 0 } else { 1 }),
            tickets::affiliate_messages.eq(if by_affiliate { 1 } else { 0 }),
            tickets::unread_by_manager.eq(if by_affiliate { 1 } else { 0 }),
            tickets::unread_by_affiliate.eq(if by_affiliate { 0 } else { 1 }),
            tickets::waiting_since.eq(by_affiliate.then_some(t)),
            // A ticket a manager opens starts with their words: there is no first
            // answer to wait for (the reports leave it out of response times).
            tickets::first_answer_at.eq((!by_affiliate).then_some(t)),
        ))
        .returning(tickets::id)
        .get_result(conn)?;
    messages::insert_message(conn, &messages::NewMessage::by(actor, id, body, t), files)?;
    ticket_counts::adjust(conn, affiliate.manager_id, TicketStatus::Open, target.kind, 1)?;
    search::reindex(conn, id)?;
    audit::record(conn, actor, AuditAction::Create, Some(id), target.kind.as_str())?;
    let ticket = Ticket::find(conn, id)?.ok_or(DomainError::NotFound)?;
    let effects = notify::ticket_changed(conn, actor, &ticket, notify::Change::Opened)?;
    Ok(Acted::new(ticket, effects))
}
