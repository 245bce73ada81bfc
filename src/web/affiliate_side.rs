//! `GET /admin/tickets/{id}/affiliate`: the affiliate beside a thread; the panel
//! alone for htmx (the thread page loads it after the thread), a page of its own
//! otherwise.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::auth::StaffSession;
use super::{AppState, PageCtx, is_htmx, page, path_id};
use crate::domain::affiliate_side::{self, AffiliateSide};
use crate::error::{AppError, AppResult};

#[derive(Template)]
#[template(path = "admin/_affiliate_side.html")]
struct Panel {
    side: AffiliateSide,
}

#[derive(Template)]
#[template(path = "admin/affiliate_side.html")]
struct SidePage {
    ctx: PageCtx,
    side: AffiliateSide,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let actor = staff.actor();
    let side = match state.db(move |conn| Ok(affiliate_side::for_ticket(conn, &actor, id)?)).await {
        Err(AppError::NotFound) if !is_htmx(&req) => return super::ticket_not_found(&req, staff.page("tickets"), id),
        side => side?,
    };
    if is_htmx(&req) {
        Ok(page(&req, Panel { side }))
    } else {
        Ok(page(&req, SidePage { ctx: staff.page("tickets"), side }))
    }
}
