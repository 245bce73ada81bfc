//! Handing one ticket to another manager, from its thread: a short form naming
//! who has it now and who may take it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::auth::StaffSession;
use super::{AppState, FlashKind, PageCtx, html, path_id, redirect, set_flash};
use crate::domain::lifecycle::{self, BulkAction, Selection};
use crate::domain::tickets::{Scope, Ticket};
use crate::domain::users::UserSummary;
use crate::error::{AppError, AppResult};
use crate::http::paths;
use crate::http::query::Params;

#[derive(Template)]
#[template(path = "admin/assign.html")]
struct AssignPage {
    ctx: PageCtx,
    ticket: Ticket,
    current: Option<String>,
    assignees: Vec<UserSummary>,
    error: Option<String>,
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    staff: &StaffSession,
    id: i64,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let actor = staff.actor();
    let lookups = state.lookups.clone();
    let (ticket, staff_list) =
        state.db(move |conn| Ok((Ticket::find_visible(conn, &actor.scope(), id)?, lookups.staff(conn)?))).await?;
    let current = ticket.manager_id.and_then(|m| staff_list.iter().find(|u| u.id == m).map(|u| u.name.clone()));
    let assignees = staff_list.iter().filter(|u| Some(u.id) != ticket.manager_id).cloned().collect();
    let page = AssignPage { ctx: staff.page("tickets"), ticket, current, assignees, error };
    Ok(html(req, page, status))
}

/// `GET /admin/tickets/{id}/assign`
pub async fn form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    match page(&req, &state, &staff, id, None, StatusCode::OK).await {
        Err(AppError::NotFound) => super::ticket_not_found(&req, staff.page("tickets"), id),
        shown => shown,
    }
}

/// `POST /admin/tickets/{id}/assign`: back to the thread when it is still the
/// manager's to see, else to their list.
pub async fn assign(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    form: Params,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let Some(to) = form.one("assign_to").and_then(|v| v.trim().parse::<i64>().ok()) else {
        let why = "Choose the manager to hand the ticket to.".to_string();
        return page(&req, &state, &staff, id, Some(why), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let actor = staff.actor();
    let scope = actor.scope();
    let done = state
        .act_with_store(move |conn, store| {
            Ok(lifecycle::bulk(conn, store, &actor, BulkAction::Assign(to), &Selection::Ids(vec![id]))?)
        })
        .await;
    let summary = match done {
        Err(AppError::BadRequest(why)) => {
            return page(&req, &state, &staff, id, Some(why), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        done => done?,
    };
    if !summary.not_allowed.is_empty() {
        return super::ticket_not_found(&req, staff.page("tickets"), id);
    }
    let name = state.db(move |conn| Ok(crate::domain::assignment::assignee(conn, to)?)).await?.name;
    if summary.done.is_empty() {
        set_flash(&staff.session, FlashKind::Info, format!("Ticket #{id} is already with {name}."));
    } else {
        set_flash(&staff.session, FlashKind::Success, format!("Ticket #{id} handed to {name}."));
    }
    let still_mine = scope == Scope::All || scope == Scope::Manager(to);
    Ok(redirect(&if still_mine { paths::admin_ticket(id, "") } else { paths::admin_tickets("") }))
}
