//! NATS JetStream in W5: the stream the publisher creates (`<topic>` over `<topic>.>`,
//! default settings), the ceiling loop with async-nats (publish with the same headers,
//! then wait for every publish ack), and as witness the stream itself: its message count
//! and, per message, the time JetStream stored it.

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::{self, Context, stream};
use futures_util::StreamExt;

use super::broker::{Broker, Fire};

/// The machine's NATS server.
pub const URL: &str = "nats://127.0.0.1:4222";

pub struct Nats {
    js: Context,
    topic: String,
}

impl Nats {
    fn headers(m: &Fire) -> HeaderMap {
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

impl Broker for Nats {
    const NAME: &'static str = "nats";

    async fn open(topic: &str) -> anyhow::Result<Self> {
        let client = async_nats::connect(URL).await?;
        let js = jetstream::new(client);
        let _ = js.delete_stream(topic).await;
        js.get_or_create_stream(stream::Config {
            name: topic.into(),
            subjects: vec![format!("{topic}.>")],
            ..Default::default()
        })
        .await?;
        Ok(Self {
            js,
            topic: topic.into(),
        })
    }

    fn publisher_url(&self) -> String {
        URL.into()
    }

    async fn publish_batch(&self, batch: &[Fire]) -> anyhow::Result<()> {
        let mut pending = Vec::with_capacity(batch.len());
        for m in batch {
            let subject = format!("{}.{}", self.topic, m.tag);
            let payload = bytes::Bytes::from(m.data.clone().into_bytes());
            pending.push(
                self.js
                    .publish_with_headers(subject, Self::headers(m), payload)
                    .await?,
            );
        }
        for ack in pending {
            ack.await?;
        }
        Ok(())
    }

    async fn count(&self) -> anyhow::Result<usize> {
        let stream = self.js.get_stream(&self.topic).await?;
        Ok(stream.cached_info().state.messages as usize)
    }

    async fn arrivals(&self) -> anyhow::Result<Vec<i64>> {
        let n = self.count().await?;
        let stream = self.js.get_stream(&self.topic).await?;
        let consumer = stream
            .create_consumer(pull::Config {
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::None,
                ..Default::default()
            })
            .await?;
        let mut messages = consumer.messages().await?.take(n);
        let mut out = Vec::with_capacity(n);
        while let Some(m) = messages.next().await {
            let m = m?;
            let info = m.info().map_err(|e| anyhow::anyhow!("message info: {e}"))?;
            out.push((info.published.unix_timestamp_nanos() / 1_000_000) as i64);
        }
        Ok(out)
    }

    async fn close(self) -> anyhow::Result<()> {
        self.js.delete_stream(&self.topic).await?;
        Ok(())
    }
}
