//! The pages outside the panels' areas: the front page and the panels' roots.

use actix_web::{HttpResponse, Responder};
use askama::Template;
use askama_web::WebTemplate;

use super::redirect;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage;

pub async fn home() -> impl Responder {
    HomePage
}

pub async fn admin_home() -> HttpResponse {
    redirect("/admin/tickets")
}

pub async fn affiliate_home() -> HttpResponse {
    redirect("/affiliate/tickets")
}
