//! Webhook: each fire is a `POST` of its data to the URL, with the properties as
//! `Taskcenter-*` headers and, given a secret, an HMAC-SHA256 signature of the body.
//! A 2xx is success (and the consumer's ack); 410 Gone refuses the message for good;
//! anything else is tried again, not before a `Retry-After` the receiver sent.

use std::time::Duration;

use async_trait::async_trait;
use hmac::{KeyInit, Mac};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use crate::{OpenError, OutMessage, PublishError, PublishResult, Publisher, PublisherOptions};

/// Header names of the properties, in the order of [`OutMessage::properties`].
const HEADERS: [&str; 5] = [
    "taskcenter-tag",
    "taskcenter-task-id",
    "taskcenter-fire-time",
    "taskcenter-fire-id",
    "taskcenter-attempt",
];

/// Posts fires to one URL.
pub(crate) struct Webhook {
    url: String,
    client: reqwest::Client,
    secret: Option<Vec<u8>>,
}

impl Webhook {
    pub(crate) fn new(url: &str, o: &PublisherOptions) -> Result<Self, OpenError> {
        let client = reqwest::Client::builder()
            .timeout(o.webhook_timeout)
            .connect_timeout(o.webhook_timeout)
            .build()
            .map_err(|e| OpenError::Invalid(format!("webhook client: {e}")))?;
        Ok(Self {
            url: url.into(),
            client,
            secret: o.webhook_secret.as_ref().map(|s| s.as_bytes().to_vec()),
        })
    }

    async fn post(&self, m: &OutMessage) -> PublishResult {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        for (name, (_, value)) in HEADERS.iter().zip(m.properties()) {
            let value = HeaderValue::from_bytes(value.as_bytes())
                .map_err(|_| PublishError::Refused(format!("{name} cannot be a header")))?;
            headers.insert(HeaderName::from_static(name), value);
        }
        if let Some(secret) = &self.secret {
            let signature = format!("sha256={}", sign(secret, m.data.as_bytes()));
            if let Ok(value) = HeaderValue::from_str(&signature) {
                headers.insert(HeaderName::from_static("taskcenter-signature"), value);
            }
        }
        let answer = self
            .client
            .post(&self.url)
            .headers(headers)
            .body(m.data.clone().into_bytes())
            .send()
            .await
            .map_err(|e| PublishError::unavailable(format!("webhook: {e}")))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(format!("http-{}", status.as_u16()));
        }
        if status == StatusCode::GONE {
            return Err(PublishError::Refused("webhook answered 410 Gone".into()));
        }
        Err(PublishError::Unavailable {
            reason: format!("webhook answered {status}"),
            retry_after: retry_after(answer.headers()),
        })
    }
}

/// A `Retry-After` in seconds (the HTTP-date form is rare from webhooks and ignored).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Lowercase hex of the HMAC-SHA256 of `body` under `key`.
pub(crate) fn sign(key: &[u8], body: &[u8]) -> String {
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[async_trait]
impl Publisher for Webhook {
    fn broker(&self) -> &'static str {
        "webhook"
    }

    fn confirm_is_ack(&self) -> bool {
        true
    }

    async fn publish(&self, batch: &[OutMessage]) -> Vec<PublishResult> {
        let mut out = Vec::with_capacity(batch.len());
        for m in batch {
            let result = self.post(m).await;
            // A receiver that is down fails the rest alike: do not wait out a timeout each.
            let down = matches!(result, Err(PublishError::Unavailable { .. }));
            out.push(result.clone());
            if down {
                out.resize(batch.len(), result);
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_rfc_4231_vector() {
        // Test case 2 of RFC 4231.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
