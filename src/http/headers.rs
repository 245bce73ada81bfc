//! Security headers on every response, and `no-store` on private pages.

use actix_web::middleware::DefaultHeaders;

/// No inline script anywhere (htmx is configured by a meta tag, not inline code).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

pub fn security() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
}

/// Pages of a logged-in person and API answers must not be kept by any cache.
pub fn private() -> DefaultHeaders {
    DefaultHeaders::new().add(("Cache-Control", "no-store"))
}
