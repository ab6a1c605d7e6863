//! Consumers of the external brokers, each written with that broker's own client library
//! (never the server reading back its own writes), and a TCP proxy the tests cut to make
//! a broker unreachable for a while.
//!
//! A broker's consumer runs on a tokio runtime of the test's and hands each message it
//! got to the test thread as a [`Got`].
#![allow(dead_code)]

pub mod amqp;
pub mod nats;
pub mod proxy;
pub mod redis;
#[cfg(feature = "rocketmq")]
pub mod rocketmq;
pub mod webhook;

use std::collections::BTreeMap;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use tokio::runtime::Runtime;

/// One message as a consumer of the broker received it.
#[derive(Debug, Clone)]
pub struct Got {
    /// Subject, routing key, the `tag` field, the RocketMQ tag or the webhook path: what the
    /// broker routes on.
    pub key: String,
    /// The fire's properties (`tag`, `taskid`, `fire_time`, `fire_id`, `attempt`) as the
    /// broker carried them.
    pub props: BTreeMap<String, String>,
    /// The body, byte for byte.
    pub body: Vec<u8>,
    /// The broker's own id of the message where it carries one (`Nats-Msg-Id`, AMQP
    /// `message_id`, the stream entry id, the RocketMQ msg id, the webhook signature).
    pub extra: Option<String>,
}

impl Got {
    /// A property, or an empty string.
    pub fn prop(&self, name: &str) -> String {
        self.props.get(name).cloned().unwrap_or_default()
    }
}

/// A broker the suite runs against.
pub trait Broker: Sized {
    /// Its kind, as in the URL scheme's feature.
    const KIND: &'static str;
    /// Whether the broker's confirmation is the consumer's ack (a webhook's 2xx).
    const CONFIRM_IS_ACK: bool = false;

    /// Starts a consumer of `topic` on `rt`.
    fn start(rt: &Runtime, topic: &str) -> (Self, Receiver<Got>);

    /// The `--publisher` URL the server gets.
    fn publisher_url(&self) -> String;

    /// What makes the broker unreachable (or refusing) for the server for a while.
    fn switch(&self) -> &dyn Switch;

    /// Makes the broker unreachable (or refusing) until [`Broker::restore`].
    fn cut(&self) {
        self.switch().set_open(false);
    }

    /// Ends [`Broker::cut`].
    fn restore(&self) {
        self.switch().set_open(true);
    }

    /// What the routing key of a message of `tag` on `topic` is.
    fn key(_topic: &str, tag: &str) -> String {
        tag.to_string()
    }
}

/// Lets the server reach the broker, or not.
pub trait Switch {
    fn set_open(&self, open: bool);
}

/// The next message within `within`, if any.
pub fn next(rx: &Receiver<Got>, within: Duration) -> Option<Got> {
    rx.recv_timeout(within).ok()
}

/// A topic no other test uses (letters, digits and `_` only: every broker accepts it).
pub fn topic(test: &str) -> String {
    format!("tc_{test}_{}_{}", std::process::id(), fastrand_suffix())
}

fn fastrand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000_007)
        .unwrap_or(0)
}
