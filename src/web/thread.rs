//! Ticket threads in both panels: the page, the reply form, the affiliate's replies
//! with attachments, and attachment downloads (the manager's side of the form is in
//! manager_thread.rs).

use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::auth::{AffiliateSession, StaffSession};
use super::manager_thread::ListContext;
use super::{AppState, FlashKind, PageCtx, is_htmx, path_id, redirect, set_flash};
use crate::db::AnyConnection;
use crate::domain::Actor;
use crate::domain::messages::{self, Draft};
use crate::domain::reply_templates::ReplyTemplate;
use crate::domain::states::AccountKind;
use crate::domain::threads::{self, Segment, Thread};
use crate::error::{AppError, AppResult};
use crate::http::download;
use crate::http::lookups::Lookups;
use crate::http::paths;
use crate::http::upload::{self, Upload};

/// What the reply form shows: the text so far, and what is wrong with it.
pub struct ReplyForm {
    pub body: String,
    /// This form's one-time token: sent twice, it adds its message once.
    pub submission: String,
    pub internal: bool,
    pub errors: Vec<(&'static str, String)>,
    /// Variables a chosen template could not fill, or what changed meanwhile.
    pub warning: Option<String>,
    pub template_id: Option<i64>,
    /// The text a template put in the box: while the box still holds it, picking
    /// another template replaces it without asking.
    pub template_text: Option<String>,
    /// A question to answer before an action runs (close a pending request?).
    pub question: Option<Question>,
    /// Where the box says that someone is typing (live pages only).
    pub typing_url: Option<String>,
}

/// An action the thread asks about first.
pub enum Question {
    /// Closing a pending request leaves it pending and out of the queues.
    ClosePending,
    /// "Use template" without JavaScript, over text already typed.
    ReplaceText(i64),
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
            template_text: None,
            question: None,
            typing_url: None,
        }
    }
}

impl ReplyForm {
    /// The form as it was sent, to show again: its text and its token.
    pub(super) fn sent(upload: &Upload) -> ReplyForm {
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

    /// Rows for the reply box: enough to show the text, within reason.
    pub fn rows(&self) -> usize {
        let lines: usize = self.body.lines().map(|l| 1 + l.chars().count() / 90).sum();
        (lines + 1).clamp(7, 30)
    }

    pub fn asks_close_pending(&self) -> bool {
        matches!(self.question, Some(Question::ClosePending))
    }

    pub fn asks_replace(&self) -> Option<i64> {
        match self.question {
            Some(Question::ReplaceText(id)) => Some(id),
            _ => None,
        }
    }
}

#[derive(Template)]
#[template(path = "thread.html")]
struct ThreadPage {
    ctx: PageCtx,
    thread: Thread,
    templates: Arc<Vec<ReplyTemplate>>,
    form: ReplyForm,
    for_manager: bool,
    list: ListContext,
}

#[derive(Template)]
#[template(path = "_conversation_swap.html")]
struct Conversation {
    ctx: PageCtx,
    thread: Thread,
    templates: Arc<Vec<ReplyTemplate>>,
    form: ReplyForm,
    for_manager: bool,
    list: ListContext,
}

#[derive(Template)]
#[template(path = "_reply_body.html")]
pub(super) struct ReplyBodyField {
    pub(super) form: ReplyForm,
}

/// For templates: a message's text as plain parts and links.
pub fn segments(text: &str) -> Vec<Segment> {
    threads::segments(text)
}

/// A thread as the page shows it: what it needs besides the thread itself.
pub(super) struct View {
    pub(super) ctx: PageCtx,
    pub(super) thread: Thread,
    /// Shared with the instance's kept copy (`http::lookups`), not copied per page.
    pub(super) templates: Arc<Vec<ReplyTemplate>>,
    pub(super) form: ReplyForm,
    pub(super) list: ListContext,
}

impl View {
    /// A form sent again with its problems (422) or with what changed meanwhile
    /// (409) is, for htmx, an ordinary answer to swap in: said with 200, so the
    /// browser does not log the page's own validation as a failed request.
    pub(super) fn respond(self, req: &HttpRequest, htmx: bool, status: StatusCode) -> AppResult<HttpResponse> {
        let status = if htmx && status.is_client_error() { StatusCode::OK } else { status };
        let View { ctx, thread, templates, form, list } = self;
        let for_manager = ctx.is_admin_panel();
        Ok(if htmx {
            super::html(req, Conversation { ctx, thread, templates, form, for_manager, list }, status)
        } else {
            super::html(req, ThreadPage { ctx, thread, templates, form, for_manager, list }, status)
        })
    }
}

/// The thread as `actor` may read it, with the quick replies for managers.
pub(super) async fn load(
    state: &AppState,
    actor: Actor,
    id: i64,
    mark_read: bool,
) -> AppResult<(Thread, Arc<Vec<ReplyTemplate>>)> {
    let lookups = state.lookups.clone();
    state.db(move |conn| thread_and_templates(conn, &lookups, &actor, id, mark_read)).await
}

pub(super) fn thread_and_templates(
    conn: &mut AnyConnection,
    lookups: &Lookups,
    actor: &Actor,
    id: i64,
    mark_read: bool,
) -> AppResult<(Thread, Arc<Vec<ReplyTemplate>>)> {
    let thread = threads::read(conn, actor, id, mark_read)?;
    let templates = if actor.is_affiliate() { Default::default() } else { lookups.templates(conn)? };
    Ok((thread, templates))
}

/// Whether the reply text and the files are acceptable; if not, the form learns
/// why. A manager's text may not hold a quick reply's unfilled variables.
pub(super) fn checked(upload: &Upload, form: &mut ReplyForm, by_manager: bool) -> bool {
    if let Err(e) = messages::check_body(&form.body) {
        form.errors.push(("body", e));
    } else if by_manager && !form.internal {
        let unfilled = messages::unfilled_variables(&form.body);
        if !unfilled.is_empty() {
            form.errors.push(("body", messages::unfilled_message(&unfilled)));
        }
    }
    if let Some(e) = upload.file_error() {
        form.errors.push(("files", e));
    }
    form.errors.is_empty()
}

/// The affiliate's thread page listens for its ticket's changes.
async fn affiliate_live(
    state: &AppState,
    affiliate: &AffiliateSession,
    id: i64,
    mut form: ReplyForm,
) -> AppResult<(PageCtx, ReplyForm)> {
    let mut ctx = affiliate.page("support");
    ctx.live = Some(super::live::url(state, "affiliate", &format!("ticket={id}")).await?);
    form.typing_url = Some(paths::typing(AccountKind::Affiliate, id));
    Ok((ctx, form))
}

/// `GET /affiliate/tickets/{id}`: the affiliate's own ticket, without internal notes.
pub async fn affiliate_show(
    req: HttpRequest,
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let (thread, _) = match load(&state, affiliate.actor(), id, true).await {
        Err(AppError::NotFound) => return super::ticket_not_found(&req, affiliate.page("support"), id),
        loaded => loaded?,
    };
    let (ctx, form) = affiliate_live(&state, &affiliate, id, ReplyForm::default()).await?;
    View { ctx, thread, templates: Default::default(), form, list: ListContext::default() }.respond(
        &req,
        false,
        StatusCode::OK,
    )
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
    if !checked(&upload, &mut form, false) {
        let (thread, _) = load(&state, affiliate.actor(), id, false).await?;
        let (ctx, form) = affiliate_live(&state, &affiliate, id, form).await?;
        return View { ctx, thread, templates: Default::default(), form, list: ListContext::default() }.respond(
            &req,
            htmx,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let actor = affiliate.actor();
    let (body, submission) = (form.body.clone(), upload.text("submission"));
    let files = upload.files;
    state
        .act_with_store(move |conn, store| {
            Ok(messages::reply(conn, store, &actor, id, Draft::from_form(&body, &submission), false, files)?)
        })
        .await?;
    if htmx {
        let (thread, _) = load(&state, affiliate.actor(), id, false).await?;
        let (mut ctx, form) = affiliate_live(&state, &affiliate, id, ReplyForm::default()).await?;
        ctx.flash = Some(super::Flash { kind: FlashKind::Success, text: "Message sent.".into() });
        let (templates, list) = (Default::default(), ListContext::default());
        return View { ctx, thread, templates, form, list }.respond(&req, true, StatusCode::OK);
    }
    set_flash(&affiliate.session, FlashKind::Success, "Message sent.");
    Ok(redirect(&paths::affiliate_ticket(id)))
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
