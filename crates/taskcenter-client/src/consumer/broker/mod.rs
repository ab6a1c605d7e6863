//! Consuming from the broker the server publishes to: one small seam ([`Session`] and
//! [`Settle`]) with one module per broker behind its cargo feature, and one loop
//! ([`runner`]) that gives every broker the same semantics — handlers by tag, the retry
//! ladder, the dead-letter place, bounded concurrency, graceful shutdown, reconnecting.
//!
//! A broker module only moves messages: fetch, ack, retry after a delay, dead-letter,
//! give back. Which of these happens is decided by the loop.
// Without any broker feature only the seam is left, and nothing builds a session.
#![cfg_attr(
    not(any(
        feature = "nats",
        feature = "redis",
        feature = "amqp",
        feature = "rocketmq"
    )),
    allow(dead_code)
)]

#[cfg(feature = "amqp")]
mod amqp;
#[cfg(feature = "nats")]
mod nats;
#[cfg(feature = "redis")]
mod redis_streams;
#[cfg(feature = "rocketmq")]
mod rocketmq;
pub(crate) mod runner;

use std::time::Duration;

use async_trait::async_trait;
use taskcenter_api::Message;

use super::config::RocketMqKeys;
use super::transport::Transport;

/// What a broker consumer is set up with.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Stream, subject prefix or exchange the server publishes on.
    pub topic: String,
    /// Consumer group: a durable consumer, consumer group or queue of that name.
    pub group: String,
    /// The tags the handlers take, `None` for every tag.
    pub tags: Option<Vec<String>>,
    /// Pause before each retry; the message is dead after `ladder.len() + 1` deliveries.
    pub ladder: Vec<Duration>,
    /// How long an unsettled message stays with this consumer (RabbitMQ and RocketMQ have
    /// no lease: a message stays with its consumer while it lives).
    #[cfg_attr(not(any(feature = "nats", feature = "redis")), allow(dead_code))]
    pub lease: Duration,
    /// Most messages in hand at once.
    pub concurrency: usize,
    /// RocketMQ's ACL keys, if its broker checks them.
    #[cfg_attr(not(feature = "rocketmq"), allow(dead_code))]
    pub rocketmq_keys: Option<RocketMqKeys>,
}

impl Plan {
    /// Most deliveries of one message.
    pub fn max_deliveries(&self) -> u32 {
        u32::try_from(self.ladder.len()).unwrap_or(u32::MAX - 1) + 1
    }
}

/// A broker failed; the loop reconnects with backoff.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub(crate) struct BrokerError(pub String);

impl BrokerError {
    pub fn new(what: &str, e: impl std::fmt::Display) -> Self {
        Self(format!("{what}: {e}"))
    }
}

/// One delivered message and the way to settle it.
pub(crate) struct Delivery {
    /// The fire, with `attempt` = the attempt it was published with plus this broker's
    /// redeliveries of it.
    pub message: Message,
    /// How many times the broker delivered this message, this one included (from 1).
    pub deliveries: u32,
    /// Acks, retries, dead-letters or gives the message back.
    pub settle: Box<dyn Settle>,
}

/// An open connection to the broker, set up for one group.
#[async_trait]
pub(crate) trait Session: Send {
    /// Up to `max` messages, waiting at most about `wait` for the first.
    async fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BrokerError>;
}

/// Settles one delivery. A failure to settle is logged by the loop: the broker delivers
/// the message again, which is what at-least-once means.
#[async_trait]
pub(crate) trait Settle: Send {
    /// The handlers succeeded (or none applies): the message is done.
    async fn ack(self: Box<Self>) -> Result<(), BrokerError>;
    /// Deliver the message again after `delay`.
    async fn retry(self: Box<Self>, delay: Duration) -> Result<(), BrokerError>;
    /// The last delivery failed: move the message to the dead-letter place.
    async fn dead(self: Box<Self>, reason: &str) -> Result<(), BrokerError>;
    /// Give the message back at once, unhandled (a handler stopped at shutdown).
    async fn release(self: Box<Self>) -> Result<(), BrokerError>;
}

/// Connects to the broker of `transport` and sets up the group's consumer.
pub(crate) async fn connect(
    transport: &Transport,
    plan: &Plan,
) -> Result<Box<dyn Session>, BrokerError> {
    #[cfg(not(all(
        feature = "nats",
        feature = "redis",
        feature = "amqp",
        feature = "rocketmq"
    )))]
    let _ = plan;
    match transport {
        #[cfg(feature = "nats")]
        Transport::Nats { url } => Ok(Box::new(nats::NatsSession::connect(url, plan).await?)),
        #[cfg(feature = "redis")]
        Transport::Redis { url } => Ok(Box::new(
            redis_streams::RedisSession::connect(url, plan).await?,
        )),
        #[cfg(feature = "amqp")]
        Transport::Amqp { url } => Ok(Box::new(amqp::AmqpSession::connect(url, plan).await?)),
        #[cfg(feature = "rocketmq")]
        Transport::RocketMq { url } => Ok(Box::new(
            rocketmq::RocketMqSession::connect(url, plan).await?,
        )),
        other => Err(BrokerError(format!(
            "transport {} is not a broker built into this client",
            other.kind()
        ))),
    }
}

/// A fire from the properties a broker carried, `prop(name)` for `tag`, `taskid`,
/// `fire_time`, `fire_id` and `attempt`. `attempt` is the published attempt plus the
/// broker's redeliveries.
pub(crate) fn fire_message(
    prop: impl Fn(&str) -> Option<String>,
    fallback_tag: &str,
    data: &[u8],
    msgid: String,
    deliveries: u32,
) -> Message {
    let published: i64 = prop("attempt").and_then(|a| a.parse().ok()).unwrap_or(1);
    Message {
        msgid,
        taskid: prop("taskid").unwrap_or_default(),
        tag: prop("tag").unwrap_or_else(|| fallback_tag.to_string()),
        data: String::from_utf8_lossy(data).into_owned(),
        fire_time: prop("fire_time")
            .and_then(|t| t.parse().ok())
            .unwrap_or_default(),
        fire_id: prop("fire_id").unwrap_or_default(),
        attempt: published + i64::from(deliveries) - 1,
        lease_until: 0,
    }
}
