//! The ticket methods: list, read, decide access requests, and the partner's offer
//! request. Same domain functions as the panels: one rule, two front doors.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{ApiAffiliate, ApiError, ApiResult, ApiStaff, Params, bad, objects, ok};
use crate::domain::Actor;
use crate::domain::access::{self, Decision};
use crate::domain::kinds::TicketKind;
use crate::domain::requests;
use crate::domain::search;
use crate::domain::tickets::{self, PageAt, Scope, Sort, Ticket, TicketFilter, TicketStatus};
use crate::error::AppError;
use crate::web::AppState;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

/// `GET /3.0/admin/tickets`.
pub async fn list(state: web::Data<AppState>, staff: ApiStaff, params: Params) -> ApiResult<HttpResponse> {
    let page = params.int("page")?.unwrap_or(1);
    if page < 1 {
        return Err(bad("page must be 1 or more"));
    }
    let limit = params.int("limit")?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad(format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let mut filter = TicketFilter::default();
    if let Some(s) = params.one("status") {
        filter.status =
            Some(TicketStatus::parse(s).ok_or_else(|| bad(format!("status must be open or closed, not \"{s}\"")))?);
    }
    for t in params.all("type") {
        let kind = TicketKind::parse_api(t).ok_or_else(|| {
            bad(format!(
                "unknown type \"{t}\": use common, financial, technical, other, offer_request or smartlink_request"
            ))
        })?;
        if !filter.kinds.contains(&kind) {
            filter.kinds.push(kind);
        }
    }
    if let Some(q) = params.one("search") {
        filter.text = search::terms(q);
        if filter.text.is_empty() {
            return Err(bad("search must contain letters or digits"));
        }
    }
    filter.affiliate_ids = params.ints("pid")?;
    filter.manager_ids = params.ints("manager_id")?;
    filter.offer_ids = params.ints("offer_id")?;
    let scope = Scope::of_staff(&staff.0.staff_ref());
    let (objects, total) = state
        .db(move |conn| {
            let page =
                tickets::list(conn, &scope, &filter, Sort::UpdatedDesc, PageAt::Number(page as u32), limit as u32)?;
            Ok((
                objects::tickets(conn, &page.rows.into_iter().map(|r| r.ticket).collect::<Vec<_>>())?,
                page.total.value(),
            ))
        })
        .await?;
    Ok(ok(json!({
        "tickets": objects,
        "pagination": { "per_page": limit, "total_count": total, "page": page },
    })))
}

fn ticket_id(raw: &str) -> ApiResult<i64> {
    raw.parse().map_err(|_| ApiError(AppError::NotFound))
}

/// `GET /3.0/admin/ticket/{id}`.
pub async fn show(state: web::Data<AppState>, staff: ApiStaff, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = ticket_id(&path)?;
    let scope = Scope::of_staff(&staff.0.staff_ref());
    let object = state
        .db(move |conn| {
            let ticket = Ticket::find_visible(conn, &scope, id)?.ok_or(AppError::NotFound)?;
            Ok(objects::tickets(conn, &[ticket])?.remove(0))
        })
        .await?;
    Ok(ok(json!({ "ticket": object, "id": id.to_string() })))
}

pub async fn decide_offer(
    state: web::Data<AppState>,
    staff: ApiStaff,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    decide(state, staff, path, params, TicketKind::OfferRequest).await
}

pub async fn decide_smartlink(
    state: web::Data<AppState>,
    staff: ApiStaff,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    decide(state, staff, path, params, TicketKind::SmartlinkRequest).await
}

/// `POST /3.0/admin/ticket/{id}/offer|smartlink` with `do=approve|reject`.
async fn decide(
    state: web::Data<AppState>,
    staff: ApiStaff,
    path: web::Path<String>,
    params: Params,
    kind: TicketKind,
) -> ApiResult<HttpResponse> {
    let id = ticket_id(&path)?;
    let decision = match params.one("do") {
        None => return Err(bad("do is required: approve or reject")),
        Some(v) => Decision::parse(v)
            .filter(|_| v != "activate")
            .ok_or_else(|| bad(format!("do must be approve or reject, not \"{v}\"")))?,
    };
    let scope = Scope::of_staff(&staff.0.staff_ref());
    let actor = Actor::Staff(staff.0.staff_ref());
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let ticket = Ticket::find_visible(conn, &scope, id)?.ok_or(AppError::NotFound)?;
                if ticket.kind() != Some(kind) {
                    let what = if kind == TicketKind::OfferRequest { "an offer" } else { "a Smartlink" };
                    return Err(AppError::bad_request(format!("Ticket {id} is not {what} access request")));
                }
                access::decide(conn, &actor, &ticket, decision, "api")?.map_err(|why| why.into_error(id))
            })
        })
        .await?;
    let message =
        if kind == TicketKind::OfferRequest { "Request is successfully" } else { "SmartLink privacy is updated" };
    Ok(ok(json!({ "message": message })))
}

/// `POST /3.0/partner/activation/offer`: the affiliate asks for a premoderated offer.
pub async fn request_offer(
    state: web::Data<AppState>,
    affiliate: ApiAffiliate,
    params: Params,
) -> ApiResult<HttpResponse> {
    let offer_id = params.int("offer_id")?.ok_or_else(|| bad("offer_id is required"))?;
    let comment = params.one("comment").ok_or_else(|| bad("comment is required"))?.to_string();
    let who = affiliate.0;
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| requests::request_offer(conn, &who, offer_id, &comment))
        })
        .await
        .map_err(|e| match e {
            AppError::NotFound => ApiError(AppError::NotFound),
            other => ApiError(other),
        })?;
    Ok(ok(json!({ "message": "Request is successfully" })))
}

/// `GET /3.0/admin/attachments/{id}`: the files the ticket objects link to.
pub async fn download(state: web::Data<AppState>, staff: ApiStaff, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = ticket_id(&path)?;
    let scope = Scope::of_staff(&staff.0.staff_ref());
    Ok(crate::web::thread::download(&state, id, move |ticket, _internal| scope.allows(ticket)).await?)
}
