//! One error type for the whole app. It knows its HTTP status and the words a person
//! or client sees; the cause goes to the log. The panels render it as an HTML page
//! (or a fragment for htmx, see `web::htmx_errors`); the API wraps it as JSON.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use affdesk_core::error::DomainError;

#[derive(Debug)]
pub enum AppError {
    NotFound,
    /// An API path that names no method; the message says which.
    MethodNotFound(String),
    BadRequest(String),
    Unauthorized(String),
    Forbidden(String),
    Conflict(String),
    /// The body is larger than this kind of request may send.
    TooLarge(String),
    /// The client sent its body too slowly.
    TimedOut,
    /// The attachment store has no room left.
    StorageFull,
    /// The body is of a type this route does not read.
    UnsupportedMediaType(String),
    /// A known address asked with a method it does not answer; `allow` lists those it does.
    MethodNotAllowed {
        allow: String,
    },
    TooManyRequests {
        retry_after_secs: u64,
    },
    /// The database cannot be reached; the app recovers when it returns.
    Unavailable(String),
    /// A bug or an unexpected failure; the cause is logged, not shown.
    Internal(String),
    /// A page of a panel was asked for without a login: go to that panel's login.
    LoginRequired {
        login_path: &'static str,
        next: String,
    },
}

impl AppError {
    pub fn bad_request(msg: impl Into<String>) -> Self {
        AppError::BadRequest(msg.into())
    }
    pub fn conflict(msg: impl Into<String>) -> Self {
        AppError::Conflict(msg.into())
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        AppError::Forbidden(msg.into())
    }
    pub fn internal(cause: impl fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }

    /// The words shown to the person or client.
    pub fn public_message(&self) -> String {
        match self {
            AppError::NotFound => "Not found".into(),
            AppError::MethodNotFound(m) => m.clone(),
            AppError::BadRequest(m)
            | AppError::Forbidden(m)
            | AppError::Conflict(m)
            | AppError::Unauthorized(m)
            | AppError::TooLarge(m)
            | AppError::UnsupportedMediaType(m) => m.clone(),
            AppError::MethodNotAllowed { allow } => format!("This address answers only {allow}"),
            AppError::TimedOut => "The request was sent too slowly and was cut off; try again".into(),
            AppError::StorageFull => {
                "There is no room left to store files, so nothing was sent. Tell your administrator.".into()
            }
            AppError::TooManyRequests { retry_after_secs } => {
                format!("Too many requests: try again in {retry_after_secs} seconds")
            }
            AppError::Unavailable(_) => "The database is not reachable right now; try again in a moment".into(),
            AppError::Internal(_) => "Something went wrong on our side; it has been logged".into(),
            AppError::LoginRequired { .. } => "Please log in".into(),
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            AppError::NotFound | AppError::MethodNotFound(_) => "Page not found",
            AppError::BadRequest(_) => "Bad request",
            AppError::Unauthorized(_) | AppError::LoginRequired { .. } => "Login required",
            AppError::Forbidden(_) => "Not allowed",
            AppError::Conflict(_) => "Conflict",
            AppError::TooLarge(_) => "Too large",
            AppError::TimedOut => "Too slow",
            AppError::StorageFull => "Storage full",
            AppError::UnsupportedMediaType(_) => "Unsupported form",
            AppError::MethodNotAllowed { .. } => "Method not allowed",
            AppError::TooManyRequests { .. } => "Too many requests",
            AppError::Unavailable(_) => "Service unavailable",
            AppError::Internal(_) => "Internal error",
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Unavailable(cause) | AppError::Internal(cause) => {
                write!(f, "{}: {cause}", self.title())
            }
            _ => f.write_str(&self.public_message()),
        }
    }
}

impl std::error::Error for AppError {}

/// The domain's reasons, as the statuses and words the panels and the API show.
impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound => AppError::NotFound,
            DomainError::Invalid(why) => AppError::BadRequest(why),
            DomainError::NotAllowed(why) => AppError::Forbidden(why),
            DomainError::Conflict(why) => AppError::Conflict(why),
            DomainError::StorageFull => AppError::StorageFull,
            DomainError::Unavailable(cause) => AppError::Unavailable(cause),
            DomainError::Internal(cause) => AppError::Internal(cause),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                AppError::Unavailable(info.message().to_string())
            }
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                log::warn!("unique violation: {}", info.message());
                AppError::Conflict("That already exists".into())
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        AppError::Unavailable(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                log::error!("attachment store full: {e}");
                AppError::StorageFull
            }
            _ => AppError::Internal(e.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    status: u16,
}

/// Marks a response as an error page, so the htmx layer can turn it into a fragment.
#[derive(Clone, Debug)]
pub struct ErrorMessage(pub String);

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound | AppError::MethodNotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TimedOut => StatusCode::REQUEST_TIMEOUT,
            AppError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(cause) => log::error!("internal error: {cause}"),
            AppError::Unavailable(cause) => log::warn!("database unavailable: {cause}"),
            _ => {}
        }
        if let AppError::LoginRequired { login_path, next } = self {
            let target = if next.is_empty() {
                login_path.to_string()
            } else {
                format!(
                    "{login_path}?next={}",
                    percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
                )
            };
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target.clone()))
                .insert_header(("HX-Redirect", target))
                .finish();
        }
        let mut resp = render_error_page(self.status_code(), self.title(), &self.public_message());
        self.add_headers(&mut resp);
        resp
    }
}

impl AppError {
    /// `Retry-After` and `Allow`, where the error has them.
    pub fn add_headers(&self, resp: &mut HttpResponse) {
        let value = match self {
            AppError::TooManyRequests { retry_after_secs } => Some((header::RETRY_AFTER, retry_after_secs.to_string())),
            AppError::MethodNotAllowed { allow } => Some((header::ALLOW, allow.clone())),
            _ => None,
        };
        if let Some((name, v)) = value
            && let Ok(v) = HeaderValue::from_str(&v)
        {
            resp.headers_mut().insert(name, v);
        }
    }
}

/// A full HTML error page; used for `AppError` and for actix's own errors (404, 405, bad forms).
/// The one page that sets its content type itself: actix's `error_response` is given no
/// request, so askama_web's responder (which wants one) cannot answer it.
pub fn render_error_page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let page = ErrorPage { title, message, status: status.as_u16() };
    let body = page.render().unwrap_or_else(|_| message.to_string());
    let mut resp = HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")))
        .body(body);
    resp.extensions_mut().insert(ErrorMessage(message.to_string()));
    resp
}

pub type AppResult<T> = Result<T, AppError>;
