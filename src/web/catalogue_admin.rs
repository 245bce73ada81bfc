//! The Offers and Smartlinks pages of the admin panel: the catalogue with its
//! privacy in Affise's words, each item's access per affiliate (who, how granted,
//! when), granting and taking away access by hand; admins add and edit items.
//! Both halves share the handlers through `CatalogueKind`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::StaffSession;
use super::{AppState, FlashKind, PageCtx, html, path_id, redirect, set_flash};
use crate::domain::access_grants::{self, AccessRow};
use crate::domain::affise_push::{self, Push};
use crate::domain::catalogue_admin::{self, CatalogueKind, Item, ItemForm};
use crate::domain::states::{AccessGrant, OfferStatus};
use crate::domain::ticket_filter::FieldError;
use crate::error::{AppError, AppResult};
use crate::http::paths;
use crate::http::query::Params;

const PER_PAGE: i64 = 50;
const ACCESS_PER_PAGE: i64 = 100;
const PRIVACY_WORDS: [&str; 3] = ["public", "protected", "private"];

#[derive(Template)]
#[template(path = "admin/catalogue.html")]
struct ListPage {
    ctx: PageCtx,
    kind: CatalogueKind,
    rows: Vec<Item>,
    q: String,
    page: i64,
    pages: i64,
    total: i64,
}

impl ListPage {
    fn page_url(&self, page: i64) -> String {
        paths::catalogue_page(self.kind, &self.q, page)
    }
}

#[derive(Template)]
#[template(path = "admin/catalogue_item.html")]
struct ItemPage {
    ctx: PageCtx,
    kind: CatalogueKind,
    /// `None` for a new item.
    item: Option<Item>,
    form: ItemForm,
    errors: Vec<FieldError>,
    access: Vec<AccessRow>,
    access_total: i64,
    page: i64,
    pages: i64,
    /// Offers: the latest pushes to Affise of this offer's access changes.
    pushes: Vec<Push>,
    statuses: &'static [OfferStatus],
    privacy_words: [&'static str; 3],
}

impl ItemPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
    fn base(&self) -> String {
        match &self.item {
            Some(i) => paths::catalogue(self.kind, Some(i.id)),
            None => paths::catalogue(self.kind, None),
        }
    }
    fn page_url(&self, page: i64) -> String {
        format!("{}?page={page}#access", self.base())
    }
    fn push_of(&self, affiliate_id: &i64) -> Option<&Push> {
        self.pushes.iter().find(|p| p.affiliate_id == *affiliate_id)
    }
}

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    kind: CatalogueKind,
) -> AppResult<HttpResponse> {
    let query = Params::from_query(req.query_string());
    let q: String = query.one("q").unwrap_or_default().chars().take(100).collect();
    let page = i64::from(query.page().unwrap_or(1));
    let actor = staff.actor();
    let text = q.clone();
    let found =
        state.db(move |conn| Ok(catalogue_admin::items_page(conn, &actor, kind, &text, page, PER_PAGE)?)).await?;
    let pages = ((found.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = ListPage { ctx: staff.page(kind.path()), kind, rows: found.rows, q, page, pages, total: found.total };
    Ok(super::page(&req, page))
}

pub async fn offers(req: HttpRequest, state: web::Data<AppState>, staff: StaffSession) -> AppResult<HttpResponse> {
    list(req, state, staff, CatalogueKind::Offer).await
}

pub async fn smartlinks(req: HttpRequest, state: web::Data<AppState>, staff: StaffSession) -> AppResult<HttpResponse> {
    list(req, state, staff, CatalogueKind::Smartlink).await
}

fn blank(ctx: PageCtx, kind: CatalogueKind, form: ItemForm, errors: Vec<FieldError>) -> ItemPage {
    ItemPage {
        ctx,
        kind,
        item: None,
        form,
        errors,
        access: Vec::new(),
        access_total: 0,
        page: 1,
        pages: 1,
        pushes: Vec::new(),
        statuses: OfferStatus::ALL,
        privacy_words: PRIVACY_WORDS,
    }
}

async fn new_form(req: &HttpRequest, staff: StaffSession, kind: CatalogueKind) -> AppResult<HttpResponse> {
    if !staff.user.is_admin() {
        return Err(AppError::forbidden("Only admins add offers and Smartlinks."));
    }
    let form = ItemForm {
        status: OfferStatus::Active.as_str().into(),
        privacy: "protected".into(),
        payout: "0.00".into(),
        currency: "USD".into(),
        ..Default::default()
    };
    Ok(super::page(req, blank(staff.page(kind.path()), kind, form, Vec::new())))
}

pub async fn new_offer(req: HttpRequest, staff: StaffSession) -> AppResult<HttpResponse> {
    new_form(&req, staff, CatalogueKind::Offer).await
}

pub async fn new_smartlink(req: HttpRequest, staff: StaffSession) -> AppResult<HttpResponse> {
    new_form(&req, staff, CatalogueKind::Smartlink).await
}

/// The item page: its fields (a form for admins), then its access list.
async fn item_page(
    state: &web::Data<AppState>,
    staff: &StaffSession,
    kind: CatalogueKind,
    id: i64,
    page: i64,
    edited: Option<(ItemForm, Vec<FieldError>)>,
) -> AppResult<ItemPage> {
    let actor = staff.actor();
    let (item, access, pushes) = state
        .db(move |conn| {
            let item = catalogue_admin::item(conn, &actor, kind, id)?;
            let access = access_grants::access_page(conn, &actor, kind, id, page, ACCESS_PER_PAGE)?;
            let pushes = match kind {
                CatalogueKind::Offer => affise_push::latest_for_offer(
                    conn,
                    id,
                    &access.rows.iter().map(|r| r.affiliate_id).collect::<Vec<_>>(),
                )?,
                CatalogueKind::Smartlink => Vec::new(),
            };
            Ok((item, access, pushes))
        })
        .await?;
    let (form, errors) = edited.unwrap_or_else(|| (ItemForm::of(&item), Vec::new()));
    let pages = ((access.total + ACCESS_PER_PAGE - 1) / ACCESS_PER_PAGE).max(1);
    Ok(ItemPage {
        ctx: staff.page(kind.path()),
        kind,
        item: Some(item),
        form,
        errors,
        access: access.rows,
        access_total: access.total,
        page,
        pages,
        pushes,
        statuses: OfferStatus::ALL,
        privacy_words: PRIVACY_WORDS,
    })
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    kind: CatalogueKind,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let query = Params::from_query(req.query_string());
    let page = i64::from(query.page().unwrap_or(1));
    Ok(super::page(&req, item_page(&state, &staff, kind, id, page, None).await?))
}

pub async fn offer(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    show(req, state, staff, path, CatalogueKind::Offer).await
}

pub async fn smartlink(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    show(req, state, staff, path, CatalogueKind::Smartlink).await
}

#[derive(Deserialize)]
pub struct ItemFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    privacy: String,
    #[serde(default)]
    payout: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    preview_url: String,
}

impl From<ItemFields> for ItemForm {
    fn from(f: ItemFields) -> ItemForm {
        ItemForm {
            name: f.name,
            status: f.status,
            privacy: f.privacy,
            payout: f.payout,
            currency: f.currency,
            preview_url: f.preview_url,
        }
    }
}

async fn create(
    req: &HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    form: web::Form<ItemFields>,
    kind: CatalogueKind,
) -> AppResult<HttpResponse> {
    let form: ItemForm = form.into_inner().into();
    let actor = staff.actor();
    let f = form.clone();
    match state.db(move |conn| Ok(catalogue_admin::create(conn, &actor, kind, &f)?)).await? {
        Ok(id) => {
            set_flash(&staff.session, FlashKind::Success, format!("The {} #{id} is added.", kind.one()));
            Ok(redirect(&paths::catalogue(kind, Some(id))))
        }
        Err(errors) => {
            Ok(html(req, blank(staff.page(kind.path()), kind, form, errors), StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}

pub async fn create_offer(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    form: web::Form<ItemFields>,
) -> AppResult<HttpResponse> {
    create(&req, state, staff, form, CatalogueKind::Offer).await
}

pub async fn create_smartlink(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    form: web::Form<ItemFields>,
) -> AppResult<HttpResponse> {
    create(&req, state, staff, form, CatalogueKind::Smartlink).await
}

async fn update(
    req: &HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    form: web::Form<ItemFields>,
    kind: CatalogueKind,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let form: ItemForm = form.into_inner().into();
    let actor = staff.actor();
    let f = form.clone();
    match state.db(move |conn| Ok(catalogue_admin::update(conn, &actor, kind, id, &f)?)).await? {
        Ok(()) => {
            set_flash(&staff.session, FlashKind::Success, "Saved.");
            Ok(redirect(&paths::catalogue(kind, Some(id))))
        }
        Err(errors) => {
            let page = item_page(&state, &staff, kind, id, 1, Some((form, errors))).await?;
            Ok(html(req, page, StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}

pub async fn update_offer(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    form: web::Form<ItemFields>,
) -> AppResult<HttpResponse> {
    update(&req, state, staff, path, form, CatalogueKind::Offer).await
}

pub async fn update_smartlink(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    form: web::Form<ItemFields>,
) -> AppResult<HttpResponse> {
    update(&req, state, staff, path, form, CatalogueKind::Smartlink).await
}

#[derive(Deserialize)]
pub struct AccessFields {
    #[serde(default)]
    affiliate_id: String,
    /// "enabled" to grant, "disabled" to take away.
    #[serde(default)]
    state: String,
}

/// `POST /admin/{offers|smartlinks}/{id}/access`: grant or take away one
/// affiliate's access by hand; the answer comes back as a banner.
async fn set_access(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    form: web::Form<AccessFields>,
    kind: CatalogueKind,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let back = format!("{}#access", paths::catalogue(kind, Some(id)));
    let Some(affiliate_id) = form.affiliate_id.trim().parse::<i64>().ok().filter(|a| *a > 0) else {
        set_flash(&staff.session, FlashKind::Error, "Enter the ID of an affiliate, like 1042.");
        return Ok(redirect(&back));
    };
    let Some(grant) = AccessGrant::parse(form.state.trim()) else {
        return Err(AppError::bad_request("state must be enabled or disabled"));
    };
    let actor = staff.actor();
    let outcome =
        state.db(move |conn| Ok(access_grants::set_by_hand(conn, &actor, kind, id, affiliate_id, grant)?)).await;
    let (flash, text) = match (outcome, grant) {
        (Ok(true), AccessGrant::Enabled) => (FlashKind::Success, format!("Affiliate #{affiliate_id} now has access.")),
        (Ok(true), AccessGrant::Disabled) => {
            (FlashKind::Success, format!("Affiliate #{affiliate_id} no longer has access."))
        }
        (Ok(false), AccessGrant::Enabled) => {
            (FlashKind::Info, format!("Affiliate #{affiliate_id} already has access."))
        }
        (Ok(false), AccessGrant::Disabled) => (FlashKind::Info, format!("Affiliate #{affiliate_id} has no access.")),
        (Err(AppError::BadRequest(m)), _) => (FlashKind::Error, m),
        (Err(e), _) => return Err(e),
    };
    set_flash(&staff.session, flash, text);
    Ok(redirect(&back))
}

pub async fn offer_access(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    form: web::Form<AccessFields>,
) -> AppResult<HttpResponse> {
    set_access(state, staff, path, form, CatalogueKind::Offer).await
}

pub async fn smartlink_access(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    form: web::Form<AccessFields>,
) -> AppResult<HttpResponse> {
    set_access(state, staff, path, form, CatalogueKind::Smartlink).await
}
