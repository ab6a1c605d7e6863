//! NATS JetStream: the server publishes each fire on subject `<topic>.<name>` of stream
//! `<topic>`. A group is a durable pull consumer named after the group on that stream,
//! filtered on `<topic>.<tag>` when the handlers take one tag and on `<topic>.>` otherwise
//! (other tags are then acked unhandled by the loop). Its `max_deliver` is the ladder's
//! length + 2 (the deliveries plus a spare one that only dead-letters a message whose
//! last delivery never settled) and its ack wait the lease; a running handler's message is kept with
//! in-progress acks. A failure is `nak`ed with the ladder's delay; the last one is
//! published to the dead-letter stream `<topic>_dead`, subject
//! `<topic>_dead.<group>.<name>`, with the fire's headers and a `reason`, then acked.
//!
//! A new group starts at the oldest message the stream holds. A group's durable consumer
//! keeps the filter it was created with: changing a group's tags means deleting it
//! (`nats consumer rm <topic> <group>`).

use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::{self, AckKind, Context, stream};
use async_trait::async_trait;
use futures_util::StreamExt;

use super::{BrokerError, Delivery, Plan, Session, Settle, fire_message};
use crate::consumer::handlers::AbortOnDrop;

/// One connection and the group's durable consumer.
pub(crate) struct NatsSession {
    js: Context,
    consumer: PullConsumer,
    plan: Plan,
}

impl NatsSession {
    pub(crate) async fn connect(url: &str, plan: &Plan) -> Result<Self, BrokerError> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .request_timeout(Some(Duration::from_secs(10)))
            .connect(url)
            .await
            .map_err(|e| BrokerError::new("nats connect", e))?;
        let js = jetstream::new(client);
        // The same stream the server's publisher creates: whoever comes first makes it.
        let stream = js
            .get_or_create_stream(stream::Config {
                name: plan.topic.clone(),
                subjects: vec![format!("{}.>", plan.topic)],
                ..Default::default()
            })
            .await
            .map_err(|e| BrokerError::new("nats stream", e))?;
        js.get_or_create_stream(stream::Config {
            name: dead_stream(&plan.topic),
            subjects: vec![format!("{}.>", dead_stream(&plan.topic))],
            ..Default::default()
        })
        .await
        .map_err(|e| BrokerError::new("nats dead-letter stream", e))?;
        let filter_subject = match plan.tags.as_deref() {
            Some([tag]) => format!("{}.{tag}", plan.topic),
            _ => format!("{}.>", plan.topic),
        };
        let name = safe_name(&plan.group);
        let consumer = stream
            .create_consumer(pull::Config {
                durable_name: Some(name.clone()),
                filter_subject,
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::Explicit,
                ack_wait: plan.lease,
                // One spare delivery: a message whose last delivery never settled (its
                // consumer died) comes once more, and the loop dead-letters it unrun.
                max_deliver: i64::from(plan.max_deliveries()) + 1,
                ..Default::default()
            })
            .await
            .map_err(|e| BrokerError::new(&format!("nats durable consumer {name}"), e))?;
        Ok(Self {
            js,
            consumer,
            plan: plan.clone(),
        })
    }
}

fn dead_stream(topic: &str) -> String {
    format!("{topic}_dead")
}

#[async_trait]
impl Session for NatsSession {
    /// What is ready now, up to `max`; if nothing is, one pull request for a single
    /// message that waits up to `wait`. A pull request ends with its last message, so no
    /// message is sent to a request nobody reads any more.
    async fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BrokerError> {
        let ready = self
            .consumer
            .fetch()
            .max_messages(max)
            .messages()
            .await
            .map_err(|e| BrokerError::new("nats fetch", e))?;
        let mut out = self.collect(ready).await?;
        if out.is_empty() {
            let waiting = self
                .consumer
                .batch()
                .max_messages(1)
                .expires(wait.max(Duration::from_secs(1)))
                .messages()
                .await
                .map_err(|e| BrokerError::new("nats fetch", e))?;
            out = self.collect(waiting).await?;
        }
        Ok(out)
    }
}

impl NatsSession {
    async fn collect(
        &self,
        mut batch: async_nats::jetstream::consumer::pull::Batch,
    ) -> Result<Vec<Delivery>, BrokerError> {
        let mut out = Vec::new();
        while let Some(next) = batch.next().await {
            let m = next.map_err(|e| BrokerError::new("nats fetch", e))?;
            out.push(self.delivery(m));
        }
        Ok(out)
    }
    fn delivery(&self, m: jetstream::Message) -> Delivery {
        let (sequence, deliveries) = match m.info() {
            Ok(info) => (
                info.stream_sequence,
                u32::try_from(info.delivered).unwrap_or(1),
            ),
            Err(_) => (0, 1),
        };
        let headers = m.headers.clone().unwrap_or_default();
        let prop = |name: &str| headers.get(name).map(|v| v.as_str().to_string());
        let fallback_tag = m
            .subject
            .as_str()
            .strip_prefix(&format!("{}.", self.plan.topic))
            .unwrap_or("")
            .to_string();
        let message = fire_message(
            prop,
            &fallback_tag,
            &m.payload,
            format!("{}:{sequence}", self.plan.topic),
            deliveries,
        );
        let keeper = keep_in_progress(m.clone(), self.plan.lease);
        Delivery {
            message,
            deliveries,
            settle: Box::new(NatsSettle {
                js: self.js.clone(),
                m,
                dead_subject: format!(
                    "{}.{}.{}",
                    dead_stream(&self.plan.topic),
                    safe_name(&self.plan.group),
                    fallback_tag
                ),
                _keeper: keeper,
            }),
        }
    }
}

/// Tells JetStream every third of the lease that the handler is still at work.
fn keep_in_progress(m: jetstream::Message, lease: Duration) -> AbortOnDrop<()> {
    AbortOnDrop(tokio::spawn(async move {
        let every = (lease / 3).max(Duration::from_millis(200));
        loop {
            tokio::time::sleep(every).await;
            if m.ack_with(AckKind::Progress).await.is_err() {
                return;
            }
        }
    }))
}

struct NatsSettle {
    js: Context,
    m: jetstream::Message,
    dead_subject: String,
    _keeper: AbortOnDrop<()>,
}

#[async_trait]
impl Settle for NatsSettle {
    async fn ack(self: Box<Self>) -> Result<(), BrokerError> {
        self.m
            .ack()
            .await
            .map_err(|e| BrokerError::new("nats ack", e))
    }

    async fn retry(self: Box<Self>, delay: Duration) -> Result<(), BrokerError> {
        self.m
            .ack_with(AckKind::Nak(Some(delay)))
            .await
            .map_err(|e| BrokerError::new("nats nak", e))
    }

    async fn dead(self: Box<Self>, reason: &str) -> Result<(), BrokerError> {
        let mut headers = self.m.headers.clone().unwrap_or_default();
        headers.insert("reason", reason.replace(['\r', '\n'], " ").as_str());
        let published = self
            .js
            .publish_with_headers(self.dead_subject.clone(), headers, self.m.payload.clone())
            .await
            .map_err(|e| BrokerError::new("nats dead-letter publish", e))?;
        published
            .await
            .map_err(|e| BrokerError::new("nats dead-letter publish ack", e))?;
        self.m
            .ack_with(AckKind::Term)
            .await
            .map_err(|e| BrokerError::new("nats term", e))
    }

    async fn release(self: Box<Self>) -> Result<(), BrokerError> {
        // Given back at shutdown: wait for the server to take the nak, or the connection
        // may close with it unsent and the message waits out its whole lease.
        self.m
            .double_ack_with(AckKind::Nak(None))
            .await
            .map_err(|e| BrokerError::new("nats nak", e))
    }
}

/// A name JetStream accepts in consumer names and subject tokens: letters, digits, `-` and
/// `_` kept, anything else `_`.
fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
