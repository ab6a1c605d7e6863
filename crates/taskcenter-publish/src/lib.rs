//! Publishers of fires to external brokers: one small trait, one module per broker behind
//! a cargo feature, chosen from the `--publisher` URL as the store is from `--store`.
//!
//! A publisher only talks to its broker; what is published when, retried or given up is
//! the relay's business (server `relay`), from the outbox the store keeps.

mod message;
mod open;

#[cfg(feature = "amqp")]
mod amqp;
#[cfg(feature = "nats")]
mod nats;
#[cfg(feature = "redis")]
mod redis_streams;
#[cfg(feature = "rocketmq")]
mod rocketmq;
#[cfg(feature = "webhook")]
mod webhook;

pub use message::{OutMessage, PublishError, PublishResult};
pub use open::{OpenError, PublisherOptions, RocketMqOptions, open};

use async_trait::async_trait;

/// A broker fires are published to.
#[async_trait]
pub trait Publisher: Send + Sync + 'static {
    /// The broker's kind (`nats`, `amqp`, `redis`, `rocketmq`, `webhook`), for logs and
    /// metrics.
    fn broker(&self) -> &'static str;

    /// Whether the broker's confirmation already means the consumer handled the message
    /// (a webhook's 2xx), so an end-to-end ack needs nothing more.
    fn confirm_is_ack(&self) -> bool {
        false
    }

    /// Publishes a batch; one result per message, in order: the broker's id of the message
    /// once the broker confirmed it, or why not.
    async fn publish(&self, batch: &[OutMessage]) -> Vec<PublishResult>;
}
