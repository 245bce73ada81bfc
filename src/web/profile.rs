//! The profile page of each panel: who you are, and your API key (regenerated on
//! request and shown once; only its hash is kept).

use actix_web::{HttpResponse, web};
use askama::Template;

use super::auth::{AffiliateSession, StaffSession};
use super::{AppState, PageCtx};
use crate::domain::affiliates::Affiliate;
use crate::domain::users::User;
use crate::error::{AppError, AppResult};

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    ctx: PageCtx,
    name: String,
    email: String,
    role: String,
    action: &'static str,
    /// The new key, shown once right after it was made.
    new_key: Option<String>,
    api_doc: &'static str,
}

fn respond(page: ProfilePage) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page.render().map_err(AppError::internal)?))
}

fn staff_page(staff: &StaffSession, new_key: Option<String>) -> ProfilePage {
    ProfilePage {
        ctx: staff.page("profile"),
        name: staff.user.name.clone(),
        email: staff.user.email.clone(),
        role: if staff.user.is_admin() { "Admin".into() } else { "Affiliate manager".into() },
        action: "/admin/profile/api-key",
        new_key,
        api_doc: "/3.0/openapi.json",
    }
}

fn affiliate_page(affiliate: &AffiliateSession, new_key: Option<String>) -> ProfilePage {
    ProfilePage {
        ctx: affiliate.page("profile"),
        name: affiliate.affiliate.name.clone(),
        email: affiliate.affiliate.email.clone(),
        role: format!("Affiliate #{} · {}", affiliate.affiliate.id, affiliate.affiliate.status_label()),
        action: "/affiliate/profile/api-key",
        new_key,
        api_doc: "/3.0/openapi.json",
    }
}

pub async fn admin_show(staff: StaffSession) -> AppResult<HttpResponse> {
    respond(staff_page(&staff, None))
}

pub async fn admin_new_key(state: web::Data<AppState>, staff: StaffSession) -> AppResult<HttpResponse> {
    let id = staff.user.id;
    let key = state.db(move |conn| User::issue_api_key(conn, id)).await?;
    respond(staff_page(&staff, Some(key)))
}

pub async fn affiliate_show(affiliate: AffiliateSession) -> AppResult<HttpResponse> {
    respond(affiliate_page(&affiliate, None))
}

pub async fn affiliate_new_key(state: web::Data<AppState>, affiliate: AffiliateSession) -> AppResult<HttpResponse> {
    let id = affiliate.affiliate.id;
    let key = state.db(move |conn| Affiliate::issue_api_key(conn, id)).await?;
    respond(affiliate_page(&affiliate, Some(key)))
}
