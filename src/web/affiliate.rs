//! The affiliate panel: the Support list, and the Offers and Smartlinks pages with
//! their access requests.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::AffiliateSession;
use super::{AppState, FlashKind, PageCtx, redirect, set_flash};
use crate::domain::requests::{self, AccessState, OfferRow, SmartlinkRow, Target};
use crate::domain::states::Privacy;
use crate::domain::ticket_filter::{Sort, TicketFilter};
use crate::domain::ticket_list::{self, Detail, PageAt, PageRequest};
use crate::domain::tickets::{Ticket, TicketKind};
use crate::error::{AppError, AppResult};
use crate::http::filter_params::FilterParams;
use crate::http::paths;
use crate::http::query::Params;

const PER_PAGE: u32 = 25;

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

/// `GET /affiliate/tickets`: the affiliate's own tickets, newest activity first.
pub async fn support(
    req: HttpRequest,
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
) -> AppResult<HttpResponse> {
    let params = Params::from_query(req.query_string());
    let (filter, field_errors) = TicketFilter::parse(&params);
    let mut errors: Vec<String> = field_errors.into_iter().map(|e| e.message).collect();
    let page = params.page().unwrap_or_else(|why| {
        errors.push(why);
        1
    });
    let actor = affiliate.actor();
    let f = filter.clone();
    // An affiliate has tens of tickets, not millions: page numbers are fine here.
    let request =
        PageRequest { sort: Sort::UpdatedDesc, at: PageAt::Number(page), per_page: PER_PAGE, detail: Detail::Ticket };
    let list = state.db(move |conn| Ok(ticket_list::page_or_last(conn, &actor, &f, request)?)).await?;
    let total = list.total.value();
    let pages = ((total + PER_PAGE as i64 - 1) / PER_PAGE as i64).max(1) as u32;
    let page = if list.at == PageAt::Last { pages } else { page };
    let base = filter.pairs(None);
    let link = |p: u32| {
        let mut pairs = base.clone();
        pairs.push(("page", p.to_string()));
        paths::affiliate_tickets(&paths::query_string(&pairs))
    };
    let page_view = SupportPage {
        ctx: affiliate.page("support"),
        kinds: TicketKind::ALL.iter().map(|k| (k.as_str(), k.label(), filter.kinds.contains(k))).collect(),
        status: filter.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        tickets: list.rows.into_iter().map(|r| r.ticket).collect(),
        total,
        page,
        pages,
        prev_url: (page > 1).then(|| link(page - 1)),
        next_url: list.has_next.then(|| link(page + 1)),
        blocked: super::new_ticket::affiliate_block_reason(&affiliate.affiliate),
        errors,
    };
    Ok(super::page(&req, page_view))
}

/// One line of the Offers or Smartlinks page.
pub struct CatalogueRow {
    pub id: i64,
    pub name: String,
    pub payout: Option<String>,
    pub privacy: Privacy,
    pub state: AccessState,
}

impl CatalogueRow {
    pub fn may_request(&self) -> bool {
        self.state.may_request() && self.privacy == Privacy::Premoderated
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

pub async fn offers(
    req: HttpRequest,
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
) -> AppResult<HttpResponse> {
    let id = affiliate.affiliate.id;
    let offers: Vec<OfferRow> = state.db(move |conn| Ok(requests::offers_for(conn, id)?)).await?;
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
    Ok(super::page(
        &req,
        CataloguePage {
            ctx: affiliate.page("offers"),
            heading: "Offers",
            path: "offers",
            rows,
            with_payout: true,
            blocked,
        },
    ))
}

pub async fn smartlinks(
    req: HttpRequest,
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
) -> AppResult<HttpResponse> {
    let id = affiliate.affiliate.id;
    let smartlinks: Vec<SmartlinkRow> = state.db(move |conn| Ok(requests::smartlinks_for(conn, id)?)).await?;
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
    Ok(super::page(
        &req,
        CataloguePage {
            ctx: affiliate.page("smartlinks"),
            heading: "Smartlinks",
            path: "smartlinks",
            rows,
            with_payout: false,
            blocked,
        },
    ))
}

#[derive(Deserialize)]
pub struct RequestForm {
    comment: Option<String>,
}

/// `POST /affiliate/offers/{id}/request`: the refusal, if any, comes back as a banner.
pub async fn request_offer(
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    path: web::Path<String>,
    form: web::Form<RequestForm>,
) -> AppResult<HttpResponse> {
    let id = super::path_id(&path)?;
    request(state, affiliate, Target::Offer(id), form.into_inner(), "/affiliate/offers").await
}

pub async fn request_smartlink(
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    path: web::Path<String>,
    form: web::Form<RequestForm>,
) -> AppResult<HttpResponse> {
    let id = super::path_id(&path)?;
    request(state, affiliate, Target::Smartlink(id), form.into_inner(), "/affiliate/smartlinks").await
}

async fn request(
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    target: Target,
    form: RequestForm,
    back: &str,
) -> AppResult<HttpResponse> {
    let actor = affiliate.actor();
    let comment = form.comment.unwrap_or_default();
    let result = state.act(move |conn| Ok(requests::request_access(conn, &actor, target, &comment)?)).await;
    finish(&affiliate, result, back)
}

fn finish(affiliate: &AffiliateSession, result: AppResult<Ticket>, back: &str) -> AppResult<HttpResponse> {
    match result {
        Ok(t) => set_flash(
            &affiliate.session,
            FlashKind::Success,
            format!("Request sent to your manager (ticket {}).", t.id),
        ),
        Err(e @ (AppError::BadRequest(_) | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            set_flash(&affiliate.session, FlashKind::Error, e.public_message())
        }
        Err(e) => return Err(e),
    }
    Ok(redirect(back))
}
