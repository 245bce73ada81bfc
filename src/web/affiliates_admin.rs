//! The Affiliates pages of the admin panel: find an affiliate by ID, name or
//! email, create and edit one, disable or enable them, invite them to their panel.
//! Admins see every affiliate; a manager sees and edits their own.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::StaffSession;
use super::{AppState, FlashKind, PageCtx, html, path_id, redirect, set_flash};
use crate::domain::accounts::{self, AccountKind};
use crate::domain::affiliates::Affiliate;
use crate::domain::directory::{self, AffiliateForm, AffiliateRow};
use crate::domain::states::AffiliateStatus;
use crate::domain::ticket_filter::FieldError;
use crate::domain::users::{User, UserSummary};
use crate::error::AppResult;
use crate::http::paths;
use crate::http::query::Params;

const PER_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "admin/affiliates.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<AffiliateRow>,
    q: String,
    page: i64,
    pages: i64,
    total: i64,
}

impl ListPage {
    fn page_url(&self, page: i64) -> String {
        paths::admin_affiliates(&self.q, page)
    }
}

#[derive(Template)]
#[template(path = "admin/affiliate_form.html")]
struct FormPage {
    ctx: PageCtx,
    /// `None` for a new affiliate.
    affiliate: Option<Affiliate>,
    form: AffiliateForm,
    errors: Vec<FieldError>,
    managers: Vec<UserSummary>,
    statuses: &'static [AffiliateStatus],
    invited: Option<chrono::NaiveDateTime>,
}

impl FormPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
    fn action(&self) -> String {
        match &self.affiliate {
            Some(a) => paths::admin_affiliate(a.id),
            None => "/admin/affiliates".into(),
        }
    }
}

/// `GET /admin/affiliates?q=&page=`.
pub async fn list(req: HttpRequest, state: web::Data<AppState>, staff: StaffSession) -> AppResult<HttpResponse> {
    let query = Params::from_query(req.query_string());
    let q: String = query.one("q").unwrap_or_default().chars().take(100).collect();
    let page = i64::from(query.page().unwrap_or(1));
    let actor = staff.actor();
    let text = q.clone();
    let found = state.db(move |conn| Ok(directory::affiliates_page(conn, &actor, &text, page, PER_PAGE)?)).await?;
    let pages = ((found.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = ListPage { ctx: staff.page("affiliates"), rows: found.rows, q, page, pages, total: found.total };
    Ok(super::page(&req, page))
}

async fn managers(state: &web::Data<AppState>, staff: &StaffSession) -> AppResult<Vec<UserSummary>> {
    if !staff.user.is_admin() {
        return Ok(Vec::new());
    }
    state.db(|conn| Ok(User::list_staff(conn)?)).await
}

/// `GET /admin/affiliates/new`.
pub async fn new_form(req: HttpRequest, state: web::Data<AppState>, staff: StaffSession) -> AppResult<HttpResponse> {
    let form = AffiliateForm { status: AffiliateStatus::Active.as_str().into(), ..Default::default() };
    let page = FormPage {
        managers: managers(&state, &staff).await?,
        ctx: staff.page("affiliates"),
        affiliate: None,
        form,
        errors: Vec::new(),
        statuses: AffiliateStatus::ALL,
        invited: None,
    };
    Ok(super::page(&req, page))
}

/// `GET /admin/affiliates/{id}`.
pub async fn edit_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let actor = staff.actor();
    let (a, invited) = state
        .db(move |conn| {
            let a = directory::editable_affiliate(conn, &actor, id)?;
            Ok((a, directory::last_invited(conn, AccountKind::Affiliate, id)?))
        })
        .await?;
    let form = AffiliateForm {
        email: a.email.clone(),
        login: a.login.clone(),
        name: a.name.clone(),
        status: a.status.as_str().into(),
        manager_id: a.manager_id.map(|m| m.to_string()).unwrap_or_default(),
    };
    let page = FormPage {
        managers: managers(&state, &staff).await?,
        ctx: staff.page("affiliates"),
        affiliate: Some(a),
        form,
        errors: Vec::new(),
        statuses: AffiliateStatus::ALL,
        invited,
    };
    Ok(super::page(&req, page))
}

#[derive(Deserialize)]
pub struct AffiliateFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    manager_id: String,
}

impl From<AffiliateFields> for AffiliateForm {
    fn from(f: AffiliateFields) -> AffiliateForm {
        AffiliateForm { email: f.email, login: f.login, name: f.name, status: f.status, manager_id: f.manager_id }
    }
}

async fn refused(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    staff: &StaffSession,
    affiliate: Option<Affiliate>,
    form: AffiliateForm,
    errors: Vec<FieldError>,
) -> AppResult<HttpResponse> {
    let page = FormPage {
        managers: managers(state, staff).await?,
        ctx: staff.page("affiliates"),
        affiliate,
        form,
        errors,
        statuses: AffiliateStatus::ALL,
        invited: None,
    };
    Ok(html(req, page, StatusCode::UNPROCESSABLE_ENTITY))
}

/// `POST /admin/affiliates`.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    form: web::Form<AffiliateFields>,
) -> AppResult<HttpResponse> {
    let form: AffiliateForm = form.into_inner().into();
    let actor = staff.actor();
    let f = form.clone();
    match state.db(move |conn| Ok(directory::create_affiliate(conn, &actor, &f)?)).await? {
        Ok(id) => {
            set_flash(
                &staff.session,
                FlashKind::Success,
                format!("Affiliate #{id} is added. Invite them to their panel when they should log in."),
            );
            Ok(redirect(&paths::admin_affiliate(id)))
        }
        Err(errors) => refused(&req, &state, &staff, None, form, errors).await,
    }
}

/// `POST /admin/affiliates/{id}`.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    form: web::Form<AffiliateFields>,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let form: AffiliateForm = form.into_inner().into();
    let actor = staff.actor();
    let f = form.clone();
    match state.db(move |conn| Ok(directory::update_affiliate(conn, &actor, id, &f)?)).await? {
        Ok(a) => {
            set_flash(&staff.session, FlashKind::Success, format!("{} is saved.", a.name));
            Ok(redirect(&paths::admin_affiliate(id)))
        }
        Err(errors) => {
            let actor = staff.actor();
            let a = state.db(move |conn| Ok(directory::editable_affiliate(conn, &actor, id)?)).await?;
            refused(&req, &state, &staff, Some(a), form, errors).await
        }
    }
}

async fn set_disabled(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    disabled: bool,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let actor = staff.actor();
    let a = state.db(move |conn| Ok(directory::set_affiliate_disabled(conn, &actor, id, disabled)?)).await?;
    let text = if disabled {
        format!("{} is disabled and logged out everywhere.", a.name)
    } else {
        format!("{} can log in again.", a.name)
    };
    set_flash(&staff.session, FlashKind::Success, text);
    Ok(redirect(&paths::admin_affiliate(id)))
}

pub async fn disable(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    set_disabled(state, staff, path, true).await
}

pub async fn enable(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    set_disabled(state, staff, path, false).await
}

/// `POST /admin/affiliates/{id}/invite`: an email with the link to set their password.
pub async fn invite(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let actor = staff.actor();
    state.db(move |conn| Ok(accounts::invite(conn, &actor, AccountKind::Affiliate, id)?)).await?;
    set_flash(&staff.session, FlashKind::Success, "The invitation is on its way; earlier links no longer work.");
    Ok(redirect(&paths::admin_affiliate(id)))
}
