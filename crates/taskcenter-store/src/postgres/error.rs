//! PostgreSQL errors become [`StoreError`]s here, at the backend's edge.

use crate::error::StoreError;

/// Maps a driver error: a database that cannot be reached, is shutting down, is out of
/// connections or gave up a lock or a transaction because of another is `Unavailable`
/// (try again); undecodable values are `Corrupt`; anything else is `Internal`.
pub(crate) fn map_err(e: tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let retryable = [
            "08",    // connection exception
            "53",    // insufficient resources (too many connections…)
            "57P",   // admin / crash shutdown, cannot connect now
            "57014", // statement cancelled (timeout)
            "55P03", // lock not available
            "40001", // serialization failure
            "40P01", // deadlock detected
            "25P03", // idle-in-transaction timeout
        ];
        return if retryable.iter().any(|prefix| code.starts_with(prefix)) {
            StoreError::Unavailable(format!("postgres: {}", db.message()))
        } else {
            StoreError::Internal(format!("postgres: {db}"))
        };
    }
    let text = match std::error::Error::source(&e) {
        Some(cause) => format!("postgres: {e}: {cause}"),
        None => format!("postgres: {e}"),
    };
    let kind = e.to_string();
    let gone = [
        "error communicating",
        "connection closed",
        "error connecting",
        "timeout",
    ];
    let unreadable = [
        "error deserializing",
        "invalid column",
        "query returned an unexpected",
    ];
    if gone.iter().any(|p| kind.starts_with(p)) {
        StoreError::Unavailable(text)
    } else if unreadable.iter().any(|p| kind.starts_with(p)) {
        StoreError::Corrupt(text)
    } else {
        StoreError::Internal(text)
    }
}

/// An `Unavailable` error with a message.
pub(crate) fn unavailable(msg: &str) -> StoreError {
    StoreError::Unavailable(msg.to_string())
}

/// A `Corrupt` error for a stored value that cannot be read back.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}
