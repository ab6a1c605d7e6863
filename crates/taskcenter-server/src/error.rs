//! Every error the API can answer, mapped once to a status and an `{"err", "msg"}` body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use taskcenter_api::{ErrorBody, ErrorCode};
use taskcenter_core::{SpecError, SpecErrorKind};
use taskcenter_store::StoreError;

/// An API failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field is missing or has a bad value.
    #[error("{0}")]
    Invalid(String),
    /// A field has the wrong JSON type.
    #[error("{0}")]
    WrongType(String),
    /// The body is not valid JSON.
    #[error("{0}")]
    MalformedJson(String),
    /// The body is not JSON at all.
    #[error("{0}")]
    UnsupportedMedia(String),
    /// Too large.
    #[error("{0}")]
    TooLarge(String),
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// Wrong method on a known route.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Missing or bad token.
    #[error("{0}")]
    Unauthorized(String),
    /// Refused whatever the token: a foreign origin or host.
    #[error("{0}")]
    Forbidden(String),
    /// Shutting down or storage unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or backend failure.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The error code of the body.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(_) => ErrorCode::InvalidParam,
            Self::WrongType(_) => ErrorCode::WrongType,
            Self::MalformedJson(_) => ErrorCode::MalformedJson,
            Self::UnsupportedMedia(_) => ErrorCode::UnsupportedMedia,
            Self::TooLarge(_) => ErrorCode::TooLarge,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The body this error answers with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            err: self.code() as i64,
            msg: self.to_string(),
        }
    }
}

impl From<SpecError> for ApiError {
    fn from(e: SpecError) -> Self {
        match e.kind {
            SpecErrorKind::Invalid | SpecErrorKind::NeverFires => Self::Invalid(e.msg),
            SpecErrorKind::TooLarge => Self::TooLarge(e.msg),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Self::Unavailable(e.to_string()),
            _ => {
                tracing::error!(error = %e, "storage failure");
                Self::Internal(e.to_string())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code().http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;
    use crate::serve::ServeError;

    /// The message and its causes as `anyhow`'s `{:#}` prints them: joined by `: `.
    fn chain(e: &dyn Error) -> String {
        let mut parts = vec![e.to_string()];
        let mut cause = e.source();
        while let Some(c) = cause {
            parts.push(c.to_string());
            cause = c.source();
        }
        parts.join(": ")
    }

    #[test]
    fn a_storage_error_is_told_once_in_the_chain() {
        let e = ServeError::from(StoreError::Unavailable(
            "creating /x: not a directory".into(),
        ));
        let text = chain(&e);
        assert_eq!(
            text,
            "opening the store: storage unavailable: creating /x: not a directory"
        );
    }

    #[test]
    fn an_io_error_is_told_once_in_the_chain() {
        let e = ServeError::from(std::io::Error::other("too many open files"));
        assert_eq!(chain(&e), "serving HTTP: too many open files");
    }

    #[test]
    fn a_storage_error_answers_its_message_once() {
        let e = ApiError::from(StoreError::Unavailable("database is locked".into()));
        assert_eq!(e.code(), ErrorCode::Unavailable);
        assert_eq!(e.body().msg, "storage unavailable: database is locked");
    }
}
