//! `Params` as an extractor: the query string and a url-encoded or multipart body.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};

use crate::error::AppError;
use crate::params::Params;

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
    while let Some(field) = super::next_before(&mut form, deadline).await? {
        let mut field = field.map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        let mut value = Vec::new();
        while let Some(chunk) = super::next_before(&mut field, deadline).await? {
            let chunk = chunk.map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))?;
            total += chunk.len();
            if total > MAX_BODY {
                return Err(super::too_large(MAX_BODY));
            }
            value.extend_from_slice(&chunk);
        }
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
    Ok(body.freeze())
}
