//! The managers' ticket list, its bulk actions, and the single actions of a ticket.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::auth::StaffSession;
use super::ticket_list::{ListRequest, TicketListView};
use super::{AppState, Flash, FlashKind, PageCtx, is_htmx, page, redirect, set_flash};
use crate::domain::access::{self, Decision};
use crate::domain::lifecycle::{self, BulkAction, BulkAnswer, Outcome, Selection};
use crate::domain::ticket_list;
use crate::error::{AppError, AppResult};
use crate::http::paths;
use crate::http::query::Params;

#[derive(Template)]
#[template(path = "admin/tickets.html")]
struct TicketsPage {
    ctx: PageCtx,
    list: TicketListView,
    flash_oob: Option<Flash>,
}

/// The results part alone, for htmx: the table, pager and an optional banner.
#[derive(Template)]
#[template(path = "admin/_ticket_results.html")]
struct TicketResults {
    list: TicketListView,
    flash_oob: Option<Flash>,
}

#[derive(Template)]
#[template(path = "admin/bulk_confirm.html")]
struct BulkConfirmPage {
    ctx: PageCtx,
    confirm: BulkConfirm,
}

#[derive(Template)]
#[template(path = "admin/_bulk_confirm.html")]
struct BulkConfirmFragment {
    confirm: BulkConfirm,
}

struct BulkConfirm {
    action: BulkAction,
    count: usize,
    ids: Vec<i64>,
    all_matching: bool,
    filter_pairs: Vec<(&'static str, String)>,
    position_pairs: Vec<(&'static str, String)>,
    /// Pending access requests among the tickets (Close asks what to do with them).
    pending_requests: usize,
    back_url: String,
    csrf: String,
}

impl BulkConfirm {
    fn tickets(&self) -> String {
        if self.count == 1 {
            "1 ticket".into()
        } else {
            format!("{} tickets", super::ticket_list::group_digits(self.count as i64))
        }
    }

    /// The question, what will happen, and the button's words.
    fn words(&self) -> (String, &'static str, String) {
        let n = self.tickets();
        match self.action {
            BulkAction::Remove => (
                format!("Remove {n}?"),
                "This is permanent: the tickets, their messages and attached files are deleted and cannot be \
                 brought back. To keep them out of the queues instead, close them.",
                format!("Remove {n}"),
            ),
            BulkAction::Close | BulkAction::CloseRejectingPending if self.pending_requests > 0 => (
                format!("Close {n}?"),
                "Some of them are pending access requests: closed without a decision, they stay pending and leave \
                 the queues. Reject them as you close them?",
                format!("Close {n}"),
            ),
            BulkAction::Close | BulkAction::CloseRejectingPending => (
                format!("Close {n}?"),
                "Open tickets among them are closed; the affiliates can reopen them by replying.",
                format!("Close {n}"),
            ),
            BulkAction::Activate => (
                format!("Approve the requests in {n}?"),
                "Pending access requests among them are approved: the affiliates get the offers and Smartlinks.",
                format!("Approve {n}"),
            ),
            BulkAction::Assign(_) => (
                format!("Hand {n} over?"),
                "They go to the manager you chose, who sees them in their queue; the affiliates keep their manager.",
                format!("Assign {n}"),
            ),
            BulkAction::Reject => (
                format!("Reject the requests in {n}?"),
                "Access requests among them are rejected, and the affiliates lose access to those offers and \
                 Smartlinks, however it was granted.",
                format!("Reject {n}"),
            ),
        }
    }

    /// "3 pending requests" for the Close question's buttons.
    fn pending_text(&self) -> String {
        match self.pending_requests {
            1 => "the pending request".into(),
            n => format!("the {n} pending requests"),
        }
    }

    fn asks_about_pending(&self) -> bool {
        self.action == BulkAction::Close && self.pending_requests > 0
    }

    fn danger(&self) -> bool {
        matches!(self.action, BulkAction::Remove | BulkAction::Reject)
    }
}

/// Loads one page of the list with the names its rows show (no query per row), and
/// for the whole page (`with_form`) the managers its filter form offers.
async fn load(
    state: &AppState,
    staff: &StaffSession,
    request: ListRequest,
    with_form: bool,
) -> AppResult<TicketListView> {
    let actor = staff.actor();
    // The Manager filter is a select of names: everyone for who sees every queue,
    // the manager alone for who sees their own.
    let sees_all = actor.scope() == crate::domain::tickets::Scope::All;
    let me = staff.user.id;
    let sla = state.config.sla.clone();
    let csrf = super::csrf::token(&staff.session);
    let lookups = state.lookups.clone();
    state
        .db(move |conn| {
            let page = ticket_list::page_or_last(conn, &actor, &request.filter, request.page_request())?;
            let managers = match (with_form, sees_all) {
                (false, _) => Default::default(),
                (true, true) => lookups.staff(conn)?,
                (true, false) => {
                    let own = lookups.staff(conn)?.iter().filter(|m| m.id == me).cloned().collect::<Vec<_>>();
                    std::sync::Arc::new(own)
                }
            };
            let mut view = TicketListView::build(request, page, managers, sees_all, csrf);
            view.assignees = lookups.staff(conn)?;
            view.my_id = me;
            view.sla = sla;
            Ok(view)
        })
        .await
}

/// `GET /admin/tickets`: the whole page, or only the results for htmx.
pub async fn list(req: HttpRequest, state: web::Data<AppState>, staff: StaffSession) -> AppResult<HttpResponse> {
    let request = ListRequest::parse(Params::from_query(req.query_string()));
    let mut list = load(&state, &staff, request, !is_htmx(&req)).await?;
    list.marked = take_marked(&staff.session);
    if is_htmx(&req) {
        Ok(page(&req, TicketResults { list, flash_oob: None }))
    } else {
        let mut ctx = staff.page("tickets");
        let query = super::url_encode(&super::ticket_list::query_string(&list.filter_pairs()));
        ctx.live = Some(super::live::url(&state, "admin", &format!("list={query}")).await?);
        Ok(page(&req, TicketsPage { ctx, list, flash_oob: None }))
    }
}

/// `GET /admin/tickets/export?<the list's query>`: every matching ticket as CSV.
pub async fn export(req: HttpRequest, state: web::Data<AppState>, staff: StaffSession) -> AppResult<HttpResponse> {
    let request = ListRequest::parse(Params::from_query(req.query_string()));
    if let Some(e) = request.errors.iter().find(|e| e.field != "page") {
        return Err(AppError::bad_request(e.message.clone()));
    }
    Ok(crate::http::export::csv(&state, staff.actor(), request.filter))
}

/// `POST /admin/tickets/bulk`: Activate, Close, Reject or Remove the selected tickets
/// (or all matching the filter). Remove asks for confirmation first. The form also
/// carries the list's filter, so "all matching" and the list shown afterwards know it.
pub async fn bulk(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    form: Params,
) -> AppResult<HttpResponse> {
    let request = ListRequest::parse(form.clone());
    let back_url = list_url(&request);
    let htmx = is_htmx(&req);
    let action = match form.one("action") {
        Some("assign") => match form.one("assign_to").and_then(|v| v.trim().parse::<i64>().ok()) {
            Some(to) => Some(BulkAction::Assign(to)),
            None => {
                let text = "Choose the manager to assign the tickets to.";
                return respond(&req, &state, &staff, request, FlashKind::Error, text.into()).await;
            }
        },
        other => other.and_then(BulkAction::parse),
    };
    let Some(action) = action else {
        let text = "Choose an action: Activate, Close, Reject, Remove or Assign.";
        return respond(&req, &state, &staff, request, FlashKind::Error, text.into()).await;
    };
    let all_matching = form.one("all_matching") == Some("1");
    let mut ids = Vec::new();
    for raw in form.all("ids") {
        match raw.parse::<i64>() {
            Ok(id) => ids.push(id),
            Err(_) => return Err(AppError::bad_request(format!("\"{raw}\" is not a ticket ID."))),
        }
    }
    let selection = if all_matching {
        if !request.errors.is_empty() {
            let text = "Fix the filter before applying an action to all matching tickets.";
            return respond(&req, &state, &staff, request, FlashKind::Error, text.into()).await;
        }
        Selection::Matching(request.filter.clone())
    } else if ids.is_empty() {
        return respond(&req, &state, &staff, request, FlashKind::Error, "Select at least one ticket first.".into())
            .await;
    } else {
        Selection::Ids(ids.clone())
    };
    let confirmed = form.one("confirm") == Some("1");
    let actor = staff.actor();
    let answer = state
        .act_with_store(move |conn, store| {
            Ok(lifecycle::bulk_or_ask(conn, store, &actor, action, &selection, confirmed)?)
        })
        .await;
    let summary = match answer {
        Ok(BulkAnswer::Done(summary)) => summary,
        Ok(BulkAnswer::NeedsConfirmation { count, pending }) => {
            let confirm = BulkConfirm {
                action,
                count,
                ids: if all_matching { Vec::new() } else { ids },
                all_matching,
                filter_pairs: request.filter_pairs(),
                position_pairs: request.position_pairs(),
                pending_requests: pending,
                back_url,
                csrf: super::csrf::token(&staff.session),
            };
            return if htmx {
                Ok(page(&req, BulkConfirmFragment { confirm }))
            } else {
                Ok(page(&req, BulkConfirmPage { ctx: staff.page("tickets"), confirm }))
            };
        }
        // A manager to assign to who cannot take tickets: said above the list.
        Err(AppError::BadRequest(why)) => {
            return respond(&req, &state, &staff, request, FlashKind::Error, why).await;
        }
        Err(e) => return Err(e),
    };
    if summary.is_empty() {
        let text = if all_matching { "No tickets match the filter." } else { "Select at least one ticket first." };
        return respond(&req, &state, &staff, request, FlashKind::Error, text.into()).await;
    }
    let kind = if summary.done.is_empty() { FlashKind::Warning } else { FlashKind::Success };
    let marked = summary.mentioned().collect();
    respond_marked(&req, &state, &staff, request, kind, summary.text(), marked).await
}

const MARKED_KEY: &str = "marked_tickets";

/// The rows the last action touched, shown marked once after its redirect.
fn take_marked(session: &actix_session::Session) -> Vec<i64> {
    super::take_once(session, MARKED_KEY).unwrap_or_default()
}

/// After a bulk action: htmx gets the fresh results and a banner; a plain form post
/// is redirected back to the list with the banner in the session.
async fn respond(
    req: &HttpRequest,
    state: &AppState,
    staff: &StaffSession,
    request: ListRequest,
    kind: FlashKind,
    text: String,
) -> AppResult<HttpResponse> {
    respond_marked(req, state, staff, request, kind, text, Vec::new()).await
}

/// The list stays on the filter and the page it was on, with the rows marked.
async fn respond_marked(
    req: &HttpRequest,
    state: &AppState,
    staff: &StaffSession,
    request: ListRequest,
    kind: FlashKind,
    text: String,
    marked: Vec<i64>,
) -> AppResult<HttpResponse> {
    if is_htmx(req) {
        let mut list = load(state, staff, request, false).await?;
        list.marked = marked;
        Ok(page(req, TicketResults { list, flash_oob: Some(Flash { kind, text }) }))
    } else {
        set_flash(&staff.session, kind, text);
        if !marked.is_empty() {
            let _ = staff.session.insert(MARKED_KEY, marked);
        }
        Ok(redirect(&list_url(&request)))
    }
}

/// The list at the same filter and page.
fn list_url(request: &ListRequest) -> String {
    let mut pairs = request.filter_pairs();
    pairs.extend(request.position_pairs());
    paths::admin_tickets(&paths::query_string(&pairs))
}

/// The single actions of a ticket, as named in its URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SingleAction {
    Close,
    Reopen,
    Activate,
    Reject,
}

impl SingleAction {
    pub fn parse(s: &str) -> Option<SingleAction> {
        match s {
            "close" => Some(SingleAction::Close),
            "reopen" => Some(SingleAction::Reopen),
            "activate" => Some(SingleAction::Activate),
            "reject" => Some(SingleAction::Reject),
            _ => None,
        }
    }

    pub fn done_text(self, id: i64) -> String {
        match self {
            SingleAction::Close => format!("Ticket {id} closed."),
            SingleAction::Reopen => format!("Ticket {id} reopened."),
            SingleAction::Activate => format!("Request in ticket {id} approved."),
            SingleAction::Reject => format!("Request in ticket {id} rejected."),
        }
    }
}

/// Runs one of the single actions as its use case.
pub async fn perform(
    state: &AppState,
    actor: crate::domain::Actor,
    id: i64,
    action: SingleAction,
) -> AppResult<Outcome> {
    state
        .act(move |conn| match action {
            SingleAction::Close => Ok(lifecycle::close(conn, &actor, id)?),
            SingleAction::Reopen => Ok(lifecycle::reopen(conn, &actor, id)?),
            SingleAction::Activate => Ok(access::decide(conn, &actor, id, Decision::Approve, None)?),
            SingleAction::Reject => Ok(access::decide(conn, &actor, id, Decision::Reject, None)?),
        })
        .await
}

/// `POST /admin/tickets/{id}/close|reopen|activate|reject` from the list or the thread.
pub async fn single_action(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<(String, String)>,
    form: Params,
) -> AppResult<HttpResponse> {
    let (raw_id, raw_action) = path.into_inner();
    let id = super::path_id(&raw_id)?;
    let action = SingleAction::parse(&raw_action).ok_or(AppError::NotFound)?;
    let actor = staff.actor();
    let back = super::safe_next(form.one("return_to"), &paths::admin_ticket(id, ""));
    let outcome = perform(&state, actor, id, action).await?;
    match outcome {
        Outcome::Done => set_flash(&staff.session, FlashKind::Success, action.done_text(id)),
        Outcome::Skipped(why) => {
            set_flash(&staff.session, FlashKind::Warning, format!("Ticket {id} was not changed: {}.", why.reason()))
        }
    }
    Ok(redirect(&back))
}
