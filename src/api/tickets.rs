//! The ticket methods: list, read, decide access requests, and the partner's offer
//! request. Same use cases as the panels: one rule, two front doors.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{ApiAffiliate, ApiError, ApiParams, ApiResult, ApiStaff, bad, int, objects, ok};
use crate::domain::access::{self, Decision};
use crate::domain::lifecycle::{Outcome, Skip};
use crate::domain::requests::{self, Target};
use crate::domain::ticket_filter::{Sort, TicketFilter};
use crate::domain::ticket_list::{self, Detail, PageAt, PageRequest};
use crate::domain::tickets::{Ticket, TicketKind};
use crate::error::AppError;
use crate::http::filter_params::FilterParams;
use crate::http::{AppState, download};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

/// `GET /3.0/admin/tickets`.
pub async fn list(state: web::Data<AppState>, staff: ApiStaff, params: ApiParams) -> ApiResult<HttpResponse> {
    let params = params.0;
    let page = int(&params, "page")?.unwrap_or(1);
    if page < 1 {
        return Err(bad("page must be 1 or more"));
    }
    let page = u32::try_from(page).map_err(|_| bad(format!("page must be at most {}", u32::MAX)))?;
    let limit = int(&params, "limit")?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad(format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let (mut filter, errors) = TicketFilter::parse(&params);
    if let Some(e) = errors.into_iter().next() {
        return Err(bad(e.message));
    }
    filter.open_includes_pending = true;
    let actor = staff.actor();
    let request = PageRequest {
        sort: Sort::UpdatedDesc,
        at: PageAt::Number(page),
        per_page: limit as u32,
        detail: Detail::Ticket,
    };
    let base = state.public_url();
    let (objects, total, has_next) = state
        .db(move |conn| {
            let page = ticket_list::list(conn, &actor, &filter, request)?;
            let tickets: Vec<Ticket> = page.rows.into_iter().map(|r| r.ticket).collect();
            Ok((objects::ticket_objects(conn, &base, &tickets)?, page.total.value(), page.has_next))
        })
        .await?;
    // Affise's lists name the next page, and leave it out on the last one.
    let next_page = has_next.then_some(page + 1);
    let pagination = Pagination { next_page, page, per_page: limit, total_count: total };
    Ok(HttpResponse::Ok().json(TicketList { pagination, status: 1, tickets: objects }))
}

/// The list's answer, serialised as it stands (keys in the order the other answers' maps have).
#[derive(serde::Serialize)]
struct TicketList {
    pagination: Pagination,
    status: i32,
    tickets: Vec<objects::TicketObject>,
}

#[derive(serde::Serialize)]
struct Pagination {
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page: Option<u32>,
    page: u32,
    per_page: i64,
    total_count: i64,
}

/// `GET /3.0/admin/tickets/export`: every ticket matching the list's filter, as CSV.
pub async fn export(state: web::Data<AppState>, staff: ApiStaff, params: ApiParams) -> ApiResult<HttpResponse> {
    let (filter, errors) = TicketFilter::parse(&params.0);
    if let Some(e) = errors.into_iter().next() {
        return Err(bad(e.message));
    }
    Ok(crate::http::export::csv(&state, staff.actor(), filter))
}

pub fn path_id(raw: &str) -> ApiResult<i64> {
    raw.parse().map_err(|_| ApiError(AppError::NotFound))
}

/// `GET /3.0/admin/ticket/{id}`.
pub async fn show(state: web::Data<AppState>, staff: ApiStaff, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_id(&path)?;
    let scope = staff.actor().scope();
    let base = state.public_url();
    let object = state
        .db(move |conn| {
            let ticket = Ticket::find_visible(conn, &scope, id)?;
            objects::tickets(conn, &base, &[ticket])?.pop().ok_or(AppError::NotFound)
        })
        .await?;
    Ok(ok(json!({ "ticket": object, "id": id.to_string() })))
}

pub async fn decide_offer(
    state: web::Data<AppState>,
    staff: ApiStaff,
    path: web::Path<String>,
    params: ApiParams,
) -> ApiResult<HttpResponse> {
    decide(state, staff, path, params, TicketKind::OfferRequest).await
}

pub async fn decide_smartlink(
    state: web::Data<AppState>,
    staff: ApiStaff,
    path: web::Path<String>,
    params: ApiParams,
) -> ApiResult<HttpResponse> {
    decide(state, staff, path, params, TicketKind::SmartlinkRequest).await
}

/// `POST /3.0/admin/ticket/{id}/offer|smartlink` with `do=approve|reject`.
async fn decide(
    state: web::Data<AppState>,
    staff: ApiStaff,
    path: web::Path<String>,
    params: ApiParams,
    kind: TicketKind,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path)?;
    let decision = match params.0.one("do") {
        None => return Err(bad("do is required: approve or reject")),
        Some("approve") => Decision::Approve,
        Some("reject") => Decision::Reject,
        Some(v) => return Err(bad(format!("do must be approve or reject, not \"{v}\""))),
    };
    let actor = staff.actor();
    let outcome = state.act(move |conn| Ok(access::decide(conn, &actor, id, decision, Some(kind))?)).await?;
    match outcome {
        Outcome::Done => {}
        Outcome::Skipped(Skip::NotARequest) => {
            return Err(bad(format!("Ticket {id} is not an offer or Smartlink access request")));
        }
        Outcome::Skipped(Skip::AlreadyRejected) => {
            return Err(ApiError(AppError::conflict(format!(
                "The request in ticket {id} was already rejected, with no access left to revoke"
            ))));
        }
        Outcome::Skipped(_) => {
            return Err(ApiError(AppError::conflict(format!("The request in ticket {id} was already decided"))));
        }
    }
    let message =
        if kind == TicketKind::OfferRequest { "Request is successfully" } else { "SmartLink privacy is updated" };
    Ok(ok(json!({ "message": message })))
}

/// `POST /3.0/partner/activation/offer`: the affiliate asks for a premoderated offer.
pub async fn request_offer(
    state: web::Data<AppState>,
    affiliate: ApiAffiliate,
    params: ApiParams,
) -> ApiResult<HttpResponse> {
    let offer_id = int(&params.0, "offer_id")?.ok_or_else(|| bad("offer_id is required"))?;
    let comment = params.0.one("comment").ok_or_else(|| bad("comment is required"))?.to_string();
    let actor = affiliate.actor();
    state.act(move |conn| Ok(requests::request_access(conn, &actor, Target::Offer(offer_id), &comment)?)).await?;
    Ok(ok(json!({ "message": "Request is successfully" })))
}

/// `GET /3.0/admin/attachments/{id}`: the files the ticket objects link to.
pub async fn download(state: web::Data<AppState>, staff: ApiStaff, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_id(&path)?;
    Ok(download::send(&state, staff.actor(), id).await?)
}
