//! Opening a ticket: the managers' Add form and the affiliates' New ticket form
//! share the fields, the checks and the attachment handling.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::{AffiliateSession, StaffSession};
use super::{AppState, FlashKind, PageCtx, redirect, set_flash};
use crate::domain::Actor;
use crate::domain::affiliates::{self, Affiliate};
use crate::domain::messages;
use crate::domain::opening::{self, NewQuestion, OpenRefused};
use crate::domain::tickets::{Ticket, TicketKind};
use crate::error::{AppError, AppResult};
use crate::http::paths;
use crate::http::upload::{self, Upload};
use crate::storage::TempFile;

/// What was typed, and what is wrong with it, field by field.
#[derive(Default)]
pub struct TicketForm {
    pub affiliate_id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub errors: Vec<(&'static str, String)>,
}

impl TicketForm {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
    pub fn kinds(&self) -> Vec<(&'static str, &'static str, bool)> {
        TicketKind::QUESTIONS.iter().map(|k| (k.as_str(), k.label(), self.kind == k.as_str())).collect()
    }
}

#[derive(Template)]
#[template(path = "ticket_new.html")]
struct NewTicketPage {
    ctx: PageCtx,
    form: TicketForm,
    for_manager: bool,
    blocked: Option<String>,
}

impl NewTicketPage {
    /// Where the form posts, and where Cancel leads: the panel's ticket list.
    fn action(&self) -> &'static str {
        if self.for_manager { "/admin/tickets" } else { "/affiliate/tickets" }
    }

    fn respond(self, req: &HttpRequest, status: actix_web::http::StatusCode) -> AppResult<HttpResponse> {
        Ok(super::html(req, self, status))
    }
}

#[derive(Deserialize)]
pub struct NewQuery {
    affiliate_id: Option<String>,
}

pub async fn admin_form(req: HttpRequest, staff: StaffSession, query: web::Query<NewQuery>) -> AppResult<HttpResponse> {
    let form = TicketForm {
        affiliate_id: query.into_inner().affiliate_id.unwrap_or_default(),
        kind: "general".into(),
        ..Default::default()
    };
    NewTicketPage { ctx: staff.page("tickets"), form, for_manager: true, blocked: None }
        .respond(&req, actix_web::http::StatusCode::OK)
}

/// Checks the common fields; returns the question to open if all are right.
fn check(upload: &Upload, form: &mut TicketForm, affiliate_id: Option<i64>) -> Option<NewQuestion> {
    form.kind = upload.text("type");
    form.title = upload.text("title");
    form.body = upload.text("body");
    let kind = TicketKind::parse(form.kind.trim()).filter(|k| k.is_question());
    if kind.is_none() {
        form.errors.push(("type", "Choose the type of question.".into()));
    }
    let title = messages::check_title(&form.title).map_err(|e| form.errors.push(("title", e))).ok();
    let body = messages::check_body(&form.body).map_err(|e| form.errors.push(("body", e))).ok();
    if let Some(e) = upload.file_error() {
        form.errors.push(("files", e));
    }
    match (kind, title, body) {
        (Some(kind), Some(title), Some(body)) if form.errors.is_empty() => {
            Some(NewQuestion { affiliate_id, kind, title, body })
        }
        _ => None,
    }
}

/// `POST /admin/tickets`: the Add action.
pub async fn admin_create(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let upload = upload::read(&req, payload, state.storage.as_ref()).await?;
    let mut form = TicketForm { affiliate_id: upload.text("affiliate_id").trim().to_string(), ..Default::default() };
    let affiliate_id = if form.affiliate_id.is_empty() {
        form.errors.push(("affiliate_id", "Enter the affiliate's ID or name.".into()));
        None
    } else {
        let (actor, text) = (staff.actor(), form.affiliate_id.clone());
        match state.db(move |conn| Ok(affiliates::resolve(conn, &actor, &text)?)).await? {
            Ok(id) => Some(id),
            Err(why) => {
                form.errors.push(("affiliate_id", why));
                None
            }
        }
    };
    let question = check(&upload, &mut form, affiliate_id);
    let opened = match (question, affiliate_id) {
        (Some(q), Some(_)) => Some(open(&state, staff.actor(), q, upload.files).await?),
        (None, Some(id)) => {
            // The form comes back anyway: say at once if the affiliate is not one of theirs.
            let actor = staff.actor();
            let found = state.db(move |conn| Ok(affiliates::visible_to(conn, &actor, id)?)).await?;
            found.is_none().then_some(Err(OpenRefused::AffiliateNotYours(id)))
        }
        _ => None,
    };
    match opened {
        Some(Ok(ticket)) => {
            set_flash(&staff.session, FlashKind::Success, format!("Ticket {} created: {}", ticket.id, ticket.title));
            Ok(redirect("/admin/tickets"))
        }
        refused => {
            if let Some(Err(why)) = refused {
                form.errors.push(("affiliate_id", why.text()));
            }
            NewTicketPage { ctx: staff.page("tickets"), form, for_manager: true, blocked: None }
                .respond(&req, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// Opens the question with its files.
async fn open(
    state: &AppState,
    actor: Actor,
    question: NewQuestion,
    files: Vec<TempFile>,
) -> AppResult<Result<Ticket, OpenRefused>> {
    state.act_with_store(move |conn, store| Ok(opening::open_question(conn, store, &actor, question, files)?)).await
}

/// Why an affiliate may not open tickets, in words, or `None` if they may.
pub fn affiliate_block_reason(affiliate: &Affiliate) -> Option<String> {
    (!affiliate.is_active()).then(|| {
        format!(
            "Your account is {}: only active accounts can open tickets and access requests. Contact your manager.",
            affiliate.status_label().to_lowercase()
        )
    })
}

pub async fn affiliate_form(req: HttpRequest, affiliate: AffiliateSession) -> AppResult<HttpResponse> {
    let blocked = affiliate_block_reason(&affiliate.affiliate);
    let form = TicketForm { kind: "general".into(), ..Default::default() };
    NewTicketPage { ctx: affiliate.page("support"), form, for_manager: false, blocked }
        .respond(&req, actix_web::http::StatusCode::OK)
}

/// `POST /affiliate/tickets`: a question to the affiliate's manager.
pub async fn affiliate_create(
    req: HttpRequest,
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let upload = upload::read(&req, payload, state.storage.as_ref()).await?;
    if let Some(reason) = affiliate_block_reason(&affiliate.affiliate) {
        return Err(AppError::forbidden(reason));
    }
    let mut form = TicketForm::default();
    let Some(question) = check(&upload, &mut form, None) else {
        return NewTicketPage { ctx: affiliate.page("support"), form, for_manager: false, blocked: None }
            .respond(&req, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY);
    };
    match open(&state, affiliate.actor(), question, upload.files).await? {
        Ok(ticket) => {
            set_flash(
                &affiliate.session,
                FlashKind::Success,
                format!("Your ticket {} was sent to your manager.", ticket.id),
            );
            Ok(redirect(&paths::affiliate_ticket(ticket.id)))
        }
        Err(why) => Err(AppError::forbidden(why.text())),
    }
}
