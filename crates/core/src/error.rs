//! Why a use case refused or failed, in the domain's words. The server crate maps
//! each reason to a status, a page and the API's error JSON; nothing here knows HTTP.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DomainError {
    /// The thing asked for does not exist, or is not the actor's to see (the two
    /// are told alike, so nobody learns what exists elsewhere).
    #[error("not found")]
    NotFound,
    /// The input breaks a rule; the message says which, in words for the person.
    #[error("{0}")]
    Invalid(String),
    /// The actor may not do this.
    #[error("{0}")]
    NotAllowed(String),
    /// The state changed or already holds something that rules this out.
    #[error("{0}")]
    Conflict(String),
    /// The attachment store has no room left.
    #[error("the attachment store is full")]
    StorageFull,
    /// The database cannot be reached; the app recovers when it returns.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; the cause is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    pub fn invalid(why: impl Into<String>) -> Self {
        DomainError::Invalid(why.into())
    }
    pub fn not_allowed(why: impl Into<String>) -> Self {
        DomainError::NotAllowed(why.into())
    }
    pub fn conflict(why: impl Into<String>) -> Self {
        DomainError::Conflict(why.into())
    }
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        DomainError::Internal(cause.to_string())
    }
}

impl From<diesel::result::Error> for DomainError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => DomainError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                DomainError::Unavailable(info.message().to_string())
            }
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                log::warn!("unique violation: {}", info.message());
                DomainError::Conflict("That already exists".into())
            }
            other => DomainError::Internal(other.to_string()),
        }
    }
}

impl From<r2d2::Error> for DomainError {
    fn from(e: r2d2::Error) -> Self {
        DomainError::Unavailable(e.to_string())
    }
}

impl From<std::io::Error> for DomainError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                log::error!("attachment store full: {e}");
                DomainError::StorageFull
            }
            _ => DomainError::Internal(e.to_string()),
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
