//! The panels: actix handlers, one file per area, and the pieces they share.

pub mod admin_tickets;
pub mod affiliate;
pub mod assets;
pub mod auth;
pub mod csrf;
pub mod dates;
pub mod forms;
pub mod new_ticket;
pub mod pages;
pub mod profile;
pub mod reply_templates;
pub mod session_store;
pub mod stats;
pub mod thread;
pub mod ticket_list;

use actix_session::Session;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
pub use crate::http::AppState;
use crate::http::headers;

/// Which panel a page belongs to: decides the navigation and the login page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Admin,
    Affiliate,
}

/// How a banner looks: its words go in the CSS class (`flash-success`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashKind {
    Success,
    Info,
    Warning,
    Error,
}

impl std::fmt::Display for FlashKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FlashKind::Success => "success",
            FlashKind::Info => "info",
            FlashKind::Warning => "warning",
            FlashKind::Error => "error",
        })
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Flash {
    pub kind: FlashKind,
    pub text: String,
}

const FLASH_KEY: &str = "flash";

pub fn set_flash(session: &Session, kind: FlashKind, text: impl Into<String>) {
    let _ = session.insert(FLASH_KEY, Flash { kind, text: text.into() });
}

/// The banner to show once. Only touches the session when there is one: a removal
/// marks the session changed, which would cost a write on every page view.
pub fn take_flash(session: &Session) -> Option<Flash> {
    if !session.contains_key(FLASH_KEY) {
        return None;
    }
    session.remove_as::<Flash>(FLASH_KEY).and_then(|r| r.ok())
}

/// The frame of every logged-in page: navigation, user menu, CSRF token, flash.
#[derive(Clone, Debug)]
pub struct PageCtx {
    pub panel: Panel,
    pub user_name: String,
    pub user_detail: String,
    pub csrf: String,
    pub flash: Option<Flash>,
    /// The navigation entry to highlight.
    pub nav: &'static str,
}

impl PageCtx {
    pub fn is_admin_panel(&self) -> bool {
        self.panel == Panel::Admin
    }
    /// `hx-headers` for `<body>`: htmx sends the CSRF token with every request.
    pub fn hx_headers(&self) -> String {
        serde_json::json!({ csrf::HEADER: self.csrf }).to_string()
    }
}

/// Is this an htmx request (answer with a fragment, not the whole page)?
pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().get("HX-Request").is_some_and(|v| v == "true")
}

/// After a form post: go back with 303 (the browser then GETs), or tell htmx to.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_string())).finish()
}

/// An id from a path: one that is not a number names nothing, so 404 like an unknown id.
pub fn path_id(raw: &str) -> AppResult<i64> {
    raw.parse().map_err(|_| AppError::NotFound)
}

pub use crate::http::url_encode;

/// Only same-site paths are followed after login, never another host. Browsers
/// drop tabs and newlines from a `Location`, so `/\t/evil.example` would read as
/// `//evil.example`: a path with any control character or backslash is refused.
pub fn safe_next(next: Option<&str>, fallback: &str) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.chars().any(|c| c.is_control() || c == '\\') => {
            n.to_string()
        }
        _ => fallback.to_string(),
    }
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let ok = state
        .db(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("SELECT 1").map_err(AppError::from)
        })
        .await;
    match ok {
        Ok(()) => HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("ok\n"),
        Err(e) => {
            log::warn!("health check failed: {e}");
            HttpResponse::ServiceUnavailable().content_type("text/plain; charset=utf-8").body("database unavailable\n")
        }
    }
}

pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// For htmx requests, an error page becomes a banner in `#flash` instead of
/// replacing the part of the page the request aimed at.
pub async fn htmx_errors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let htmx = req.headers().get("HX-Request").is_some_and(|v| v == "true");
    let res = next.call(req).await?.map_into_boxed_body();
    if !htmx {
        return Ok(res);
    }
    let message = res.response().extensions().get::<crate::error::ErrorMessage>().map(|m| m.0.clone());
    let Some(message) = message else { return Ok(res) };
    let status = res.status();
    let (req, _) = res.into_parts();
    let body = format!(
        "<div class=\"flash flash-error\" role=\"alert\">{}</div>",
        askama::filters::escape(&message, askama::filters::Html).map(|e| e.to_string()).unwrap_or_default()
    );
    let resp = HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header(("HX-Retarget", "#flash"))
        .insert_header(("HX-Reswap", "innerHTML"))
        .body(body);
    Ok(actix_web::dev::ServiceResponse::new(req, resp))
}

/// actix's own error answers (405, an unreadable body, a failed session store, ...)
/// come as bare text or as an `Err`; give them the same error page as ours. A bare
/// 500 while the database is known to be down is told as what it is: a 503.
pub async fn error_pages(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_web::dev::ServiceResponse;
    let db_status = req.app_data::<web::Data<AppState>>().map(|s| s.db_status.clone());
    let down = move || db_status.as_ref().is_some_and(|s| s.recently_unavailable());
    let https = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.config.secure_cookies);
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            // Errors raised by middleware (the CSRF guard, the session store) skip
            // the headers layer: they get the same page and headers here.
            let mut page = match e.as_error::<AppError>() {
                Some(app) => actix_web::ResponseError::error_response(app),
                None => plain_error_page(e.as_response_error().status_code(), down()),
            };
            headers::add_security(page.headers_mut(), https);
            return Err(actix_web::error::InternalError::from_response(e.to_string(), page).into());
        }
    };
    let status = res.status();
    let ours = res.response().extensions().get::<crate::error::ErrorMessage>().is_some()
        || res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let api = res.request().path().starts_with("/3.0");
    if ours || api || !(status.is_client_error() || status.is_server_error()) {
        return Ok(res);
    }
    let (req, _) = res.into_parts();
    Ok(ServiceResponse::new(req, plain_error_page(status, down())))
}

fn plain_error_page(status: actix_web::http::StatusCode, database_down: bool) -> HttpResponse {
    if database_down && status == actix_web::http::StatusCode::INTERNAL_SERVER_ERROR {
        return actix_web::ResponseError::error_response(&AppError::Unavailable("session store".into()));
    }
    let message = status.canonical_reason().unwrap_or("Error").to_string();
    crate::error::render_error_page(status, &message, &message)
}

/// The whole URL space, top to bottom.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use actix_web::middleware::from_fn;
    cfg.route("/healthz", web::get().to(healthz))
        .service(web::resource("/static/{file}").route(web::get().to(assets::serve)))
        .route("/", web::get().to(pages::home))
        .route("/favicon.ico", web::get().to(|| async { redirect("/static/favicon.svg") }))
        .service(
            web::scope("/admin")
                .wrap(from_fn(csrf::guard))
                .wrap(headers::private())
                .route("", web::get().to(pages::admin_home))
                .route("/", web::get().to(pages::admin_home))
                .route("/login", web::get().to(auth::admin_login_form))
                .route("/login", web::post().to(auth::admin_login))
                .route("/logout", web::post().to(auth::admin_logout))
                .route("/profile", web::get().to(profile::admin_show))
                .route("/profile/api-key", web::post().to(profile::admin_new_key))
                .route("/tickets", web::get().to(admin_tickets::list))
                .route("/tickets", web::post().to(new_ticket::admin_create))
                .route("/tickets/new", web::get().to(new_ticket::admin_form))
                .route("/tickets/bulk", web::post().to(admin_tickets::bulk))
                .route("/tickets/{id}", web::get().to(thread::admin_show))
                .route("/tickets/{id}/template", web::get().to(thread::admin_template))
                .route("/tickets/{id}/messages", web::post().to(thread::admin_reply))
                .route("/tickets/{id}/{action}", web::post().to(admin_tickets::single_action))
                .route("/attachments/{id}", web::get().to(thread::admin_download))
                .route("/templates", web::get().to(reply_templates::list))
                .route("/templates", web::post().to(reply_templates::create))
                .route("/templates/new", web::get().to(reply_templates::new_form))
                .route("/templates/{id}/edit", web::get().to(reply_templates::edit_form))
                .route("/templates/{id}", web::post().to(reply_templates::update))
                .route("/templates/{id}/delete", web::post().to(reply_templates::delete))
                .route("/stats/daily", web::get().to(stats::daily)),
        )
        .service(
            web::scope("/affiliate")
                .wrap(from_fn(csrf::guard))
                .wrap(headers::private())
                .route("", web::get().to(pages::affiliate_home))
                .route("/", web::get().to(pages::affiliate_home))
                .route("/login", web::get().to(auth::affiliate_login_form))
                .route("/login", web::post().to(auth::affiliate_login))
                .route("/logout", web::post().to(auth::affiliate_logout))
                .route("/profile", web::get().to(profile::affiliate_show))
                .route("/profile/api-key", web::post().to(profile::affiliate_new_key))
                .route("/tickets", web::get().to(affiliate::support))
                .route("/tickets", web::post().to(new_ticket::affiliate_create))
                .route("/tickets/new", web::get().to(new_ticket::affiliate_form))
                .route("/tickets/{id}", web::get().to(thread::affiliate_show))
                .route("/tickets/{id}/messages", web::post().to(thread::affiliate_reply))
                .route("/attachments/{id}", web::get().to(thread::affiliate_download))
                .route("/offers", web::get().to(affiliate::offers))
                .route("/offers/{id}/request", web::post().to(affiliate::request_offer))
                .route("/smartlinks", web::get().to(affiliate::smartlinks))
                .route("/smartlinks/{id}/request", web::post().to(affiliate::request_smartlink)),
        );
}
