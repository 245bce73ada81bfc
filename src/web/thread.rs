//! Ticket threads in both panels: reading, replying with attachments, quick-reply
//! templates, and attachment downloads.

use actix_multipart::Multipart;
use actix_web::http::header::{self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::{AffiliateSession, StaffSession};
use super::upload::{self, Upload};
use super::{AppState, PageCtx, is_htmx, redirect, set_flash};
use crate::domain::attachments::{self, Attachment};
use crate::domain::messages::{self, ReplyOptions};
use crate::domain::reply_templates::{self, Filled, ReplyTemplate, TemplateValues};
use crate::domain::threads::{self, Segment, Thread};
use crate::domain::tickets::{Scope, Ticket};
use crate::error::{AppError, AppResult};

/// What the reply form shows: the text so far, and what is wrong with it.
#[derive(Default)]
pub struct ReplyForm {
    pub body: String,
    pub internal: bool,
    pub errors: Vec<(&'static str, String)>,
    /// Variables a chosen template could not fill.
    pub warning: Option<String>,
    pub template_id: Option<i64>,
}

impl ReplyForm {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
    pub fn is_template(&self, id: &i64) -> bool {
        self.template_id == Some(*id)
    }
}

#[derive(Template)]
#[template(path = "thread.html")]
struct ThreadPage {
    ctx: PageCtx,
    thread: Thread,
    templates: Vec<ReplyTemplate>,
    form: ReplyForm,
    for_manager: bool,
}

#[derive(Template)]
#[template(path = "_conversation.html")]
struct Conversation {
    ctx: PageCtx,
    thread: Thread,
    templates: Vec<ReplyTemplate>,
    form: ReplyForm,
    for_manager: bool,
}

#[derive(Template)]
#[template(path = "_reply_body.html")]
struct ReplyBodyField {
    form: ReplyForm,
}

/// For templates: a message's text as plain parts and links.
pub fn segments(text: &str) -> Vec<Segment> {
    threads::segments(text)
}

fn html(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body)
}

fn page(
    ctx: PageCtx,
    thread: Thread,
    templates: Vec<ReplyTemplate>,
    form: ReplyForm,
    for_manager: bool,
    htmx: bool,
    status: actix_web::http::StatusCode,
) -> AppResult<HttpResponse> {
    let body = if htmx {
        Conversation { ctx, thread, templates, form, for_manager }.render()
    } else {
        ThreadPage { ctx, thread, templates, form, for_manager }.render()
    }
    .map_err(AppError::internal)?;
    Ok(html(status, body))
}

async fn load_for_staff(
    state: &AppState,
    staff: &StaffSession,
    id: i64,
    mark_read: bool,
) -> AppResult<(Thread, Vec<ReplyTemplate>)> {
    let scope = Scope::of_staff(&staff.user.staff_ref());
    state
        .db(move |conn| {
            let ticket = Ticket::find_visible(conn, &scope, id)?.ok_or(AppError::NotFound)?;
            if mark_read {
                messages::mark_read(conn, &ticket, true)?;
            }
            let thread = threads::load(conn, ticket, true)?;
            let templates = reply_templates::list(conn)?.into_iter().map(|r| r.template).collect();
            Ok((thread, templates))
        })
        .await
}

/// `GET /admin/tickets/{id}`: the thread; opening it marks the affiliate's messages read.
pub async fn admin_show(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (thread, templates) = load_for_staff(&state, &staff, path.into_inner(), true).await?;
    page(staff.page("tickets"), thread, templates, ReplyForm::default(), true, false, actix_web::http::StatusCode::OK)
}

fn template_values(thread: &Thread, manager_name: &str) -> TemplateValues {
    TemplateValues {
        affiliate_name: thread.affiliate.name.clone(),
        affiliate_id: thread.affiliate.id,
        manager_name: manager_name.to_string(),
        ticket_id: thread.ticket.id,
        ticket_title: thread.ticket.title.clone(),
        offer_title: thread.offer.as_ref().map(|o| o.title.clone()),
        offer_id: thread.offer.as_ref().map(|o| o.id),
    }
}

fn apply_template(
    form: &mut ReplyForm,
    templates: &[ReplyTemplate],
    template_id: Option<i64>,
    values: &TemplateValues,
) {
    let Some(t) = template_id.and_then(|id| templates.iter().find(|t| t.id == id)) else {
        form.errors.push(("template_id", "Choose a template.".into()));
        return;
    };
    let Filled { text, missing } = reply_templates::fill(&t.body, values);
    form.body = if form.body.trim().is_empty() { text } else { format!("{}\n\n{}", form.body.trim_end(), text) };
    form.template_id = Some(t.id);
    if !missing.is_empty() {
        form.warning = Some(format!(
            "This ticket has no value for {}: replace {} before sending.",
            missing.join(", "),
            if missing.len() == 1 { "it" } else { "them" }
        ));
    }
}

#[derive(Deserialize)]
pub struct TemplateQuery {
    template_id: Option<String>,
    body: Option<String>,
}

/// `GET /admin/tickets/{id}/template?template_id=N`: the reply text with the
/// template filled in (htmx swaps it into the form).
pub async fn admin_template(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<i64>,
    query: web::Query<TemplateQuery>,
) -> AppResult<HttpResponse> {
    let (thread, templates) = load_for_staff(&state, &staff, path.into_inner(), false).await?;
    let q = query.into_inner();
    let mut form = ReplyForm { body: q.body.unwrap_or_default(), ..Default::default() };
    let values = template_values(&thread, &staff.user.name);
    apply_template(&mut form, &templates, q.template_id.and_then(|v| v.parse().ok()), &values);
    let body = ReplyBodyField { form }.render().map_err(AppError::internal)?;
    Ok(html(actix_web::http::StatusCode::OK, body))
}

/// `POST /admin/tickets/{id}/messages`: a reply or internal note, with files.
pub async fn admin_reply(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<i64>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let upload = upload::read(&req, payload, state.storage.as_ref()).await?;
    let htmx = is_htmx(&req);
    let (thread, templates) = load_for_staff(&state, &staff, id, false).await?;
    let mut form = ReplyForm { body: upload.text("body"), internal: upload.flag("internal"), ..Default::default() };
    if upload.fields.contains_key("use_template") {
        // Without JavaScript: "Use template" re-shows the form with the text filled.
        let values = template_values(&thread, &staff.user.name);
        apply_template(&mut form, &templates, upload.text("template_id").parse().ok(), &values);
        return page(staff.page("tickets"), thread, templates, form, true, htmx, actix_web::http::StatusCode::OK);
    }
    let Some(body) = checked_body(&upload, &mut form) else {
        return page(
            staff.page("tickets"),
            thread,
            templates,
            form,
            true,
            htmx,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let options = ReplyOptions { internal: form.internal, close: upload.fields.contains_key("close") };
    save_reply(&state, staff.actor(), thread.ticket.clone(), body, options, upload.files).await?;
    let done = if options.internal {
        "Internal note added."
    } else if options.close {
        "Reply sent and ticket closed."
    } else {
        "Reply sent."
    };
    if htmx {
        let (thread, templates) = load_for_staff(&state, &staff, id, false).await?;
        let mut ctx = staff.page("tickets");
        ctx.flash = Some(super::Flash { kind: "success".into(), text: done.into() });
        return page(ctx, thread, templates, ReplyForm::default(), true, true, actix_web::http::StatusCode::OK);
    }
    set_flash(&staff.session, "success", done);
    Ok(redirect(&format!("/admin/tickets/{id}")))
}

/// Records a reply and moves its files into place, in one transaction.
async fn save_reply(
    state: &AppState,
    actor: crate::domain::Actor,
    ticket: Ticket,
    body: String,
    options: ReplyOptions,
    files: Vec<upload::TempFile>,
) -> AppResult<()> {
    let store = state.storage.clone();
    state
        .db(move |conn| {
            upload::save_with(conn, store.as_ref(), files, |conn, new| {
                messages::reply(conn, &actor, &ticket, &body, options, new)
            })
        })
        .await
        .map(|_| ())
}

/// The reply text if it and the files are acceptable; otherwise the form learns why.
fn checked_body(upload: &Upload, form: &mut ReplyForm) -> Option<String> {
    let body = messages::check_body(&form.body).map_err(|e| form.errors.push(("body", e))).ok();
    if let Some(e) = upload.file_error() {
        form.errors.push(("files", e));
    }
    body.filter(|_| form.errors.is_empty())
}

/// `GET /affiliate/tickets/{id}`: the affiliate's own ticket, without internal notes.
pub async fn affiliate_show(
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let thread = load_for_affiliate(&state, &affiliate, path.into_inner(), true).await?;
    page(
        affiliate.page("support"),
        thread,
        Vec::new(),
        ReplyForm::default(),
        false,
        false,
        actix_web::http::StatusCode::OK,
    )
}

async fn load_for_affiliate(
    state: &AppState,
    affiliate: &AffiliateSession,
    id: i64,
    mark_read: bool,
) -> AppResult<Thread> {
    let scope = Scope::Affiliate(affiliate.affiliate.id);
    state
        .db(move |conn| {
            let ticket = Ticket::find_visible(conn, &scope, id)?.ok_or(AppError::NotFound)?;
            if mark_read {
                messages::mark_read(conn, &ticket, false)?;
            }
            threads::load(conn, ticket, false)
        })
        .await
}

/// `POST /affiliate/tickets/{id}/messages`: replying reopens a closed ticket.
pub async fn affiliate_reply(
    req: HttpRequest,
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    path: web::Path<i64>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let upload = upload::read(&req, payload, state.storage.as_ref()).await?;
    let htmx = is_htmx(&req);
    let thread = load_for_affiliate(&state, &affiliate, id, false).await?;
    let mut form = ReplyForm { body: upload.text("body"), ..Default::default() };
    let Some(body) = checked_body(&upload, &mut form) else {
        return page(
            affiliate.page("support"),
            thread,
            Vec::new(),
            form,
            false,
            htmx,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    save_reply(&state, affiliate.actor(), thread.ticket.clone(), body, ReplyOptions::default(), upload.files).await?;
    if htmx {
        let thread = load_for_affiliate(&state, &affiliate, id, false).await?;
        let mut ctx = affiliate.page("support");
        ctx.flash = Some(super::Flash { kind: "success".into(), text: "Message sent.".into() });
        return page(ctx, thread, Vec::new(), ReplyForm::default(), false, true, actix_web::http::StatusCode::OK);
    }
    set_flash(&affiliate.session, "success", "Message sent.");
    Ok(redirect(&format!("/affiliate/tickets/{id}")))
}

/// `GET /admin/attachments/{id}`: only for managers who may see the ticket.
pub async fn admin_download(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let scope = Scope::of_staff(&staff.user.staff_ref());
    download(&state, path.into_inner(), move |ticket, _internal| scope.allows(ticket)).await
}

/// `GET /affiliate/attachments/{id}`: only the affiliate's own, never from internal notes.
pub async fn affiliate_download(
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let scope = Scope::Affiliate(affiliate.affiliate.id);
    download(&state, path.into_inner(), move |ticket, internal| !internal && scope.allows(ticket)).await
}

/// Sends an attachment if `allowed(ticket, internal)` says the requester may see it;
/// 404 otherwise, as if it did not exist. Shared by both panels and the API.
pub async fn download(
    state: &AppState,
    id: i64,
    allowed: impl FnOnce(&Ticket, bool) -> bool + Send + 'static,
) -> AppResult<HttpResponse> {
    let store = state.storage.clone();
    let (attachment, bytes) = state
        .db(move |conn| {
            let (attachment, ticket_id, internal) =
                attachments::find_with_ticket(conn, id)?.ok_or(AppError::NotFound)?;
            let ticket = Ticket::find(conn, ticket_id)?.ok_or(AppError::NotFound)?;
            if !allowed(&ticket, internal) {
                return Err(AppError::NotFound);
            }
            let mut file = store.open(&attachment.storage_key).map_err(|_| AppError::NotFound)?;
            let mut bytes = Vec::with_capacity(attachment.size as usize);
            std::io::Read::read_to_end(&mut file, &mut bytes)?;
            Ok((attachment, bytes))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, attachment.content_type.clone()))
        .insert_header(content_disposition(&attachment))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}

/// `attachment; filename="ascii"; filename*=UTF-8''...`: the original name, safely.
fn content_disposition(a: &Attachment) -> ContentDisposition {
    let ascii: String =
        a.file_name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' { c } else { '_' }).collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: a.file_name.as_bytes().to_vec(),
            }),
        ],
    }
}
