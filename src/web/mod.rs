//! The panels: actix handlers, one file per area, and the pieces they share.

pub mod accounts;
pub mod admin_tickets;
pub mod affiliate;
pub mod affiliate_lookup;
pub mod affiliate_side;
pub mod affiliates_admin;
pub mod assets;
pub mod assignment;
pub mod auth;
pub mod catalogue_admin;
pub mod csrf;
pub mod dates;
pub mod forms;
pub mod imports;
pub mod live;
pub mod manager_thread;
pub mod new_ticket;
pub mod outbox;
pub mod pages;
pub mod people;
pub mod profile;
pub mod reply_templates;
pub mod reports;
pub mod session_store;
pub mod stats;
pub mod thread;
pub mod ticket_list;

use actix_session::Session;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::domain::states::AccountKind;
use crate::error::{AppError, AppResult};
pub use crate::http::AppState;
use crate::http::headers;

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

/// The banner to show once.
pub fn take_flash(session: &Session) -> Option<Flash> {
    take_once(session, FLASH_KEY)
}

/// A value kept in the session for the next page only (a banner, the rows an action
/// marked, a draft). Only touches the session when there is one: a removal marks
/// the session changed, which would cost a write on every page view.
pub fn take_once<T: serde::de::DeserializeOwned>(session: &Session, key: &str) -> Option<T> {
    if !session.contains_key(key) {
        return None;
    }
    session.remove_as::<T>(key).and_then(|r| r.ok())
}

/// A page or fragment as askama_web answers it (HTML, UTF-8), with its status: 422
/// for a form sent back with its errors, 404 for a ticket that is not there. A
/// template that fails to render keeps askama_web's 500 (and its log line).
pub fn html<T: askama::Template>(req: &HttpRequest, t: T, status: actix_web::http::StatusCode) -> HttpResponse {
    let mut resp = page(req, t);
    if resp.status().is_success() {
        *resp.status_mut() = status;
    }
    resp
}

/// A page or fragment that is 200 OK.
pub fn page<T: askama::Template>(req: &HttpRequest, t: T) -> HttpResponse {
    use actix_web::Responder;
    askama_web::WebTemplate(t).respond_to(req)
}

#[derive(askama::Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    ctx: PageCtx,
    title: String,
    message: String,
    back: &'static str,
    back_label: &'static str,
}

/// A ticket that is not the reader's (a colleague's, another affiliate's) or is gone,
/// said inside the panel with its navigation: a bookmark or a shared link leaves the
/// reader somewhere to go on from, not on a bare error page. Whether it exists is not
/// told: a 404 either way.
pub fn ticket_not_found(req: &HttpRequest, ctx: PageCtx, id: i64) -> AppResult<HttpResponse> {
    let (message, back) = if ctx.is_admin_panel() {
        (
            format!(
                "Ticket #{id} is not in your queue: it belongs to another manager's affiliate, or it was removed. \
                 Ask an admin or the ticket's manager if you need it."
            ),
            "/admin/tickets",
        )
    } else {
        (format!("There is no ticket #{id} among yours: it may have been removed."), "/affiliate/tickets")
    };
    let page = NotFoundPage {
        ctx,
        title: format!("Ticket #{id} not found"),
        message: message.clone(),
        back,
        back_label: "Back to the tickets",
    };
    let mut resp = html(req, page, actix_web::http::StatusCode::NOT_FOUND);
    // htmx requests get the message in the flash area, as for every error.
    resp.extensions_mut().insert(crate::error::ErrorMessage(message));
    Ok(resp)
}

/// Text made safe to put into HTML built outside a template.
pub fn escape_html(s: &str) -> String {
    askama::filters::escape(s, askama::filters::Html).map(|e| e.to_string()).unwrap_or_default()
}

/// The frame of every logged-in page: navigation, user menu, CSRF token, flash.
#[derive(Clone, Debug)]
pub struct PageCtx {
    pub panel: AccountKind,
    pub user_name: String,
    pub user_detail: String,
    pub csrf: String,
    pub flash: Option<Flash>,
    /// The navigation entry to highlight.
    pub nav: &'static str,
    /// Admins see the outbox.
    pub is_admin: bool,
    /// The live events this page listens to (its `sse-connect` address), if any.
    pub live: Option<String>,
}

impl PageCtx {
    pub fn is_admin_panel(&self) -> bool {
        self.panel == AccountKind::User
    }
    /// `hx-headers` for `<body>`: htmx sends the CSRF token with every request.
    pub fn hx_headers(&self) -> String {
        serde_json::json!({ csrf::HEADER: self.csrf }).to_string()
    }
}

/// Is this an htmx request (answer with a fragment, not the whole page)? Back and
/// Forward ask htmx to restore a page it has not kept: that request wants the
/// whole page, or the browser would show only the fragment.
pub fn is_htmx(req: &HttpRequest) -> bool {
    let header = |name: &str| req.headers().get(name).is_some_and(|v| v == "true");
    header("HX-Request") && !header("HX-History-Restore-Request")
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

fn plain(status: actix_web::http::StatusCode, text: &str) -> HttpResponse {
    HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(format!("{text}\n"))
}

/// `GET /healthz`: 200 when the database and the attachment store answer, 503 otherwise.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    use actix_web::http::StatusCode;
    let ok = state
        .db(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("SELECT 1").map_err(AppError::from)
        })
        .await;
    if let Err(e) = ok {
        log::warn!("health check failed: {e}");
        return plain(StatusCode::SERVICE_UNAVAILABLE, "database unavailable");
    }
    let store = state.storage.clone();
    match web::block(move || store.check()).await {
        Ok(Ok(())) => plain(StatusCode::OK, "ok"),
        Ok(Err(e)) => {
            log::warn!("health check failed: attachment storage: {e}");
            plain(StatusCode::SERVICE_UNAVAILABLE, "attachment storage unavailable")
        }
        Err(_) => plain(StatusCode::SERVICE_UNAVAILABLE, "attachment storage unavailable"),
    }
}

/// `GET /readyz`: 200 while this instance takes traffic (its migrations are applied
/// before it listens); 503 once it is shutting down, so the balancer moves away.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    use actix_web::http::StatusCode;
    if state.lifecycle.is_shutting_down() {
        plain(StatusCode::SERVICE_UNAVAILABLE, "shutting down")
    } else {
        plain(StatusCode::OK, "ready")
    }
}

pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

#[derive(askama::Template)]
#[template(path = "_flash_error.html")]
struct FlashError {
    message: String,
}

/// For htmx requests, an error page becomes a banner in `#flash` instead of
/// replacing the part of the page the request aimed at.
pub async fn htmx_errors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let htmx = is_htmx(req.request());
    let res = next.call(req).await?.map_into_boxed_body();
    if !htmx {
        return Ok(res);
    }
    let message = res.response().extensions().get::<crate::error::ErrorMessage>().map(|m| m.0.clone());
    let Some(message) = message else { return Ok(res) };
    let status = res.status();
    let (req, _) = res.into_parts();
    let mut resp = html(&req, FlashError { message }, status);
    resp.headers_mut()
        .insert(header::HeaderName::from_static("hx-retarget"), header::HeaderValue::from_static("#flash"));
    resp.headers_mut()
        .insert(header::HeaderName::from_static("hx-reswap"), header::HeaderValue::from_static("innerHTML"));
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

/// Declares a scope's routes once: the function that registers them, and the list
/// of (method, full path) that the authorisation test walks, so a route cannot be
/// added without a line in that test.
macro_rules! route_table {
    ($list:ident, $register:ident, $prefix:literal, { $( $method:ident $path:literal => $handler:expr ),* $(,)? }) => {
        pub const $list: &[(&str, &str)] = &[$((stringify!($method), concat!($prefix, $path))),*];

        fn $register(scope: actix_web::Scope) -> actix_web::Scope {
            scope $(.route($path, web::route().method(actix_web::http::Method::$method).to($handler)))*
        }
    };
}

route_table!(PUBLIC_ROUTES, public_routes, "", {
    GET "/healthz" => healthz,
    GET "/readyz" => readyz,
    GET "/static/{file}" => assets::serve,
    GET "/" => pages::home,
    GET "/favicon.ico" => || async { redirect("/static/favicon.svg") },
});

route_table!(ADMIN_ROUTES, admin_routes, "/admin", {
    GET "" => pages::admin_home,
    GET "/" => pages::admin_home,
    GET "/login" => auth::admin_login_form,
    POST "/login" => auth::admin_login,
    POST "/login/unlock" => accounts::admin_unlock,
    POST "/logout" => auth::admin_logout,
    GET "/password" => accounts::admin_link,
    POST "/password" => accounts::admin_set,
    GET "/password/forgot" => accounts::admin_forgot_form,
    POST "/password/forgot" => accounts::admin_forgot,
    POST "/profile/password" => accounts::admin_change,
    GET "/profile" => profile::admin_show,
    POST "/profile/api-key" => profile::admin_new_key,
    POST "/profile/notifications" => profile::admin_notifications,
    GET "/outbox" => outbox::list,
    POST "/outbox/{id}/retry" => outbox::retry,
    POST "/outbox/affise/{id}/retry" => outbox::retry_push,
    GET "/tickets" => admin_tickets::list,
    POST "/tickets" => new_ticket::admin_create,
    GET "/tickets/new" => new_ticket::admin_form,
    GET "/tickets/export" => admin_tickets::export,
    POST "/tickets/bulk" => admin_tickets::bulk,
    GET "/tickets/{id}" => manager_thread::admin_show,
    GET "/tickets/{id}/template" => manager_thread::admin_template,
    POST "/tickets/{id}/messages" => manager_thread::admin_reply,
    GET "/tickets/{id}/live" => live::admin_parts,
    POST "/tickets/{id}/typing" => live::admin_typing,
    GET "/tickets/{id}/assign" => assignment::form,
    GET "/tickets/{id}/affiliate" => affiliate_side::show,
    POST "/tickets/{id}/assign" => assignment::assign,
    POST "/tickets/{id}/{action}" => admin_tickets::single_action,
    GET "/events" => live::admin_events,
    GET "/unread" => live::admin_unread,
    GET "/attachments/{id}" => thread::admin_download,
    GET "/affiliates/suggest" => affiliate_lookup::suggest,
    GET "/affiliates" => affiliates_admin::list,
    POST "/affiliates" => affiliates_admin::create,
    GET "/affiliates/new" => affiliates_admin::new_form,
    GET "/affiliates/{id}" => affiliates_admin::edit_form,
    POST "/affiliates/{id}" => affiliates_admin::update,
    POST "/affiliates/{id}/disable" => affiliates_admin::disable,
    POST "/affiliates/{id}/enable" => affiliates_admin::enable,
    POST "/affiliates/{id}/invite" => affiliates_admin::invite,
    GET "/offers" => catalogue_admin::offers,
    POST "/offers" => catalogue_admin::create_offer,
    GET "/offers/new" => catalogue_admin::new_offer,
    GET "/offers/{id}" => catalogue_admin::offer,
    POST "/offers/{id}" => catalogue_admin::update_offer,
    POST "/offers/{id}/access" => catalogue_admin::offer_access,
    GET "/smartlinks" => catalogue_admin::smartlinks,
    POST "/smartlinks" => catalogue_admin::create_smartlink,
    GET "/smartlinks/new" => catalogue_admin::new_smartlink,
    GET "/smartlinks/{id}" => catalogue_admin::smartlink,
    POST "/smartlinks/{id}" => catalogue_admin::update_smartlink,
    POST "/smartlinks/{id}/access" => catalogue_admin::smartlink_access,
    GET "/import" => imports::form,
    POST "/import" => imports::preview,
    POST "/import/apply" => imports::apply,
    GET "/people" => people::list,
    POST "/people" => people::invite,
    POST "/people/hand-over" => people::hand_over,
    POST "/people/covers/{id}/end" => people::end_cover,
    POST "/people/{id}/invite" => people::reinvite,
    POST "/people/{id}/disable" => people::disable,
    POST "/people/{id}/enable" => people::enable,
    POST "/people/{id}/queues" => people::queues,
    GET "/templates" => reply_templates::list,
    POST "/templates" => reply_templates::create,
    GET "/templates/new" => reply_templates::new_form,
    GET "/templates/{id}/edit" => reply_templates::edit_form,
    POST "/templates/{id}" => reply_templates::update,
    POST "/templates/{id}/delete" => reply_templates::delete,
    GET "/stats/daily" => stats::daily,
    GET "/reports" => reports::show,
    GET "/reports/export" => reports::export,
});

route_table!(AFFILIATE_ROUTES, affiliate_routes, "/affiliate", {
    GET "" => pages::affiliate_home,
    GET "/" => pages::affiliate_home,
    GET "/login" => auth::affiliate_login_form,
    POST "/login" => auth::affiliate_login,
    POST "/login/unlock" => accounts::affiliate_unlock,
    POST "/logout" => auth::affiliate_logout,
    GET "/password" => accounts::affiliate_link,
    POST "/password" => accounts::affiliate_set,
    GET "/password/forgot" => accounts::affiliate_forgot_form,
    POST "/password/forgot" => accounts::affiliate_forgot,
    POST "/profile/password" => accounts::affiliate_change,
    GET "/profile" => profile::affiliate_show,
    POST "/profile/api-key" => profile::affiliate_new_key,
    POST "/profile/notifications" => profile::affiliate_notifications,
    GET "/tickets" => affiliate::support,
    POST "/tickets" => new_ticket::affiliate_create,
    GET "/tickets/new" => new_ticket::affiliate_form,
    GET "/tickets/{id}" => thread::affiliate_show,
    POST "/tickets/{id}/messages" => thread::affiliate_reply,
    GET "/tickets/{id}/live" => live::affiliate_parts,
    POST "/tickets/{id}/typing" => live::affiliate_typing,
    GET "/events" => live::affiliate_events,
    GET "/attachments/{id}" => thread::affiliate_download,
    GET "/offers" => affiliate::offers,
    POST "/offers/{id}/request" => affiliate::request_offer,
    GET "/smartlinks" => affiliate::smartlinks,
    POST "/smartlinks/{id}/request" => affiliate::request_smartlink,
});

/// The whole URL space of the panels: the public routes, then each panel's scope
/// with its CSRF guard and no-store.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use actix_web::middleware::from_fn;
    let admin = admin_routes(web::scope("/admin")).wrap(from_fn(csrf::guard)).wrap(headers::private());
    let affiliate = affiliate_routes(web::scope("/affiliate")).wrap(from_fn(csrf::guard)).wrap(headers::private());
    // The public routes last: their scope has no prefix and would see every path.
    cfg.service(admin).service(affiliate).service(public_routes(web::scope("")));
}
