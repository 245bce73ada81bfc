//! CSRF protection for every state-changing request of the panels.
//!
//! The token lives in the server-side session. Forms carry it as the hidden field
//! `csrf_token`; htmx sends it as the `X-CSRF-Token` header (set with `hx-headers`
//! on `<body>`). A request with an `Origin` header from another site is refused
//! outright; one without `Origin` is judged by the token alone.

use actix_session::{Session, SessionExt};
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpMessage};

pub use crate::http::upload::csrf_refusal as refusal;
use crate::http::upload::{CSRF_FIELD as FIELD, ExpectedToken, constant_time_eq};
pub const HEADER: &str = "X-CSRF-Token";
const SESSION_KEY: &str = "csrf";
/// Form bodies larger than this are not forms a person typed.
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// The session's CSRF token, created on first use.
pub fn token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(SESSION_KEY) {
        return t;
    }
    let t = crate::domain::random_token(32);
    let _ = session.insert(SESSION_KEY, &t);
    t
}

/// A new token, after login: a token seen before login is not trusted after it.
pub fn rotate(session: &Session) -> String {
    let _ = session.remove(SESSION_KEY);
    token(session)
}

/// The middleware: wraps the `/admin` and `/affiliate` scopes.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.call(req).await;
    }
    if !origin_matches(&req) {
        return Err(refusal().into());
    }
    let expected = req.get_session().get::<String>(SESSION_KEY).ok().flatten();
    let content_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();

    if let Some(sent) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        return match &expected {
            Some(e) if constant_time_eq(e.as_bytes(), sent.as_bytes()) => next.call(req).await,
            _ => Err(refusal().into()),
        };
    }
    if content_type.starts_with("multipart/form-data") {
        req.extensions_mut().insert(ExpectedToken(expected));
        return next.call(req).await;
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let (http_req, mut payload) = req.into_parts();
        let limited = actix_web::web::PayloadConfig::new(MAX_FORM_BYTES);
        http_req.extensions_mut().insert(limited);
        let body = Bytes::from_request(&http_req, &mut payload).await?;
        let sent = form_field(&body, FIELD);
        let ok = matches!((&expected, &sent), (Some(e), Some(s)) if constant_time_eq(e.as_bytes(), s.as_bytes()));
        if !ok {
            return Err(refusal().into());
        }
        let req = ServiceRequest::from_parts(http_req, Payload::from(body));
        return next.call(req).await;
    }
    Err(refusal().into())
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// `Origin`, when present, must name this host.
fn origin_matches(req: &ServiceRequest) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin == "null" {
        return false;
    }
    let host = req.connection_info().host().to_ascii_lowercase();
    match url::Url::parse(origin) {
        Ok(u) => {
            let origin_host = match (u.host_str(), u.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                _ => return false,
            };
            origin_host.to_ascii_lowercase() == host
        }
        Err(_) => false,
    }
}
