//! The affiliate panel: the Support list, and the Offers and Smartlinks pages with
//! their access requests.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::AffiliateSession;
use super::forms::HtmlQuery;
use super::{AppState, PageCtx, redirect, set_flash};
use crate::domain::kinds::TicketKind;
use crate::domain::requests::{self, AccessState, OfferRow, SmartlinkRow};
use crate::domain::tickets::{self, PageAt, Scope, Sort, Ticket, TicketFilter, TicketStatus, Total};
use crate::error::{AppError, AppResult};

const PER_PAGE: u32 = 25;

#[derive(Deserialize, Default)]
pub struct SupportQuery {
    status: Option<String>,
    #[serde(rename = "type", default)]
    kinds: Vec<String>,
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "affiliate/tickets.html")]
struct SupportPage {
    ctx: PageCtx,
    tickets: Vec<Ticket>,
    status: String,
    kinds: Vec<(&'static str, &'static str, bool)>,
    total: i64,
    page: u32,
    pages: u32,
    prev_url: Option<String>,
    next_url: Option<String>,
    blocked: Option<String>,
    errors: Vec<String>,
}

fn respond<T: Template>(t: &T) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(t.render().map_err(AppError::internal)?))
}

/// `GET /affiliate/tickets`: the affiliate's own tickets, newest activity first.
pub async fn support(
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    query: HtmlQuery<SupportQuery>,
) -> AppResult<HttpResponse> {
    let q = query.0;
    let mut errors = Vec::new();
    let mut filter = TicketFilter::default();
    let status = q.status.clone().unwrap_or_default();
    if !status.is_empty() {
        match TicketStatus::parse(&status) {
            Some(s) => filter.status = Some(s),
            None => errors.push(format!("Unknown status \"{status}\".")),
        }
    }
    for k in q.kinds.iter().filter(|k| !k.is_empty()) {
        match TicketKind::parse(k) {
            Some(kind) => filter.kinds.push(kind),
            None => errors.push(format!("Unknown question type \"{k}\".")),
        }
    }
    let page = match q.page.as_deref().map(str::parse::<u32>) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => {
            errors.push("Page must be 1 or more.".into());
            1
        }
    };
    let scope = Scope::Affiliate(affiliate.affiliate.id);
    let f = filter.clone();
    // An affiliate has tens of tickets, not millions: page numbers are fine here.
    let list = state
        .db(move |conn| tickets::list(conn, &scope, &f, Sort::UpdatedDesc, PageAt::Number(page), PER_PAGE))
        .await?;
    let total = match list.total {
        Total::Exact(n) | Total::AtLeast(n) => n,
    };
    let pages = ((total + PER_PAGE as i64 - 1) / PER_PAGE as i64).max(1) as u32;
    let mut base: Vec<(&str, String)> = Vec::new();
    if filter.status.is_some() {
        base.push(("status", status.clone()));
    }
    for k in &filter.kinds {
        base.push(("type", k.as_str().to_string()));
    }
    let link = |p: u32| {
        let mut pairs = base.clone();
        pairs.push(("page", p.to_string()));
        format!("/affiliate/tickets?{}", super::ticket_list::query_string(&pairs))
    };
    let page_view = SupportPage {
        ctx: affiliate.page("support"),
        kinds: TicketKind::ALL.iter().map(|k| (k.as_str(), k.label(), filter.kinds.contains(k))).collect(),
        status: filter.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        tickets: list.rows.into_iter().map(|r| r.ticket).collect(),
        total,
        page,
        pages,
        prev_url: list.has_prev.then(|| link(page - 1)),
        next_url: list.has_next.then(|| link(page + 1)),
        blocked: super::new_ticket::affiliate_block_reason(&affiliate.affiliate),
        errors,
    };
    respond(&page_view)
}

/// One line of the Offers or Smartlinks page.
pub struct CatalogueRow {
    pub id: i64,
    pub name: String,
    pub payout: Option<String>,
    pub privacy: String,
    pub state: AccessState,
}

impl CatalogueRow {
    pub fn may_request(&self) -> bool {
        self.state.may_request() && self.privacy == "premoderated"
    }
}

/// The Offers and Smartlinks pages: one template, two kinds of rows.
#[derive(Template)]
#[template(path = "affiliate/catalogue.html")]
struct CataloguePage {
    ctx: PageCtx,
    heading: &'static str,
    /// "offers" or "smartlinks": the path and the element ids.
    path: &'static str,
    rows: Vec<CatalogueRow>,
    with_payout: bool,
    blocked: Option<String>,
}

/// For templates: the words and badge of an access state.
pub fn access_badge(state: &AccessState) -> (&'static str, String) {
    match state {
        AccessState::Available => ("open", "Available".into()),
        AccessState::Approved(at) => ("approved", format!("Approved {}", at.format("%Y-%m-%d"))),
        AccessState::Pending(id) => ("pending", format!("Request pending (ticket {id})")),
        AccessState::Rejected(at) => ("rejected", format!("Rejected {}", at.format("%Y-%m-%d"))),
        AccessState::CanRequest => ("closed", "Needs approval".into()),
    }
}

pub async fn offers(state: web::Data<AppState>, affiliate: AffiliateSession) -> AppResult<HttpResponse> {
    let id = affiliate.affiliate.id;
    let offers: Vec<OfferRow> = state.db(move |conn| requests::offers_for(conn, id)).await?;
    let rows = offers
        .into_iter()
        .map(|r| CatalogueRow {
            id: r.offer.id,
            payout: Some(r.offer.payout_text()),
            name: r.offer.title,
            privacy: r.offer.privacy,
            state: r.state,
        })
        .collect();
    let blocked = super::new_ticket::affiliate_block_reason(&affiliate.affiliate);
    respond(&CataloguePage {
        ctx: affiliate.page("offers"),
        heading: "Offers",
        path: "offers",
        rows,
        with_payout: true,
        blocked,
    })
}

pub async fn smartlinks(state: web::Data<AppState>, affiliate: AffiliateSession) -> AppResult<HttpResponse> {
    let id = affiliate.affiliate.id;
    let smartlinks: Vec<SmartlinkRow> = state.db(move |conn| requests::smartlinks_for(conn, id)).await?;
    let rows = smartlinks
        .into_iter()
        .map(|r| CatalogueRow {
            id: r.smartlink.id,
            payout: None,
            name: r.smartlink.name,
            privacy: r.smartlink.privacy,
            state: r.state,
        })
        .collect();
    let blocked = super::new_ticket::affiliate_block_reason(&affiliate.affiliate);
    respond(&CataloguePage {
        ctx: affiliate.page("smartlinks"),
        heading: "Smartlinks",
        path: "smartlinks",
        rows,
        with_payout: false,
        blocked,
    })
}

#[derive(Deserialize)]
pub struct RequestForm {
    comment: Option<String>,
}

/// `POST /affiliate/offers/{id}/request`: the refusal, if any, comes back as a banner.
pub async fn request_offer(
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    path: web::Path<i64>,
    form: web::Form<RequestForm>,
) -> AppResult<HttpResponse> {
    let offer_id = path.into_inner();
    let who = affiliate.affiliate.clone();
    let comment = form.into_inner().comment.unwrap_or_default();
    let result = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| requests::request_offer(conn, &who, offer_id, &comment))
        })
        .await;
    finish(&affiliate, result, "/affiliate/offers")
}

pub async fn request_smartlink(
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    path: web::Path<i64>,
    form: web::Form<RequestForm>,
) -> AppResult<HttpResponse> {
    let smartlink_id = path.into_inner();
    let who = affiliate.affiliate.clone();
    let comment = form.into_inner().comment.unwrap_or_default();
    let result = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| requests::request_smartlink(conn, &who, smartlink_id, &comment))
        })
        .await;
    finish(&affiliate, result, "/affiliate/smartlinks")
}

fn finish(affiliate: &AffiliateSession, result: AppResult<Ticket>, back: &str) -> AppResult<HttpResponse> {
    match result {
        Ok(t) => set_flash(&affiliate.session, "success", format!("Request sent to your manager (ticket {}).", t.id)),
        Err(e @ (AppError::BadRequest(_) | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            set_flash(&affiliate.session, "error", e.public_message())
        }
        Err(e) => return Err(e),
    }
    Ok(redirect(back))
}
