//! The one error body every failing call answers with.

use serde::{Deserialize, Serialize};

/// `{"err": <int>, "msg": "<text>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable code (see [`ErrorCode`]).
    pub err: i64,
    /// What went wrong, for people.
    pub msg: String,
}

/// Error codes: the HTTP status times 100 plus a detail, so the class is readable at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i64)]
pub enum ErrorCode {
    /// A field is missing or has a bad value.
    InvalidParam = 40000,
    /// A field has the wrong JSON type.
    WrongType = 40001,
    /// The body is not valid JSON.
    MalformedJson = 40002,
    /// Missing or wrong bearer token.
    Unauthorized = 40100,
    /// Not allowed.
    Forbidden = 40300,
    /// No such task, route or message.
    NotFound = 40400,
    /// Method not allowed on this route.
    MethodNotAllowed = 40500,
    /// Body or `data` larger than allowed.
    TooLarge = 41300,
    /// The body is not JSON.
    UnsupportedMedia = 41500,
    /// A bug or a storage failure.
    Internal = 50000,
    /// Shutting down, or storage unavailable.
    Unavailable = 50300,
}

impl ErrorCode {
    /// The HTTP status that goes with the code.
    pub fn http_status(self) -> u16 {
        (self as i64 / 100) as u16
    }
}
