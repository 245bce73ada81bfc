//! `Params` as an extractor: the query string and a url-encoded or multipart body.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};

use crate::error::AppError;
use crate::http::query::Params;

/// Bodies above this are not parameters.
pub const MAX_BODY: usize = 1024 * 1024;

impl FromRequest for Params {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let content_type =
            req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        let mut params = Params::from_query(req.query_string());
        if super::upload::declared_length(req.headers()).is_some_and(|n| n > MAX_BODY) {
            return Box::pin(async { Err(super::too_large(MAX_BODY)) });
        }
        let deadline = super::body_deadline(&req);
        if content_type.starts_with("multipart/form-data") {
            let multipart = actix_multipart::Multipart::new(req.headers(), payload.take());
            return Box::pin(async move {
                read_multipart_fields(multipart, &mut params, deadline).await?;
                Ok(params)
            });
        }
        let payload = payload.take();
        Box::pin(async move {
            // Read only up to the cap, whatever the client streams.
            let body = read_body(payload, MAX_BODY, deadline).await?;
            params.add_urlencoded(&body);
            Ok(params)
        })
    }
}

async fn read_multipart_fields(
    mut form: actix_multipart::Multipart,
    params: &mut Params,
    deadline: tokio::time::Instant,
) -> Result<(), AppError> {
    let mut total = 0usize;
    let mut parts = 0usize;
    while let Some(field) = super::next_before(&mut form, deadline).await? {
        let mut field = field.map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))?;
        // Every part costs: its name counts toward the cap, and there are at most
        // MAX_PARTS of them, so a flood of empty parts is refused at once.
        parts += 1;
        if parts > super::upload::MAX_PARTS {
            return Err(AppError::TooLarge(format!("The form has more than {} fields.", super::upload::MAX_PARTS)));
        }
        let name = field.name().unwrap_or_default().to_string();
        total += name.len();
        if total > MAX_BODY {
            return Err(super::too_large(MAX_BODY));
        }
        let mut value = Vec::new();
        while let Some(chunk) = super::next_before(&mut field, deadline).await? {
            let chunk = chunk.map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))?;
            total += chunk.len();
            if total > MAX_BODY {
                return Err(super::too_large(MAX_BODY));
            }
            value.extend_from_slice(&chunk);
        }
        refuse_nul(&value)?;
        params.add(&name, String::from_utf8_lossy(&value).into_owned());
    }
    Ok(())
}

/// Reads a whole body, but never more than `cap` bytes of it (413 past that), nor
/// past the deadline (408).
pub async fn read_body(mut payload: Payload, cap: usize, deadline: tokio::time::Instant) -> Result<Bytes, AppError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = super::next_before(&mut payload, deadline).await? {
        let chunk = chunk.map_err(|e| AppError::bad_request(format!("The request body could not be read: {e}")))?;
        if body.len() + chunk.len() > cap {
            return Err(super::too_large(cap));
        }
        body.extend_from_slice(&chunk);
    }
    refuse_nul(&body)?;
    Ok(body.freeze())
}

/// What a request that holds a NUL character gets. No text of ours holds one, and
/// PostgreSQL refuses to store it: better a clear 400 than a failed write.
pub const NUL_MESSAGE: &str = "The request holds a NUL character (%00), which no text may contain.";

/// Whether raw or url-encoded bytes hold a NUL character.
pub fn has_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(3).any(|w| w == b"%00")
}

/// A 400 for text with a NUL character in it.
pub fn refuse_nul(bytes: &[u8]) -> Result<(), AppError> {
    if has_nul(bytes) { Err(AppError::bad_request(NUL_MESSAGE)) } else { Ok(()) }
}

/// Whether a query parameter names an API key.
pub fn is_key_param(name: &str) -> bool {
    matches!(name.to_ascii_lowercase().as_str(), "api-key" | "api_key" | "apikey")
}
