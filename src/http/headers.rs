//! Security headers on every response, and `no-store` on private pages.

use actix_web::middleware::DefaultHeaders;

/// No inline script anywhere (htmx is configured by a meta tag, not inline code).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// No page of ours uses these browser features.
pub const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=(), browsing-topics=()";

/// The same headers on a response built outside the middleware chain (an error
/// raised by a middleware), where they are not already set.
pub fn add_security(headers: &mut actix_web::http::header::HeaderMap, https: bool) {
    use actix_web::http::header::{HeaderName, HeaderValue};
    let mut pairs = vec![
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
        ("permissions-policy", PERMISSIONS_POLICY),
        ("cache-control", "no-store"),
    ];
    if https {
        pairs.push(("strict-transport-security", HSTS));
    }
    for (name, value) in pairs {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Every response, error pages included: a response that sets its own
/// `Cache-Control` (the fingerprinted static files) keeps it; all others are not
/// stored. HSTS only when the site is served over HTTPS (`--secure-cookies`).
pub fn security(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Permissions-Policy", PERMISSIONS_POLICY))
        .add(("Cache-Control", "no-store"));
    if https { headers.add(("Strict-Transport-Security", HSTS)) } else { headers }
}

/// Pages of a logged-in person and API answers must not be kept by any cache.
pub fn private() -> DefaultHeaders {
    DefaultHeaders::new().add(("Cache-Control", "no-store"))
}

/// The request line for the access log, with the value of any API key in the
/// query replaced: `GET /3.0/admin/tickets?API-Key=<hidden>&page=2 HTTP/1.1`.
pub fn loggable_line(req: &actix_web::dev::ServiceRequest) -> String {
    let query = req.query_string();
    let target = if query.is_empty() {
        req.path().to_string()
    } else {
        let parts: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if super::params::is_key_param(&percent_decoded(name)) => format!("{name}=<hidden>"),
                _ => pair.to_string(),
            })
            .collect();
        format!("{}?{}", req.path(), parts.join("&"))
    };
    format!("{} {target} {:?}", req.method(), req.version())
}

fn percent_decoded(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}
