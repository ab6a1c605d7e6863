//! Request extractors whose every failure is an [`ApiError`], never axum's plain text.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use http_body_util::BodyExt;
use serde::Deserializer;
use serde::de::{DeserializeOwned, Visitor};
use serde_json::Value;
use taskcenter_api::TaskSpec;

use crate::error::ApiError;

/// The largest body accepted, set on requests by the router.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The limit when the router set none (only in tests of single handlers).
const FALLBACK_LIMIT: usize = 8 * 1024 * 1024;

fn too_large(limit: usize) -> ApiError {
    ApiError::TooLarge(format!(
        "request body larger than the limit of {limit} bytes"
    ))
}

/// Reads a body up to `limit` bytes. A larger one is refused as soon as that is known,
/// from its `Content-Length` or from the first byte past the limit: nothing more is read
/// (the listener discards what the client still sends after the answer).
async fn read_limited(req: Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let mut body = req.into_body();
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::Invalid(format!("cannot read the body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if buf.len().saturating_add(data.len()) > limit {
            return Err(too_large(limit));
        }
        buf.extend_from_slice(&data);
    }
    Ok(buf)
}

/// A JSON object body decoded with the failing field named in the error.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// Any JSON value as the body (for calls that take an array or an object).
#[derive(Debug)]
pub struct JsonValue(pub Value);

/// Parses JSON text; text that is not JSON is 415 unless it claimed to be JSON.
pub fn parse(bytes: &[u8], json_type: bool) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::WrongType(format!("bad body: {e}")),
        _ if !json_type => {
            ApiError::UnsupportedMedia(format!("the body is not JSON ({e}); send application/json"))
        }
        _ => ApiError::MalformedJson(format!("malformed JSON: {e}")),
    })
}

/// Decodes a request object: it must be a JSON object, and no field of a task may be
/// `null` (leave a field out to take its default); a wrong type names its field path.
///
/// The other bodies' optional fields take `null` as absent: clients serialize an unset
/// option that way.
pub fn decode_object<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    let Value::Object(map) = &value else {
        return Err(ApiError::WrongType(format!(
            "the body must be a JSON object, not {}",
            kind_of(&value)
        )));
    };
    let task_fields = task_fields();
    if let Some((field, _)) = map
        .iter()
        .find(|(k, v)| v.is_null() && task_fields.contains(&k.as_str()))
    {
        return Err(ApiError::WrongType(format!(
            "field `{field}`: null is not allowed; leave the field out for its default"
        )));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = path.trim_start_matches('.');
        if field.is_empty() || field == "." {
            ApiError::WrongType(format!("bad body: {inner}"))
        } else {
            ApiError::WrongType(format!("field `{field}`: {inner}"))
        }
    })
}

/// A request object from the body's bytes, as [`JsonBody`] reads it.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], json_type: bool) -> Result<T, ApiError> {
    if let Some(plain) = decode_plain(bytes) {
        return Ok(plain);
    }
    decode_object(parse(bytes, json_type)?)
}

/// The common body in one pass, without the intermediate [`Value`]: a JSON object whose
/// text has no `null` anywhere cannot break the rules [`decode_object`] checks, so when it
/// decodes it decodes to the same request. Anything else, and every error, takes the
/// checked path, which words the error.
fn decode_plain<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' || bytes.windows(4).any(|w| w == b"null") {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

/// The field names of a task body, read from its decoder once.
fn task_fields() -> &'static [&'static str] {
    static FIELDS: OnceLock<&'static [&'static str]> = OnceLock::new();
    FIELDS.get_or_init(struct_fields::<TaskSpec>)
}

/// The field names a struct's decoder asks for: a decoder that records them and fails.
fn struct_fields<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe(&'static [&'static str]);
    impl<'de> Deserializer<'de> for &mut Probe {
        type Error = serde::de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = fields;
            Err(serde::de::Error::custom("probed"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut probe = Probe(&[]);
    let _ = T::deserialize(&mut probe);
    probe.0
}

/// How a JSON value's kind reads in an error message.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads the body within the router's limit; says whether it claims to be JSON.
async fn body_of(req: Request) -> Result<(Vec<u8>, bool), ApiError> {
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
        .map_or(FALLBACK_LIMIT, |l| l.0);
    let bytes = read_limited(req, limit).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(if json_type {
            ApiError::MalformedJson("empty body: a JSON object is required".into())
        } else {
            ApiError::UnsupportedMedia("empty body: send application/json".into())
        });
    }
    Ok((bytes, json_type))
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let (bytes, json_type) = body_of(req).await?;
        decode(&bytes, json_type).map(JsonBody)
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonValue {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let (bytes, json_type) = body_of(req).await?;
        parse(&bytes, json_type).map(JsonValue)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_fields_are_read_from_the_decoder() {
        let fields = task_fields();
        for f in ["name", "type", "data", "start_time", "max_runtime"] {
            assert!(fields.contains(&f), "{f} not in {fields:?}");
        }
    }

    #[test]
    fn a_null_task_field_is_refused_and_named() {
        let err =
            decode_object::<TaskSpec>(serde_json::json!({"name": "a", "type": 1, "data": null}))
                .expect_err("data null");
        assert!(err.to_string().contains("`data`"), "{err}");
        let err = decode_object::<TaskSpec>(serde_json::json!(["a", 1, "x"])).expect_err("array");
        assert!(err.to_string().contains("JSON object"), "{err}");
    }

    #[test]
    fn the_one_pass_decode_agrees_with_the_checked_one() {
        let bodies: [&[u8]; 9] = [
            br#"{"name":"a","type":1,"data":"x"}"#,
            br#" {"name":"a","type":2,"data":"","loop_time":5,"extra":[1,2]} "#,
            br#"{"name":"a","name":"b","type":1,"data":"x"}"#,
            br#"{"name":"a","type":1,"data":null}"#,
            br#"{"name":"a","type":"1","data":"x"}"#,
            br#"{"name":"nullable","type":1,"data":"null"}"#,
            br#"["a",1,"x"]"#,
            br#"{"name":"a","type":1,"data":"x"} trailing"#,
            br#"{"name":"a","type":1.5,"data":"x"}"#,
        ];
        for body in bodies {
            let one_pass = decode::<TaskSpec>(body, true).map_err(|e| e.to_string());
            let checked = parse(body, true)
                .and_then(decode_object::<TaskSpec>)
                .map_err(|e| e.to_string());
            assert_eq!(one_pass, checked, "{}", String::from_utf8_lossy(body));
        }
    }
}
