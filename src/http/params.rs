//! `Params` as an extractor: the query string and a url-encoded or multipart body.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;

use crate::error::AppError;
use crate::params::Params;

/// Bodies above this are not parameters.
pub const MAX_BODY: usize = 1024 * 1024;

fn too_large() -> AppError {
    AppError::bad_request("The request body is too large")
}

impl FromRequest for Params {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let content_type =
            req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        let mut params = Params::from_query(req.query_string());
        if content_type.starts_with("multipart/form-data") {
            let multipart = actix_multipart::Multipart::new(req.headers(), payload.take());
            return Box::pin(async move {
                read_multipart_fields(multipart, &mut params).await?;
                Ok(params)
            });
        }
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body =
                body.await.map_err(|e| AppError::bad_request(format!("The request body could not be read: {e}")))?;
            if body.len() > MAX_BODY {
                return Err(too_large());
            }
            params.add_urlencoded(&body);
            Ok(params)
        })
    }
}

async fn read_multipart_fields(mut form: actix_multipart::Multipart, params: &mut Params) -> Result<(), AppError> {
    let mut total = 0usize;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))?;
            total += chunk.len();
            if total > MAX_BODY {
                return Err(too_large());
            }
            value.extend_from_slice(&chunk);
        }
        params.add(&name, String::from_utf8_lossy(&value).into_owned());
    }
    Ok(())
}
