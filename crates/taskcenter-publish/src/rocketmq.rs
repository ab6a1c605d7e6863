//! RocketMQ (remoting protocol): each fire a message on topic `<topic>` with tag = task
//! name, keys = task id, body = data and the properties as user properties, as the original
//! service published them; sent once the broker answered SEND_OK, with the broker's message
//! id as the result.
//!
//! The client needs a runtime of its own, so it lives on a thread of its own (`client`);
//! this side hands it batches over a channel and gets each message's result back on its own
//! oneshot.

mod client;
mod url;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use crate::{OpenError, OutMessage, PublishError, PublishResult, Publisher, PublisherOptions};

pub(crate) use url::Endpoint;

/// A batch for the client thread and where each message's result goes.
pub(crate) struct Batch {
    messages: Vec<OutMessage>,
    replies: Vec<oneshot::Sender<PublishResult>>,
}

/// Publishes to one topic through the client thread, which connects on first use.
pub(crate) struct RocketMq {
    batches: mpsc::Sender<Batch>,
}

impl RocketMq {
    pub(crate) fn new(url: &str, o: &PublisherOptions) -> Result<Self, OpenError> {
        let endpoint = Endpoint::parse(url, o)?;
        let batches = client::spawn(endpoint, o.topic.clone(), o.timeout)
            .map_err(|e| OpenError::Invalid(format!("rocketmq client thread: {e}")))?;
        Ok(Self { batches })
    }
}

#[async_trait]
impl Publisher for RocketMq {
    fn broker(&self) -> &'static str {
        "rocketmq"
    }

    async fn publish(&self, batch: &[OutMessage]) -> Vec<PublishResult> {
        let (replies, answers): (Vec<_>, Vec<_>) = batch.iter().map(|_| oneshot::channel()).unzip();
        let sent = self
            .batches
            .send(Batch {
                messages: batch.to_vec(),
                replies,
            })
            .await;
        if sent.is_err() {
            let e = PublishError::unavailable("rocketmq client thread has stopped");
            return vec![Err(e); batch.len()];
        }
        let mut out = Vec::with_capacity(batch.len());
        for answer in answers {
            out.push(answer.await.unwrap_or_else(|_| {
                Err(PublishError::unavailable(
                    "rocketmq client thread dropped the message",
                ))
            }));
        }
        out
    }
}
