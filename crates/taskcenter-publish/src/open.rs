//! Picks a publisher from a publisher URL.

use std::sync::Arc;
use std::time::Duration;

use crate::Publisher;

/// What every publisher is built with.
#[derive(Debug, Clone)]
pub struct PublisherOptions {
    /// Topic, subject prefix, exchange or stream name.
    pub topic: String,
    /// Key of the webhook's `Taskcenter-Signature`, if set.
    pub webhook_secret: Option<String>,
    /// How long connecting to the broker, or one batch's publish until its last
    /// confirmation, may take before it counts as failed (and is tried again).
    pub timeout: Duration,
    /// How long one webhook request may take, connecting included, before it counts as
    /// failed: a receiver that hangs must not hold the relay.
    pub webhook_timeout: Duration,
    /// Redis Streams: trim the stream to about this many entries on each `XADD`
    /// (`MAXLEN ~ N`); `None` keeps every entry.
    pub redis_maxlen: Option<u64>,
    /// Who a RocketMQ producer is.
    pub rocketmq: RocketMqOptions,
}

/// The RocketMQ producer's identity, as the original service configured it; the URL's
/// `?group=` wins over `group`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RocketMqOptions {
    /// Producer group.
    pub group: Option<String>,
    /// Client instance name.
    pub instance_name: Option<String>,
    /// ACL access key (with `secret_key`).
    pub access_key: Option<String>,
    /// ACL secret key (with `access_key`).
    pub secret_key: Option<String>,
}

// The secret key stays out of logs.
impl std::fmt::Debug for RocketMqOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocketMqOptions")
            .field("group", &self.group)
            .field("instance_name", &self.instance_name)
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Default for PublisherOptions {
    fn default() -> Self {
        Self {
            topic: "taskcenter".into(),
            webhook_secret: None,
            timeout: Duration::from_secs(10),
            webhook_timeout: Duration::from_secs(10),
            redis_maxlen: None,
            rocketmq: RocketMqOptions::default(),
        }
    }
}

/// Why no publisher could be built.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL names no broker.
    #[error(
        "unknown publisher URL {0:?} (builtin, nats://, amqp://, redis://, rocketmq://, http(s)://)"
    )]
    BadUrl(String),
    /// The broker's module was compiled out.
    #[error("publisher {scheme}:// is not built: rebuild with cargo feature {feature:?}")]
    NotBuilt {
        /// The URL's scheme.
        scheme: String,
        /// The feature that builds it.
        feature: &'static str,
    },
    /// The URL or options are unusable for the broker.
    #[error("publisher {0}")]
    Invalid(String),
}

/// The publisher `url` names, `None` for `builtin` (the built-in queue). Nothing is
/// connected yet: a broker down at start-up is retried by the relay like one that goes
/// down later.
pub fn open(
    url: &str,
    options: &PublisherOptions,
) -> Result<Option<Arc<dyn Publisher>>, OpenError> {
    if url.is_empty() || url == "builtin" {
        return Ok(None);
    }
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
    if options.topic.is_empty() {
        return Err(OpenError::Invalid("topic must not be empty".into()));
    }
    match scheme {
        "http" | "https" => webhook(url, options),
        "nats" => nats(url, options),
        "redis" | "rediss" => redis(url, options),
        "amqp" | "amqps" => amqp(url, options),
        "rocketmq" => rocketmq(url, options),
        _ => Err(OpenError::BadUrl(url.into())),
    }
    .map(Some)
}

#[cfg(not(all(
    feature = "webhook",
    feature = "nats",
    feature = "redis",
    feature = "amqp",
    feature = "rocketmq"
)))]
fn not_built(scheme: &str, feature: &'static str) -> OpenError {
    OpenError::NotBuilt {
        scheme: scheme.into(),
        feature,
    }
}

#[cfg(feature = "webhook")]
fn webhook(url: &str, o: &PublisherOptions) -> Result<Arc<dyn Publisher>, OpenError> {
    Ok(Arc::new(crate::webhook::Webhook::new(url, o)?))
}

#[cfg(not(feature = "webhook"))]
fn webhook(url: &str, _: &PublisherOptions) -> Result<Arc<dyn Publisher>, OpenError> {
    Err(not_built(
        url.split(':').next().unwrap_or("http"),
        "webhook",
    ))
}

#[cfg(feature = "nats")]
fn nats(url: &str, o: &PublisherOptions) -> Result<Arc<dyn Publisher>, OpenError> {
    Ok(Arc::new(crate::nats::Nats::new(url, o)))
}

#[cfg(not(feature = "nats"))]
fn nats(_: &str, _: &PublisherOptions) -> Result<Arc<dyn Publisher>, OpenError> {
    Err(not_built("nats", "nats"))
}

#[cfg(feature = "redis")]
fn redis(url: &str, o: &PublisherOptions) -> Result<Arc<dyn Publisher>, OpenError> {
    Ok(Arc::new(crate::redis_streams::RedisStreams::new(url, o)?))
}

#[cfg(not(feature = "redis"))]
fn redis(url: &str, _: &PublisherOptions) -> Result<Arc<dyn Publisher>, OpenError> {
    Err(not_built(url.split(':').next().unwrap_or("redis"), "redis"))
}

#[cfg(feature = "amqp")]
fn amqp(url: &str, o: &PublisherOptions) -> Result<Arc<dyn Publisher>, OpenError> {
    Ok(Arc::new(crate::amqp::Amqp::new(url, o)))
}

#[cfg(not(feature = "amqp"))]
fn amqp(url: &str, _: &PublisherOptions) -> Result<Arc<dyn Publisher>, OpenError> {
    Err(not_built(url.split(':').next().unwrap_or("amqp"), "amqp"))
}

#[cfg(feature = "rocketmq")]
fn rocketmq(url: &str, o: &PublisherOptions) -> Result<Arc<dyn Publisher>, OpenError> {
    Ok(Arc::new(crate::rocketmq::RocketMq::new(url, o)?))
}

#[cfg(not(feature = "rocketmq"))]
fn rocketmq(_: &str, _: &PublisherOptions) -> Result<Arc<dyn Publisher>, OpenError> {
    Err(not_built("rocketmq", "rocketmq"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_is_no_publisher_and_unknown_schemes_fail() {
        let o = PublisherOptions::default();
        assert!(open("builtin", &o).expect("builtin").is_none());
        assert!(matches!(open("kafka://x:1", &o), Err(OpenError::BadUrl(_))));
        let empty = PublisherOptions {
            topic: String::new(),
            ..PublisherOptions::default()
        };
        assert!(matches!(
            open("http://127.0.0.1:1/", &empty),
            Err(OpenError::Invalid(_))
        ));
    }

    #[cfg(not(feature = "nats"))]
    #[test]
    fn a_broker_compiled_out_names_its_feature() {
        let err = open("nats://127.0.0.1:4222", &PublisherOptions::default()).err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("feature \"nats\""), "{text}");
    }

    #[cfg(not(feature = "rocketmq"))]
    #[test]
    fn rocketmq_compiled_out_names_its_feature() {
        let err = open("rocketmq://127.0.0.1:9876", &PublisherOptions::default()).err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("feature \"rocketmq\""), "{text}");
    }
}
