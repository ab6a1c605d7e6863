//! Turns rusqlite errors into [`StoreError`] at the backend's edge.

use rusqlite::ErrorCode;

use crate::error::StoreError;

/// Maps a driver error: contention and resource exhaustion are `Unavailable` (retry
/// later, HTTP 503), unreadable rows `Corrupt`, the rest `Internal`.
pub(crate) fn map_err(err: rusqlite::Error) -> StoreError {
    use rusqlite::Error as E;
    match &err {
        E::SqliteFailure(code, _) => match code.code {
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::DiskFull
            | ErrorCode::CannotOpen
            | ErrorCode::SystemIoFailure
            | ErrorCode::OutOfMemory
            | ErrorCode::ReadOnly
            | ErrorCode::PermissionDenied
            | ErrorCode::FileLockingProtocolFailed
            | ErrorCode::NoLargeFileSupport => StoreError::Unavailable(err.to_string()),
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                StoreError::Corrupt(err.to_string())
            }
            _ => StoreError::Internal(err.to_string()),
        },
        E::FromSqlConversionFailure(..)
        | E::IntegralValueOutOfRange(..)
        | E::InvalidColumnType(..)
        | E::Utf8Error(..) => StoreError::Corrupt(err.to_string()),
        _ => StoreError::Internal(err.to_string()),
    }
}

/// A stored value that does not decode (an unknown status code and the like).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct BadValue(pub String);

/// Wraps a [`BadValue`] so row mappers can return it as a driver error that
/// [`map_err`] reports as corruption.
pub(crate) fn bad_value(column: usize, what: impl Into<String>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Integer,
        Box::new(BadValue(what.into())),
    )
}
