//! Storage errors as the rest of the service sees them: no driver types leak out.

/// What went wrong in a store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached or is not accepting writes right now (HTTP 503).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The backend named in the URL was compiled out.
    #[error("store {scheme:?} is not built in: rebuild with cargo feature {feature:?}")]
    NotBuilt {
        /// URL scheme asked for.
        scheme: String,
        /// Feature that provides it.
        feature: &'static str,
    },
    /// The store URL is not understood.
    #[error("bad store url {0:?}")]
    BadUrl(String),
    /// Stored data could not be read back (a bug or a corrupted file).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// Any other backend failure (HTTP 500).
    #[error("storage error: {0}")]
    Internal(String),
}
