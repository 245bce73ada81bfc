//! The managers' ticket list, its bulk actions, and the Add form.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::StaffSession;
use super::forms::{HtmlForm, HtmlQuery};
use super::ticket_list::{ListQuery, ListRequest, TicketListView};
use super::{AppState, Flash, PageCtx, is_htmx, redirect, set_flash};
use crate::domain::lifecycle::{self, BulkAction};
use crate::domain::tickets::{self, Scope, Ticket};
use crate::domain::users::User;
use crate::error::{AppError, AppResult};

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
    count: usize,
    ids: Vec<i64>,
    all_matching: bool,
    filter_pairs: Vec<(&'static str, String)>,
    back_url: String,
    csrf: String,
}

pub fn html(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body)
}

fn render<T: Template>(t: &T) -> AppResult<HttpResponse> {
    Ok(html(t.render().map_err(AppError::internal)?))
}

/// Loads one page of the list with the names its rows show (no query per row), and
/// for the whole page (`with_form`) the managers its filter form offers.
async fn load(
    state: &AppState,
    staff: &StaffSession,
    request: ListRequest,
    with_form: bool,
) -> AppResult<TicketListView> {
    let scope = Scope::of_staff(&staff.user.staff_ref());
    let show_manager_filter = scope == Scope::All;
    let need_managers = show_manager_filter && with_form;
    let csrf = super::csrf::token(&staff.session);
    state
        .db(move |conn| {
            let page = tickets::list(conn, &scope, &request.filter, request.sort, request.at, request.per_page)?;
            let managers = if need_managers { User::list_staff(conn)? } else { Vec::new() };
            Ok(TicketListView::build(request, page, managers, show_manager_filter, csrf))
        })
        .await
}

/// `GET /admin/tickets`: the whole page, or only the results for htmx.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    query: HtmlQuery<ListQuery>,
) -> AppResult<HttpResponse> {
    let request = ListRequest::parse(query.0);
    let list = load(&state, &staff, request, !is_htmx(&req)).await?;
    if is_htmx(&req) {
        render(&TicketResults { list, flash_oob: None })
    } else {
        render(&TicketsPage { ctx: staff.page("tickets"), list, flash_oob: None })
    }
}

#[derive(Deserialize, Default)]
pub struct BulkForm {
    action: Option<String>,
    #[serde(default)]
    ids: Vec<String>,
    all_matching: Option<String>,
    confirm: Option<String>,
    // The list's filter, so "all matching" and the list shown afterwards know it.
    id: Option<String>,
    status: Option<String>,
    #[serde(rename = "type", default)]
    kinds: Vec<String>,
    affiliate_id: Option<String>,
    manager_id: Option<String>,
    offer_id: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    per_page: Option<String>,
}

impl BulkForm {
    fn list_query(&self) -> ListQuery {
        ListQuery {
            id: self.id.clone(),
            status: self.status.clone(),
            kinds: self.kinds.clone(),
            affiliate_id: self.affiliate_id.clone(),
            manager_id: self.manager_id.clone(),
            offer_id: self.offer_id.clone(),
            q: self.q.clone(),
            sort: self.sort.clone(),
            per_page: self.per_page.clone(),
            ..Default::default()
        }
    }
}

/// `POST /admin/tickets/bulk`: Activate, Close, Reject or Remove the selected tickets
/// (or all matching the filter). Remove asks for confirmation first.
pub async fn bulk(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    form: HtmlForm<BulkForm>,
) -> AppResult<HttpResponse> {
    let form = form.0;
    let request = ListRequest::parse(form.list_query());
    let back_url = list_url(&request);
    let htmx = is_htmx(&req);
    let Some(action) = form.action.as_deref().and_then(BulkAction::parse) else {
        return respond(
            &state,
            &staff,
            request,
            htmx,
            "error",
            "Choose an action: Activate, Close, Reject or Remove.".into(),
        )
        .await;
    };
    let all_matching = form.all_matching.as_deref() == Some("1");
    let mut ids = Vec::with_capacity(form.ids.len());
    for raw in &form.ids {
        match raw.trim().parse::<i64>() {
            Ok(id) => ids.push(id),
            Err(_) => return Err(AppError::bad_request(format!("\"{raw}\" is not a ticket ID."))),
        }
    }
    let scope = Scope::of_staff(&staff.user.staff_ref());
    if all_matching {
        if !request.errors.is_empty() {
            return respond(
                &state,
                &staff,
                request,
                htmx,
                "error",
                "Fix the filter before applying an action to all matching tickets.".into(),
            )
            .await;
        }
        let filter = request.filter.clone();
        let scope = scope.clone();
        ids = state.db(move |conn| tickets::matching_ids(conn, &scope, &filter)).await?;
    }
    if ids.is_empty() {
        return respond(&state, &staff, request, htmx, "error", "Select at least one ticket first.".into()).await;
    }
    if action == BulkAction::Remove && form.confirm.as_deref() != Some("1") {
        let confirm = BulkConfirm {
            count: ids.len(),
            ids: if all_matching { Vec::new() } else { ids },
            all_matching,
            filter_pairs: request.filter_pairs(),
            back_url,
            csrf: super::csrf::token(&staff.session),
        };
        return if htmx {
            render(&BulkConfirmFragment { confirm })
        } else {
            render(&BulkConfirmPage { ctx: staff.page("tickets"), confirm })
        };
    }
    let actor = staff.actor();
    let summary = state
        .db(move |conn| crate::db::write_transaction(conn, |conn| lifecycle::bulk(conn, &actor, &scope, action, &ids)))
        .await?;
    for key in &summary.removed_files {
        if let Err(e) = state.storage.delete(key) {
            log::warn!("could not delete attachment file {key}: {e}");
        }
    }
    let kind = if summary.done > 0 { "success" } else { "warning" };
    respond(&state, &staff, request, htmx, kind, summary.text()).await
}

/// After a bulk action: htmx gets the fresh results and a banner; a plain form post
/// is redirected back to the list with the banner in the session.
async fn respond(
    state: &AppState,
    staff: &StaffSession,
    request: ListRequest,
    htmx: bool,
    kind: &str,
    text: String,
) -> AppResult<HttpResponse> {
    if htmx {
        let list = load(state, staff, request, false).await?;
        render(&TicketResults { list, flash_oob: Some(Flash { kind: kind.into(), text }) })
    } else {
        set_flash(&staff.session, kind, text);
        Ok(redirect(&list_url(&request)))
    }
}

fn list_url(request: &ListRequest) -> String {
    let qs = super::ticket_list::query_string(&request.filter_pairs());
    if qs.is_empty() { "/admin/tickets".into() } else { format!("/admin/tickets?{qs}") }
}

#[derive(Deserialize)]
pub struct ReturnTo {
    return_to: Option<String>,
}

/// `POST /admin/tickets/{id}/close|reopen|activate|reject` from the list or the thread.
pub async fn single_action(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<(i64, String)>,
    form: web::Form<ReturnTo>,
) -> AppResult<HttpResponse> {
    let (id, action) = path.into_inner();
    let scope = Scope::of_staff(&staff.user.staff_ref());
    let actor = staff.actor();
    let back = super::safe_next(form.return_to.as_deref(), &format!("/admin/tickets/{id}"));
    let message = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| -> AppResult<String> {
                let ticket = Ticket::find_visible(conn, &scope, id)?.ok_or(AppError::NotFound)?;
                let done = |o: lifecycle::Outcome, what: &str| match o {
                    lifecycle::Outcome::Done => format!("Ticket {id} {what}."),
                    lifecycle::Outcome::Skipped(why) => format!("Ticket {id} was not changed: {why}."),
                };
                Ok(match action.as_str() {
                    "close" => done(lifecycle::close(conn, &actor, &ticket, "single")?, "closed"),
                    "reopen" => done(lifecycle::reopen(conn, &actor, &ticket, "single")?, "reopened"),
                    "activate" | "reject" => {
                        let decision = crate::domain::access::Decision::parse(&action).expect("matched above");
                        match crate::domain::access::decide(conn, &actor, &ticket, decision, "single")? {
                            Ok(()) if action == "activate" => format!("Request in ticket {id} approved."),
                            Ok(()) => format!("Request in ticket {id} rejected."),
                            Err(why) => format!("Ticket {id} was not changed: {}.", why.reason()),
                        }
                    }
                    _ => return Err(AppError::NotFound),
                })
            })
        })
        .await?;
    let kind = if message.contains("not changed") { "warning" } else { "success" };
    set_flash(&staff.session, kind, message);
    Ok(redirect(&back))
}
