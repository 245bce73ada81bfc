//! Reading forms and query strings, including repeated fields (`ids=1&ids=2`,
//! `type=general&type=financial`), which serde_urlencoded cannot read.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::web::{Bytes, FormConfig, QueryConfig};
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::AppError;

pub fn form_config() -> FormConfig {
    FormConfig::default()
        .limit(2 * 1024 * 1024)
        .error_handler(|err, _req| AppError::bad_request(format!("The form could not be read: {err}")).into())
}

pub fn query_config() -> QueryConfig {
    QueryConfig::default()
        .error_handler(|err, _req| AppError::bad_request(format!("The address is not valid: {err}")).into())
}

/// A query string read with serde_html_form: repeated keys become a `Vec`.
pub struct HtmlQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for HtmlQuery<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            serde_html_form::from_str(req.query_string())
                .map(HtmlQuery)
                .map_err(|e| AppError::bad_request(format!("The address is not valid: {e}"))),
        )
    }
}

/// A url-encoded form body read with serde_html_form.
pub struct HtmlForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for HtmlForm<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))?;
            serde_html_form::from_bytes(&body)
                .map(HtmlForm)
                .map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))
        })
    }
}
