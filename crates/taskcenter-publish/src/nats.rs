//! NATS JetStream: stream `<topic>` over subjects `<topic>.>` (created if missing), each
//! fire on subject `<topic>.<name>` with its properties as headers and
//! `Nats-Msg-Id: <fire_id>:<attempt>`, so JetStream drops a re-sent duplicate. A message
//! is sent once its publish ack came back. Credentials come in the URL:
//! `nats://USER:PASS@HOST:4222`, or `nats://TOKEN@HOST:4222` for a token.

use async_nats::HeaderMap;
use async_nats::jetstream::{self, Context, stream};
use async_trait::async_trait;
use tokio::sync::Mutex;

use crate::{OutMessage, PublishError, PublishResult, Publisher, PublisherOptions};

/// Publishes to one JetStream stream, connecting (and creating the stream) on first use
/// and again after a failure.
pub(crate) struct Nats {
    url: String,
    topic: String,
    timeout: std::time::Duration,
    context: Mutex<Option<Context>>,
}

impl Nats {
    pub(crate) fn new(url: &str, o: &PublisherOptions) -> Self {
        Self {
            url: url.into(),
            topic: o.topic.clone(),
            timeout: o.timeout,
            context: Mutex::new(None),
        }
    }

    async fn connect(&self) -> Result<Context, PublishError> {
        let client = credentials(&self.url)?
            .connection_timeout(self.timeout)
            .request_timeout(Some(self.timeout))
            .connect(self.url.as_str())
            .await
            .map_err(|e| PublishError::unavailable(format!("nats connect: {e}")))?;
        let js = jetstream::new(client);
        js.get_or_create_stream(stream::Config {
            name: self.topic.clone(),
            subjects: vec![format!("{}.>", self.topic)],
            ..Default::default()
        })
        .await
        .map_err(|e| PublishError::unavailable(format!("nats stream {}: {e}", self.topic)))?;
        Ok(js)
    }

    fn headers(m: &OutMessage) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "Nats-Msg-Id",
            format!("{}:{}", m.fire_id, m.attempt).as_str(),
        );
        for (name, value) in m.properties() {
            headers.insert(name, value.as_str());
        }
        headers
    }
}

/// Connect options carrying the URL's credentials: the client only reads them from its
/// options, not from the URL it connects to.
fn credentials(url: &str) -> Result<async_nats::ConnectOptions, PublishError> {
    let addr: async_nats::ServerAddr = url
        .parse()
        .map_err(|e| PublishError::unavailable(format!("nats URL: {e}")))?;
    let options = async_nats::ConnectOptions::new();
    Ok(match (addr.username(), addr.password()) {
        (Some(user), Some(pass)) => options.user_and_password(decode(user), decode(pass)),
        (Some(token), None) => options.token(decode(token)),
        _ => options,
    })
}

/// Undoes the URL's percent-encoding of a user name or password (`p%40ss` is `p@ss`).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[async_trait]
impl Publisher for Nats {
    fn broker(&self) -> &'static str {
        "nats"
    }

    async fn publish(&self, batch: &[OutMessage]) -> Vec<PublishResult> {
        let mut slot = self.context.lock().await;
        let js = match slot.as_ref() {
            Some(js) => js.clone(),
            None => match self.connect().await {
                Ok(js) => {
                    *slot = Some(js.clone());
                    js
                }
                Err(e) => return vec![Err(e); batch.len()],
            },
        };
        // Send the whole batch first, then collect the acks: one round trip, not one each.
        let mut pending = Vec::with_capacity(batch.len());
        for m in batch {
            let subject = format!("{}.{}", self.topic, m.tag);
            let payload = bytes::Bytes::from(m.data.clone().into_bytes());
            pending.push(
                js.publish_with_headers(subject, Self::headers(m), payload)
                    .await,
            );
        }
        let mut out = Vec::with_capacity(batch.len());
        let mut failed = false;
        for sent in pending {
            let result = match sent {
                Ok(ack) => match ack.await {
                    Ok(ack) => Ok(format!("{}:{}", ack.stream, ack.sequence)),
                    Err(e) => Err(PublishError::unavailable(format!("nats publish ack: {e}"))),
                },
                Err(e) => Err(PublishError::unavailable(format!("nats publish: {e}"))),
            };
            failed |= result.is_err();
            out.push(result);
        }
        if failed {
            // Reconnect (and re-create the stream if it was deleted) on the next batch.
            *slot = None;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoded_credentials_are_decoded() {
        assert_eq!(decode("p%40ss%3Aw0rd"), "p@ss:w0rd");
        assert_eq!(decode("plain"), "plain");
        assert_eq!(decode("odd%4"), "odd%4");
        assert_eq!(decode("%e2%9c%93"), "✓");
    }
}
