//! `GET /admin/affiliates/suggest`: affiliates whose ID or name fits what is typed
//! into an affiliate field, as `<option>`s for its `<datalist>`. Without JavaScript
//! the fields take a name all the same; this only saves typing.

use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::auth::StaffSession;
use crate::domain::affiliates;
use crate::error::AppResult;
use crate::http::query::Params;

#[derive(askama::Template)]
#[template(path = "admin/_affiliate_suggestions.html")]
struct Suggestions {
    found: Vec<affiliates::AffiliateName>,
}

/// Suggestions shown at once.
const SUGGESTIONS: i64 = 8;

pub async fn suggest(req: HttpRequest, state: web::Data<AppState>, staff: StaffSession) -> AppResult<HttpResponse> {
    let params = Params::from_query(req.query_string());
    // The field's own name is sent (`affiliate_id` on every form); `q` for clients.
    let text = ["affiliate_id", "q"].iter().find_map(|n| params.one(n)).unwrap_or("").to_string();
    let actor = staff.actor();
    let found = state.db(move |conn| Ok(affiliates::suggest(conn, &actor, &text, SUGGESTIONS)?)).await?;
    Ok(super::page(&req, Suggestions { found }))
}
