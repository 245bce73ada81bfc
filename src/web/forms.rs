//! How actix reads the panels' simple forms and query strings (fixed fields), and
//! what a person sees when one cannot be read. Forms with repeated fields
//! (`ids=1&ids=2`) are read as `Params`.

use actix_web::web::{FormConfig, QueryConfig};

use crate::error::AppError;

pub fn form_config() -> FormConfig {
    FormConfig::default()
        .limit(super::csrf::MAX_FORM_BYTES)
        .error_handler(|err, _req| AppError::bad_request(format!("The form could not be read: {err}")).into())
}

pub fn query_config() -> QueryConfig {
    QueryConfig::default()
        .error_handler(|err, _req| AppError::bad_request(format!("The address is not valid: {err}")).into())
}
