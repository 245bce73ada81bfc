//! Pages of both panels that other areas have not taken over yet: their empty state.

use actix_web::{HttpResponse, Responder};
use askama::Template;
use askama_web::WebTemplate;

use super::auth::{AffiliateSession, StaffSession};
use super::{PageCtx, redirect};

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage;

#[derive(Template, WebTemplate)]
#[template(path = "empty.html")]
struct EmptyPage {
    ctx: PageCtx,
    heading: &'static str,
    text: &'static str,
}

pub async fn home() -> impl Responder {
    HomePage
}

pub async fn admin_home() -> HttpResponse {
    redirect("/admin/tickets")
}

pub async fn affiliate_home() -> HttpResponse {
    redirect("/affiliate/tickets")
}

pub async fn admin_templates(staff: StaffSession) -> impl Responder {
    EmptyPage { ctx: staff.page("templates"), heading: "Templates", text: "No reply templates yet." }
}

pub async fn admin_stats(staff: StaffSession) -> impl Responder {
    EmptyPage { ctx: staff.page("stats"), heading: "Statistics", text: "No statistics to show yet." }
}

pub async fn affiliate_tickets(affiliate: AffiliateSession) -> impl Responder {
    EmptyPage { ctx: affiliate.page("support"), heading: "Support", text: "You have no tickets yet." }
}

pub async fn affiliate_offers(affiliate: AffiliateSession) -> impl Responder {
    EmptyPage { ctx: affiliate.page("offers"), heading: "Offers", text: "No offers to show yet." }
}

pub async fn affiliate_smartlinks(affiliate: AffiliateSession) -> impl Responder {
    EmptyPage { ctx: affiliate.page("smartlinks"), heading: "Smartlinks", text: "No Smartlinks to show yet." }
}
