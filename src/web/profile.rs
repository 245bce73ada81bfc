//! The profile page of each panel: who you are, which emails you get, and your API
//! key (regenerated on request and shown once; only its hash is kept).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::auth::{AffiliateSession, StaffSession};
use super::{AppState, FlashKind, PageCtx, redirect, set_flash};
use crate::domain::affiliates::Affiliate;
use crate::domain::notify::{self, Account, MailEvent};
use crate::domain::users::User;
use crate::error::AppResult;
use crate::http::query::Params;

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
    notifications_action: &'static str,
    /// Each kind of email this account can get, and whether it gets it.
    notifications: Vec<(&'static str, &'static str, bool)>,
}

/// The kinds of email offered to `recipient`, with the ones they switched off.
async fn choices(state: &AppState, recipient: Account) -> AppResult<Vec<(&'static str, &'static str, bool)>> {
    let off = state.db(move |conn| Ok(notify::optouts(conn, recipient)?)).await?;
    let offered: &[MailEvent] = match recipient {
        Account::User(_) => &MailEvent::FOR_STAFF,
        Account::Affiliate(_) => &MailEvent::FOR_AFFILIATES,
    };
    Ok(offered.iter().map(|e| (e.as_str(), e.label(), !off.contains(e))).collect())
}

async fn staff_page(state: &AppState, staff: &StaffSession, new_key: Option<String>) -> AppResult<ProfilePage> {
    Ok(ProfilePage {
        ctx: staff.page("profile"),
        name: staff.user.name.clone(),
        email: staff.user.email.clone(),
        role: if staff.user.is_admin() { "Admin".into() } else { "Affiliate manager".into() },
        action: "/admin/profile/api-key",
        new_key,
        api_doc: "/3.0/openapi.json",
        notifications_action: "/admin/profile/notifications",
        notifications: choices(state, Account::User(staff.user.id)).await?,
    })
}

async fn affiliate_page(
    state: &AppState,
    affiliate: &AffiliateSession,
    new_key: Option<String>,
) -> AppResult<ProfilePage> {
    Ok(ProfilePage {
        ctx: affiliate.page("profile"),
        name: affiliate.affiliate.name.clone(),
        email: affiliate.affiliate.email.clone(),
        role: format!("Affiliate #{} · {}", affiliate.affiliate.id, affiliate.affiliate.status_label()),
        action: "/affiliate/profile/api-key",
        new_key,
        api_doc: "/3.0/openapi.json",
        notifications_action: "/affiliate/profile/notifications",
        notifications: choices(state, Account::Affiliate(affiliate.affiliate.id)).await?,
    })
}

pub async fn admin_show(req: HttpRequest, state: web::Data<AppState>, staff: StaffSession) -> AppResult<HttpResponse> {
    Ok(super::page(&req, staff_page(&state, &staff, None).await?))
}

pub async fn admin_new_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
) -> AppResult<HttpResponse> {
    let id = staff.user.id;
    let key = state.db(move |conn| Ok(User::issue_api_key(conn, id)?)).await?;
    Ok(super::page(&req, staff_page(&state, &staff, Some(key)).await?))
}

pub async fn affiliate_show(
    req: HttpRequest,
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
) -> AppResult<HttpResponse> {
    Ok(super::page(&req, affiliate_page(&state, &affiliate, None).await?))
}

pub async fn affiliate_new_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
) -> AppResult<HttpResponse> {
    let id = affiliate.affiliate.id;
    let key = state.db(move |conn| Ok(Affiliate::issue_api_key(conn, id)?)).await?;
    Ok(super::page(&req, affiliate_page(&state, &affiliate, Some(key)).await?))
}

/// The kinds of email ticked in the form; unknown names are ignored.
fn wanted(form: &Params) -> Vec<MailEvent> {
    form.all("email").into_iter().filter_map(MailEvent::parse).collect()
}

/// `POST /admin/profile/notifications`: the kinds of email a manager gets.
pub async fn admin_notifications(
    state: web::Data<AppState>,
    staff: StaffSession,
    form: Params,
) -> AppResult<HttpResponse> {
    let (recipient, wanted) = (Account::User(staff.user.id), wanted(&form));
    state.db(move |conn| Ok(notify::set_wanted(conn, recipient, &wanted)?)).await?;
    set_flash(&staff.session, FlashKind::Success, "Email settings saved.");
    Ok(redirect("/admin/profile"))
}

/// `POST /affiliate/profile/notifications`: the kinds of email an affiliate gets.
pub async fn affiliate_notifications(
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    form: Params,
) -> AppResult<HttpResponse> {
    let (recipient, wanted) = (Account::Affiliate(affiliate.affiliate.id), wanted(&form));
    state.db(move |conn| Ok(notify::set_wanted(conn, recipient, &wanted)?)).await?;
    set_flash(&affiliate.session, FlashKind::Success, "Email settings saved.");
    Ok(redirect("/affiliate/profile"))
}
