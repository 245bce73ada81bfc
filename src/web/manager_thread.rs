//! The manager's side of a thread: the list it was opened from (the way back and
//! the next ticket), the reply form's choices (a template, send, send and close or
//! decide, or act without sending) and what keeps the typed text across them.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::admin_tickets::SingleAction;
use super::auth::StaffSession;
use super::thread::{Question, ReplyBodyField, ReplyForm, View, checked, thread_and_templates};
use super::ticket_list::ListRequest;
use super::{AppState, FlashKind, is_htmx, path_id, redirect, set_flash};
use crate::domain::access::Decision;
use crate::domain::lifecycle::{self, CloseAnswer, Outcome};
use crate::domain::messages::{self, Draft, Replied, Seen, Sending, Then};
use crate::domain::reply_templates::{self, Filled, ReplyTemplate};
use crate::domain::states::AccountKind;
use crate::domain::states::{RequestState, TicketStatus};
use crate::domain::ticket_list::{self, Cursor};
use crate::error::{AppError, AppResult};
use crate::http::paths;
use crate::http::query::Params;
use crate::http::upload::{self, Upload};

/// The manager's list the thread was opened from: the way back and the next ticket.
#[derive(Default)]
pub struct ListContext {
    /// The list's query (filter and order), empty for the plain list.
    pub from: String,
    /// Where the ticket stood in that list when it was opened from it.
    pub at: Option<Cursor>,
    pub next: Option<(i64, Cursor)>,
}

impl ListContext {
    pub fn back_url(&self) -> String {
        paths::admin_tickets(&self.from)
    }

    pub fn next_url(&self) -> Option<String> {
        self.next.map(|(id, place)| super::ticket_list::thread_url(id, &self.request().filter_pairs(), Some(place)))
    }

    /// The place, for the reply form to send back.
    pub fn at_text(&self) -> String {
        self.at.map(|c| c.encode()).unwrap_or_default()
    }

    fn request(&self) -> ListRequest {
        ListRequest::parse(Params::from_query(&self.from))
    }
}

/// The list a thread was opened from, as its address or its form says: the list's
/// query (`from`) and where the ticket stood in it (`at`).
struct Origin {
    list: String,
    at: String,
}

impl Origin {
    fn read(p: impl Fn(&str) -> String) -> Origin {
        Origin { list: p("from"), at: p("at") }
    }
}

/// Everything a manager's thread page shows, loaded.
async fn manager_view(
    state: &AppState,
    staff: &StaffSession,
    id: i64,
    from: &Origin,
    mark_read: bool,
    mut form: ReplyForm,
) -> AppResult<View> {
    // The list it came from: its query (filter and order) and the ticket's place in
    // it, to find the next ticket after this one, in the same round trip as the thread.
    let request = ListRequest::parse(Params::from_query(&from.list));
    let list_query = super::ticket_list::query_string(&request.filter_pairs());
    let given_at = Cursor::decode(&from.at);
    let actor = staff.actor();
    let lookups = state.lookups.clone();
    let (thread, templates, at, next) = state
        .db(move |conn| {
            let (thread, templates) = thread_and_templates(conn, &lookups, &actor, id, mark_read)?;
            let at = given_at.unwrap_or_else(|| ticket_list::place(request.sort, &thread.ticket));
            let next = ticket_list::next_after(conn, &actor, &request.filter, request.sort, at)?;
            Ok((thread, templates, at, next))
        })
        .await?;
    let list = ListContext { from: list_query, at: Some(at), next };
    let mut ctx = staff.page("tickets");
    ctx.live = Some(super::live::url(state, "admin", &format!("ticket={id}")).await?);
    form.typing_url = Some(paths::typing(AccountKind::User, id));
    Ok(View { ctx, thread, templates, form, list })
}

const DRAFT_KEY: &str = "reply_draft";

/// A reply being written, kept across an action's redirect (without JavaScript).
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptDraft {
    ticket: i64,
    body: String,
}

fn take_draft(staff: &StaffSession, id: i64) -> Option<String> {
    let draft: KeptDraft = super::take_once(&staff.session, DRAFT_KEY)?;
    (draft.ticket == id).then_some(draft.body)
}

/// `GET /admin/tickets/{id}[?from=<list query>]`: the thread; opening it marks the
/// affiliate's messages read.
pub async fn admin_show(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let query = Params::from_query(req.query_string());
    let mut form = ReplyForm::default();
    if let Some(body) = take_draft(&staff, id) {
        form.body = body;
    }
    let from = Origin::read(|name| query.one(name).unwrap_or("").to_string());
    match manager_view(&state, &staff, id, &from, true, form).await {
        Err(AppError::NotFound) => super::ticket_not_found(&req, staff.page("tickets"), id),
        view => view?.respond(&req, false, StatusCode::OK),
    }
}

/// Puts a template's text into the form (replacing what is there: the page asks
/// before it replaces typed text), and says which variables it could not fill.
fn apply_template(form: &mut ReplyForm, chosen: Option<(ReplyTemplate, Filled)>) {
    let Some((template, Filled { text, missing })) = chosen else {
        form.errors.push(("template_id", "Choose a template.".into()));
        return;
    };
    form.body = text.clone();
    form.template_text = Some(text);
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
    state.db(move |conn| Ok(reply_templates::fill_for_ticket(conn, &actor, id, template_id)?)).await
}

#[derive(Deserialize)]
pub struct TemplateQuery {
    template_id: Option<String>,
}

/// `GET /admin/tickets/{id}/template?template_id=N`: the reply box with the
/// template filled in (htmx swaps it into the form).
pub async fn admin_template(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    query: web::Query<TemplateQuery>,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let mut form = ReplyForm { typing_url: Some(paths::typing(AccountKind::User, id)), ..Default::default() };
    let chosen = fill(&state, &staff, id, query.into_inner().template_id.and_then(|v| v.trim().parse().ok())).await?;
    apply_template(&mut form, chosen);
    Ok(super::page(&req, ReplyBodyField { form }))
}

/// What the manager's thread form was sent to do.
enum Intent {
    /// Fill a template in (without JavaScript); `replace` once asked.
    UseTemplate { replace: bool },
    /// Send the text, then stay, close, or decide the request.
    Send(Then),
    /// Act on the ticket without sending: the text stays in the box.
    Act(SingleAction),
}

impl Intent {
    fn of(upload: &Upload) -> Intent {
        if upload.fields.contains_key("use_template") {
            return Intent::UseTemplate { replace: upload.text("use_template") == "replace" };
        }
        if let Some(action) = SingleAction::parse(&upload.text("action")) {
            return Intent::Act(action);
        }
        match upload.text("then").as_str() {
            "close" => Intent::Send(Then::Close),
            "wait" => Intent::Send(Then::Wait),
            "approve" => Intent::Send(Then::Decide(Decision::Approve)),
            "reject" => Intent::Send(Then::Decide(Decision::Reject)),
            _ if upload.fields.contains_key("close") => Intent::Send(Then::Close),
            _ => Intent::Send(Then::Stay),
        }
    }
}

/// What the form saw of the thread, sent back with it.
fn seen(upload: &Upload) -> Option<Seen> {
    Some(Seen {
        last_message: upload.text("seen_message").trim().parse().ok()?,
        status: TicketStatus::parse(upload.text("seen_status").trim())?,
        request_state: RequestState::parse(upload.text("seen_request").trim()),
    })
}

/// `POST /admin/tickets/{id}/messages`: a reply or internal note, with files; or
/// an action on the ticket (close, reopen, activate, reject) that keeps the text.
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
    let from = Origin::read(|name| upload.text(name));
    let mut form = ReplyForm { internal: upload.checked("internal"), ..ReplyForm::sent(&upload) };
    let then = match Intent::of(&upload) {
        Intent::UseTemplate { replace } => {
            let template_id = upload.text("template_id").trim().parse().ok();
            if form.body.trim().is_empty() || replace {
                apply_template(&mut form, fill(&state, &staff, id, template_id).await?);
            } else if let Some(template_id) = template_id {
                form.question = Some(Question::ReplaceText(template_id));
            } else {
                form.errors.push(("template_id", "Choose a template.".into()));
            }
            return manager_view(&state, &staff, id, &from, false, form).await?.respond(&req, htmx, StatusCode::OK);
        }
        Intent::Act(action) => {
            return act(&req, &state, &staff, id, &from, htmx, action, upload.checked("confirm"), form).await;
        }
        Intent::Send(then) => then,
    };
    if !checked(&upload, &mut form, true) {
        return manager_view(&state, &staff, id, &from, false, form).await?.respond(
            &req,
            htmx,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let internal = form.internal;
    let actor = staff.actor();
    let (body, submission, seen) = (form.body.clone(), upload.text("submission"), seen(&upload));
    let files = upload.files;
    let sending = if internal { Sending::Note } else { Sending::Reply(then) };
    let replied = state
        .act_with_store(move |conn, store| {
            let draft = Draft::from_form(&body, &submission).seen(seen);
            Ok(messages::send(conn, store, &actor, id, draft, sending, files)?)
        })
        .await;
    let replied: Replied = match replied {
        Ok(replied) => replied,
        // Someone changed the thread meanwhile, or the decision could not be made:
        // the form comes back with the text and what happened.
        Err(AppError::Conflict(what)) => {
            form.warning = Some(format!("{what} Your text is kept: send it again as it is, or edit it first."));
            return manager_view(&state, &staff, id, &from, false, form).await?.respond(
                &req,
                htmx,
                StatusCode::CONFLICT,
            );
        }
        Err(e) => return Err(e),
    };
    let done = replied.done_text();
    if htmx {
        let mut view = manager_view(&state, &staff, id, &from, false, ReplyForm::default()).await?;
        view.ctx.flash = Some(super::Flash { kind: FlashKind::Success, text: done.into() });
        return view.respond(&req, true, StatusCode::OK);
    }
    set_flash(&staff.session, FlashKind::Success, done);
    Ok(redirect(&thread_url(id, &from)))
}

/// The thread's address, with the list it came from.
fn thread_url(id: i64, from: &Origin) -> String {
    let request = ListRequest::parse(Params::from_query(&from.list));
    super::ticket_list::thread_url(id, &request.filter_pairs(), Cursor::decode(&from.at))
}

/// Close, Reopen, Activate or Reject from the thread: the typed reply stays.
/// Closing a pending request asks first whether to reject it.
#[allow(clippy::too_many_arguments)]
async fn act(
    req: &HttpRequest,
    state: &AppState,
    staff: &StaffSession,
    id: i64,
    from: &Origin,
    htmx: bool,
    action: SingleAction,
    confirmed: bool,
    mut form: ReplyForm,
) -> AppResult<HttpResponse> {
    let outcome = if action == SingleAction::Close {
        let actor = staff.actor();
        match state.act(move |conn| Ok(lifecycle::close_or_ask(conn, &actor, id, confirmed)?)).await? {
            CloseAnswer::AsksAboutPendingRequest => {
                form.question = Some(Question::ClosePending);
                return manager_view(state, staff, id, from, false, form).await?.respond(req, htmx, StatusCode::OK);
            }
            CloseAnswer::Done(outcome) => outcome,
        }
    } else {
        super::admin_tickets::perform(state, staff.actor(), id, action).await?
    };
    let flash = match outcome {
        Outcome::Done => super::Flash { kind: FlashKind::Success, text: action.done_text(id) },
        Outcome::Skipped(why) => {
            super::Flash { kind: FlashKind::Warning, text: format!("Ticket {id} was not changed: {}.", why.reason()) }
        }
    };
    if htmx {
        let mut view =
            manager_view(state, staff, id, from, false, ReplyForm { body: form.body, ..Default::default() }).await?;
        view.ctx.flash = Some(flash);
        return view.respond(req, true, StatusCode::OK);
    }
    set_flash(&staff.session, flash.kind, flash.text);
    if !form.body.trim().is_empty() {
        let _ = staff.session.insert(DRAFT_KEY, KeptDraft { ticket: id, body: form.body });
    }
    Ok(redirect(&thread_url(id, from)))
}
