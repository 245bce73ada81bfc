//! Ticket threads in both panels: reading, replying with attachments, quick-reply
//! templates, and attachment downloads.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::{AffiliateSession, StaffSession};
use super::{AppState, FlashKind, PageCtx, is_htmx, path_id, redirect, set_flash};
use crate::domain::Actor;
use crate::domain::messages::{self, Draft, Replied};
use crate::domain::reply_templates::{self, Filled, ReplyTemplate};
use crate::domain::threads::{self, Segment, Thread};
use crate::error::{AppError, AppResult};
use crate::http::download;
use crate::http::upload::{self, Upload};

/// What the reply form shows: the text so far, and what is wrong with it.
pub struct ReplyForm {
    pub body: String,
    /// This form's one-time token: sent twice, it adds its message once.
    pub submission: String,
    pub internal: bool,
    pub errors: Vec<(&'static str, String)>,
    /// Variables a chosen template could not fill.
    pub warning: Option<String>,
    pub template_id: Option<i64>,
}

impl Default for ReplyForm {
    fn default() -> Self {
        ReplyForm {
            body: String::new(),
            submission: crate::domain::random_token(16),
            internal: false,
            errors: Vec::new(),
            warning: None,
            template_id: None,
        }
    }
}

impl ReplyForm {
    /// The form as it was sent, to show again: its text and its token.
    fn sent(upload: &Upload) -> ReplyForm {
        let mut form = ReplyForm { body: upload.text("body"), ..Default::default() };
        let token = upload.text("submission");
        if !token.trim().is_empty() {
            form.submission = token;
        }
        form
    }

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
#[template(path = "_conversation_swap.html")]
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

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body)
}

/// A thread as the page shows it: what it needs besides the thread itself.
struct View {
    ctx: PageCtx,
    thread: Thread,
    templates: Vec<ReplyTemplate>,
    form: ReplyForm,
}

impl View {
    fn respond(self, htmx: bool, status: StatusCode) -> AppResult<HttpResponse> {
        let View { ctx, thread, templates, form } = self;
        let for_manager = ctx.is_admin_panel();
        let body = if htmx {
            Conversation { ctx, thread, templates, form, for_manager }.render()
        } else {
            ThreadPage { ctx, thread, templates, form, for_manager }.render()
        }
        .map_err(AppError::internal)?;
        Ok(html(status, body))
    }
}

/// The thread as `actor` may read it, with the quick replies for managers.
async fn load(state: &AppState, actor: Actor, id: i64, mark_read: bool) -> AppResult<(Thread, Vec<ReplyTemplate>)> {
    state
        .db(move |conn| {
            let thread = threads::read(conn, &actor, id, mark_read)?;
            let templates = if actor.is_affiliate() {
                Vec::new()
            } else {
                reply_templates::list(conn)?.into_iter().map(|r| r.template).collect()
            };
            Ok((thread, templates))
        })
        .await
}

/// `GET /admin/tickets/{id}`: the thread; opening it marks the affiliate's messages read.
pub async fn admin_show(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (thread, templates) = load(&state, staff.actor(), path_id(&path)?, true).await?;
    View { ctx: staff.page("tickets"), thread, templates, form: ReplyForm::default() }.respond(false, StatusCode::OK)
}

/// Puts a template's text into the form, and says which variables it could not fill.
fn apply_template(form: &mut ReplyForm, chosen: Option<(ReplyTemplate, Filled)>) {
    let Some((template, Filled { text, missing })) = chosen else {
        form.errors.push(("template_id", "Choose a template.".into()));
        return;
    };
    form.body = if form.body.trim().is_empty() { text } else { format!("{}\n\n{}", form.body.trim_end(), text) };
    form.template_id = Some(template.id);
    if !missing.is_empty() {
        form.warning = Some(format!(
            "This ticket has no value for {}: replace {} before sending.",
            missing.join(", "),
            if missing.len() == 1 { "it" } else { "them" }
        ));
    }
}

async fn fill(
    state: &AppState,
    staff: &StaffSession,
    id: i64,
    template_id: Option<i64>,
) -> AppResult<Option<(ReplyTemplate, Filled)>> {
    let actor = staff.actor();
    state.db(move |conn| reply_templates::fill_for_ticket(conn, &actor, id, template_id)).await
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
    path: web::Path<String>,
    query: web::Query<TemplateQuery>,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let q = query.into_inner();
    let mut form = ReplyForm { body: q.body.unwrap_or_default(), ..Default::default() };
    let chosen = fill(&state, &staff, id, q.template_id.and_then(|v| v.trim().parse().ok())).await?;
    apply_template(&mut form, chosen);
    let body = ReplyBodyField { form }.render().map_err(AppError::internal)?;
    Ok(html(StatusCode::OK, body))
}

/// `POST /admin/tickets/{id}/messages`: a reply or internal note, with files.
pub async fn admin_reply(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let upload = upload::read(&req, payload, state.storage.as_ref()).await?;
    let htmx = is_htmx(&req);
    let mut form = ReplyForm { internal: upload.checked("internal"), ..ReplyForm::sent(&upload) };
    if upload.fields.contains_key("use_template") {
        // Without JavaScript: "Use template" re-shows the form with the text filled.
        let chosen = fill(&state, &staff, id, upload.text("template_id").trim().parse().ok()).await?;
        apply_template(&mut form, chosen);
        let (thread, templates) = load(&state, staff.actor(), id, false).await?;
        return View { ctx: staff.page("tickets"), thread, templates, form }.respond(htmx, StatusCode::OK);
    }
    if !checked(&upload, &mut form) {
        let (thread, templates) = load(&state, staff.actor(), id, false).await?;
        return View { ctx: staff.page("tickets"), thread, templates, form }
            .respond(htmx, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (internal, close) = (form.internal, upload.fields.contains_key("close"));
    let actor = staff.actor();
    let (body, submission) = (form.body.clone(), upload.text("submission"));
    let files = upload.files;
    let replied: Replied = state
        .db_with_store(move |conn, store| {
            let draft = Draft::from_form(&body, &submission);
            if internal {
                messages::add_note(conn, store, &actor, id, draft, files)
            } else {
                messages::reply(conn, store, &actor, id, draft, close, files)
            }
        })
        .await?;
    let done = if replied.message.internal {
        "Internal note added."
    } else if replied.status != replied.status_before {
        "Reply sent and ticket closed."
    } else {
        "Reply sent."
    };
    if htmx {
        let (thread, templates) = load(&state, staff.actor(), id, false).await?;
        let mut ctx = staff.page("tickets");
        ctx.flash = Some(super::Flash { kind: FlashKind::Success, text: done.into() });
        return View { ctx, thread, templates, form: ReplyForm::default() }.respond(true, StatusCode::OK);
    }
    set_flash(&staff.session, FlashKind::Success, done);
    Ok(redirect(&format!("/admin/tickets/{id}")))
}

/// Whether the reply text and the files are acceptable; if not, the form learns why.
fn checked(upload: &Upload, form: &mut ReplyForm) -> bool {
    if let Err(e) = messages::check_body(&form.body) {
        form.errors.push(("body", e));
    }
    if let Some(e) = upload.file_error() {
        form.errors.push(("files", e));
    }
    form.errors.is_empty()
}

/// `GET /affiliate/tickets/{id}`: the affiliate's own ticket, without internal notes.
pub async fn affiliate_show(
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (thread, _) = load(&state, affiliate.actor(), path_id(&path)?, true).await?;
    View { ctx: affiliate.page("support"), thread, templates: Vec::new(), form: ReplyForm::default() }
        .respond(false, StatusCode::OK)
}

/// `POST /affiliate/tickets/{id}/messages`: replying reopens a closed ticket.
pub async fn affiliate_reply(
    req: HttpRequest,
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    path: web::Path<String>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let upload = upload::read(&req, payload, state.storage.as_ref()).await?;
    let htmx = is_htmx(&req);
    let mut form = ReplyForm::sent(&upload);
    if !checked(&upload, &mut form) {
        let (thread, _) = load(&state, affiliate.actor(), id, false).await?;
        return View { ctx: affiliate.page("support"), thread, templates: Vec::new(), form }
            .respond(htmx, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let actor = affiliate.actor();
    let (body, submission) = (form.body.clone(), upload.text("submission"));
    let files = upload.files;
    state
        .db_with_store(move |conn, store| {
            messages::reply(conn, store, &actor, id, Draft::from_form(&body, &submission), false, files)
        })
        .await?;
    if htmx {
        let (thread, _) = load(&state, affiliate.actor(), id, false).await?;
        let mut ctx = affiliate.page("support");
        ctx.flash = Some(super::Flash { kind: FlashKind::Success, text: "Message sent.".into() });
        return View { ctx, thread, templates: Vec::new(), form: ReplyForm::default() }.respond(true, StatusCode::OK);
    }
    set_flash(&affiliate.session, FlashKind::Success, "Message sent.");
    Ok(redirect(&format!("/affiliate/tickets/{id}")))
}

/// `GET /admin/attachments/{id}`: only for managers who may see the ticket.
pub async fn admin_download(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    download::send(&state, staff.actor(), path_id(&path)?).await
}

/// `GET /affiliate/attachments/{id}`: only the affiliate's own, never from internal notes.
pub async fn affiliate_download(
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    download::send(&state, affiliate.actor(), path_id(&path)?).await
}
