//! CSRF protection for every state-changing request of the panels.
//!
//! The token lives in the server-side session. Forms carry it as the hidden field
//! `csrf_token`; htmx sends it as the `X-CSRF-Token` header (set with `hx-headers`
//! on `<body>`). A request with an `Origin` header from another site is refused
//! outright; one without `Origin` is judged by the token alone.

use actix_session::{Session, SessionExt};
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;

use crate::error::AppError;
pub use crate::http::upload::csrf_refusal as refusal;
use crate::http::upload::{self, CSRF_FIELD as FIELD, ExpectedToken, constant_time_eq};
pub const HEADER: &str = "X-CSRF-Token";
const SESSION_KEY: &str = "csrf";
/// Url-encoded forms larger than this are not forms a person typed (the longest
/// field, a template's text, is 20,000 characters).
pub const MAX_FORM_BYTES: usize = 512 * 1024;

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

/// Only these forms carry files (multipart), up to the size returned; every other
/// form is url-encoded.
fn file_cap(path: &str) -> Option<usize> {
    match path {
        "/admin/tickets" | "/affiliate/tickets" => Some(upload::MAX_UPLOAD_BYTES),
        "/admin/import" => Some(super::imports::MAX_FILE_BYTES),
        p if p.ends_with("/messages") => Some(upload::MAX_UPLOAD_BYTES),
        _ => None,
    }
}

/// The middleware: wraps the `/admin` and `/affiliate` scopes. Every POST proves
/// its token before any handler runs, whatever its body: url-encoded forms here,
/// multipart forms (the ones with files) as their first field, in `http::upload`.
/// A body larger than its kind of form may send is refused before it is read.
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
    let multipart = content_type.starts_with("multipart/form-data");
    let urlencoded = content_type.starts_with("application/x-www-form-urlencoded");
    let cap = match (multipart, file_cap(req.path())) {
        (false, _) => MAX_FORM_BYTES,
        (true, Some(cap)) => cap,
        (true, None) => {
            return Err(
                AppError::UnsupportedMediaType("This form is sent url-encoded, not as multipart.".into()).into()
            );
        }
    };
    if upload::declared_length(req.headers()).is_some_and(|n| n > cap) {
        return Err(crate::http::too_large(cap).into());
    }
    if let Some(sent) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        return match &expected {
            Some(e) if constant_time_eq(e.as_bytes(), sent.as_bytes()) => next.call(req).await,
            _ => Err(refusal().into()),
        };
    }
    if multipart {
        req.extensions_mut().insert(ExpectedToken(expected));
        return next.call(req).await;
    }
    if !urlencoded {
        return Err(AppError::UnsupportedMediaType("Send the form as the page does.".into()).into());
    }
    let deadline = crate::http::body_deadline(req.request());
    let (http_req, payload) = req.into_parts();
    let body = crate::http::params::read_body(payload, MAX_FORM_BYTES, deadline).await?;
    let sent = form_field(&body, FIELD);
    let ok = matches!((&expected, &sent), (Some(e), Some(s)) if constant_time_eq(e.as_bytes(), s.as_bytes()));
    if !ok {
        return Err(refusal().into());
    }
    let req = ServiceRequest::from_parts(http_req, Payload::from(body));
    next.call(req).await
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
