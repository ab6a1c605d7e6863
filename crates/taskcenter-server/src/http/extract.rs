//! Request extractors whose every failure is an [`ApiError`], never axum's plain text.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest body accepted, set on requests by the router.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// How much of an oversized body is read and thrown away before answering 413, so the
/// client gets the answer instead of a reset connection while it is still sending.
const DRAIN_CAP: usize = 64 * 1024 * 1024;

/// Reads a body up to `limit` bytes; a larger one is drained (up to [`DRAIN_CAP`]) and
/// refused.
async fn read_limited(req: Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = req.into_body();
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::Invalid(format!("cannot read the body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > limit {
            buf = Vec::new();
            if seen > DRAIN_CAP {
                break;
            }
        } else {
            buf.extend_from_slice(&data);
        }
    }
    if seen > limit {
        return Err(ApiError::TooLarge(format!(
            "request body larger than the limit of {limit} bytes"
        )));
    }
    Ok(buf)
}

/// A JSON body decoded with the failing field named in the error.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// Decodes JSON text; a wrong type names its field path.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], json_type: bool) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = path.trim_start_matches('.');
                if field.is_empty() || field == "." {
                    ApiError::WrongType(format!("bad body: {inner}"))
                } else {
                    ApiError::WrongType(format!("field `{field}`: {inner}"))
                }
            }
            _ if !json_type => ApiError::UnsupportedMedia(format!(
                "the body is not JSON ({inner}); send application/json"
            )),
            _ => ApiError::MalformedJson(format!("malformed JSON: {inner}")),
        }
    })
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        // A body that parses as JSON is taken whatever its declared type (old clients
        // send form types); one that does not is 415 unless it claims to be JSON.
        let json_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| {
                let ct = ct.to_ascii_lowercase();
                ct.starts_with("application/json") || ct.contains("+json") || ct.is_empty()
            });
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map_or(DRAIN_CAP, |l| l.0);
        let bytes = read_limited(req, limit).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(if json_type {
                ApiError::MalformedJson("empty body: a JSON object is required".into())
            } else {
                ApiError::UnsupportedMedia("empty body: send application/json".into())
            });
        }
        decode(&bytes, json_type).map(JsonBody)
    }
}

/// Query parameters as plain strings.
#[derive(Debug)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(map)| Params(map))
            .map_err(|e| ApiError::Invalid(format!("bad query string: {e}")))
    }
}

impl Params {
    /// A required, non-empty parameter.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        match self.0.get(name).map(String::as_str) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ApiError::Invalid(format!(
                "query parameter {name} is required"
            ))),
        }
    }

    /// An optional integer parameter with bounds.
    pub fn int(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
        match self.0.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::Invalid(format!(
                    "query parameter {name} must be an integer from {min} to {max}"
                ))),
            },
        }
    }
}
