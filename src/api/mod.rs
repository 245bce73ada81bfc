//! The `/3.0` JSON API, compatible with Affise's ticket methods: its envelope, its
//! authentication by `API-Key` header, and its parameters.

pub mod manage;
pub mod objects;
pub mod tickets;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use serde_json::json;

use crate::domain::affiliates::Affiliate;
use crate::domain::users::User;
use crate::domain::{Actor, Via};
use crate::error::AppError;
use crate::http::AppState;
use crate::http::query::Params;

/// An `AppError` answered as the API's JSON envelope: `{"status":2,"message":..,"error":..}`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            AppError::LoginRequired { .. } => StatusCode::UNAUTHORIZED,
            e => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match &self.0 {
            AppError::Internal(cause) => log::error!("API internal error: {cause}"),
            AppError::Unavailable(cause) => log::warn!("API: database unavailable: {cause}"),
            _ => {}
        }
        let message = match &self.0 {
            AppError::NotFound => "Not found".to_string(),
            e => e.public_message(),
        };
        let mut resp =
            HttpResponse::build(self.status_code()).json(json!({ "status": 2, "message": message, "error": message }));
        self.0.add_headers(&mut resp);
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(AppError::BadRequest(msg.into()))
}

/// Success: `{"status":1, ...fields}`.
pub fn ok(fields: serde_json::Value) -> HttpResponse {
    let mut body = json!({ "status": 1 });
    if let (Some(b), serde_json::Value::Object(extra)) = (body.as_object_mut(), fields) {
        b.extend(extra);
    }
    HttpResponse::Ok().json(body)
}

const KEY_HEADER: &str = "API-Key";

pub use crate::http::params::is_key_param;

/// A key sent in the URL (`?API-Key=`, as some Affise clients do).
fn key_in_query(req: &HttpRequest) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| is_key_param(k))
        .map(|(_, v)| v.trim().to_string())
}

/// The key of a request: the `API-Key` header, or, only with `--api-key-in-url`,
/// the URL's. Keys in URLs end up in proxies' logs and browser histories, so they
/// are refused unless a network turns them on for clients that cannot send the
/// header (affdesk's own log leaves them out).
fn read_header_key(req: &HttpRequest) -> Result<String, ApiError> {
    let header = req.headers().get(KEY_HEADER).and_then(|v| v.to_str().ok()).map(str::trim).filter(|k| !k.is_empty());
    if let Some(k) = header {
        return Ok(k.to_string());
    }
    if let Some(k) = key_in_query(req) {
        let allowed = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.config.api_key_in_url);
        if !allowed {
            return Err(ApiError(AppError::Unauthorized(
                "Send the API key in the API-Key header; keys in the URL are refused because URLs end up in logs"
                    .into(),
            )));
        }
        if !k.is_empty() {
            return Ok(k);
        }
    }
    Err(ApiError(AppError::Unauthorized("Token is necessary: send your API key in the API-Key header".into())))
}

fn invalid_key() -> ApiError {
    ApiError(AppError::Unauthorized("The API key is not valid".into()))
}

type Find<T> = fn(&mut crate::db::AnyConnection, &str) -> affdesk_core::error::DomainResult<Option<T>>;

/// Finds who a key belongs to with `find`, and lets them in if `allowed`. A valid
/// key of the other kind (an affiliate's key on an admin method) is not allowed
/// here (403), which is not the same as a key that is wrong (401).
fn authenticate<T: Send + 'static, O: Send + 'static>(
    req: &HttpRequest,
    find: Find<T>,
    allowed: fn(&T) -> bool,
    find_other: Find<O>,
    other_kind: &'static str,
) -> Pin<Box<dyn Future<Output = Result<T, ApiError>>>> {
    let req = req.clone();
    Box::pin(async move {
        let key = read_header_key(&req)?;
        let state =
            req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError(AppError::internal("no app state")))?;
        let limits = state.api_limits.clone();
        // The request counts against its key's limit in the same round trip.
        let found = state
            .db(move |conn| {
                limits.check(conn, &key)?;
                match find(conn, &key)? {
                    Some(who) => Ok(Ok(who)),
                    None => Ok(Err(find_other(conn, &key)?.is_some())),
                }
            })
            .await?;
        match found {
            Ok(who) if allowed(&who) => Ok(who),
            Err(true) => {
                Err(ApiError(AppError::forbidden(format!("This method is not allowed with {other_kind}'s API key"))))
            }
            _ => Err(invalid_key()),
        }
    })
}

/// A manager or admin authenticated by their API key; a disabled user's key is refused.
pub struct ApiStaff(pub User);

impl ApiStaff {
    pub fn actor(&self) -> Actor {
        self.0.actor(Via::Api)
    }
}

impl FromRequest for ApiStaff {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = authenticate(
            req,
            User::find_by_api_key,
            |u: &User| !u.disabled,
            Affiliate::find_by_api_key,
            "an affiliate",
        );
        Box::pin(async move { user.await.map(ApiStaff) })
    }
}

/// An affiliate authenticated by their API key; a banned affiliate's key is refused.
pub struct ApiAffiliate(pub Affiliate);

impl ApiAffiliate {
    pub fn actor(&self) -> Actor {
        self.0.actor(Via::Api)
    }
}

impl FromRequest for ApiAffiliate {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let affiliate =
            authenticate(req, Affiliate::find_by_api_key, Affiliate::may_log_in, User::find_by_api_key, "a manager");
        Box::pin(async move { affiliate.await.map(ApiAffiliate) })
    }
}

/// The parameters of an API request (query string and form or multipart body),
/// with errors answered as the API's JSON.
pub struct ApiParams(pub Params);

impl FromRequest for ApiParams {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let params = Params::from_request(req, payload);
        Box::pin(async move { params.await.map(ApiParams).map_err(ApiError) })
    }
}

/// A whole number, or a 400 that names the parameter.
pub fn int(params: &Params, name: &str) -> ApiResult<Option<i64>> {
    match params.one(name) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| bad(format!("{name} must be an integer, not \"{v}\""))),
    }
}

/// A yes/no parameter: `1`/`true` or `0`/`false` (absent is no). Anything else is a
/// 400: a typo must never turn an internal note into a reply the affiliate reads.
pub fn flag(params: &Params, name: &str) -> ApiResult<bool> {
    match params.one(name) {
        None | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(v) => Err(bad(format!("{name} must be 1 or 0 (true or false), not \"{v}\""))),
    }
}

pub async fn not_found(req: HttpRequest) -> ApiResult<HttpResponse> {
    Err(bad(format!("No such API method: {} {} (see /3.0/openapi.json)", req.method(), req.path())).with_status_404())
}

impl ApiError {
    fn with_status_404(self) -> ApiError {
        match self.0 {
            AppError::BadRequest(m) => ApiError(AppError::MethodNotFound(m)),
            other => ApiError(other),
        }
    }
}

/// The OpenAPI document, kept beside the code; a test holds it against the routes
/// and the real responses.
pub const OPENAPI: &str = include_str!("openapi.json");

pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(OPENAPI)
}

/// One address of the API and the methods it answers; any other method gets 405
/// with `Allow`.
fn at(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(ApiError(AppError::MethodNotAllowed { allow: allow.into() }))
    }))
}

/// Declares the API's methods once: their registration (each address answering any
/// other method with 405 and `Allow`) and the list the authorisation test walks.
macro_rules! api_table {
    ($( $method:ident $path:literal => $handler:expr ),* $(,)?) => {
        pub const API_ROUTES: &[(&str, &str)] = &[$((stringify!($method), concat!("/3.0", $path))),*];

        fn api_routes(scope: actix_web::Scope) -> actix_web::Scope {
            scope $(.service(at($path, stringify!($method)).route(web::route().method(actix_web::http::Method::$method).to($handler))))*
        }
    };
}

api_table! {
    GET "/openapi.json" => openapi,
    GET "/admin/tickets" => tickets::list,
    GET "/admin/tickets/export" => tickets::export,
    POST "/admin/ticket" => manage::create,
    GET "/admin/ticket/{id}" => tickets::show,
    POST "/admin/ticket/{id}/offer" => tickets::decide_offer,
    POST "/admin/ticket/{id}/smartlink" => tickets::decide_smartlink,
    GET "/admin/ticket/{id}/comments" => manage::comments,
    POST "/admin/ticket/{id}/comment" => manage::reply,
    POST "/admin/ticket/{id}/close" => manage::close,
    POST "/admin/ticket/{id}/reopen" => manage::reopen,
    POST "/admin/ticket/{id}/remove" => manage::remove,
    GET "/admin/attachments/{id}" => tickets::download,
    GET "/admin/templates" => manage::templates,
    POST "/admin/template" => manage::create_template,
    POST "/admin/template/{id}" => manage::update_template,
    POST "/admin/template/{id}/remove" => manage::remove_template,
    POST "/partner/activation/offer" => tickets::request_offer,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    let scope = api_routes(web::scope("/3.0")).default_service(web::to(not_found));
    cfg.service(scope.wrap(crate::http::headers::private()));
}
