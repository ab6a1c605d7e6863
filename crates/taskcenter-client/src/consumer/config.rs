//! [`Config`]: where the consumer pulls from, as which group, how many at once.

use std::sync::Arc;
use std::time::Duration;

use super::dedup::SeenFires;
use super::transport::Transport;
use crate::error::ClientError;

/// The server the command-line tools and [`Config::default`] use.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8081";

/// The topic a server publishes on unless told otherwise.
pub const DEFAULT_TOPIC: &str = "taskcenter";

/// RocketMQ's retry ladder in seconds: 10s 30s 1m 2m … 10m 20m 30m 1h 2h.
const ROCKETMQ_LADDER: [u64; 16] = [
    10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200,
];

/// How a consumer connects and behaves. Start from [`Config::new`] (or
/// [`Config::from_env`]) and adjust with the `with_*` methods:
///
/// ```
/// use std::time::Duration;
/// use taskcenter_client::Config;
///
/// let config = Config::new("http://127.0.0.1:8081")
///     .with_group("billing")
///     .with_concurrency(4)
///     .with_shutdown_timeout(Duration::from_secs(10));
/// assert_eq!(config.group, "billing");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Server URL, e.g. `http://127.0.0.1:8081`. With the built-in queue the consumer pulls
    /// from it; with a broker it is only called to ack the fires of `ack` tasks.
    pub server: String,
    /// Where messages come from: the server's built-in queue (default) or the broker the
    /// server publishes to. Changing it changes no handler code.
    pub transport: Transport,
    /// With a broker: the topic the server publishes on (its `--topic`, default
    /// `taskcenter`): the stream, subject prefix or exchange.
    pub topic: String,
    /// With a broker: the pauses before each retry of a failed message; a message is
    /// delivered at most `retry_delays.len() + 1` times, then it goes to the broker's
    /// dead-letter place. Default: the RocketMQ ladder of 16 delays (10 s … 2 h). The
    /// built-in queue uses the server's ladder instead; RocketMQ rounds each delay up to one
    /// of its delay levels.
    pub retry_delays: Vec<Duration>,
    /// With a broker: how long a delivered message may stay unsettled before the broker
    /// hands it to another consumer (JetStream's ack wait, the idle time after which a Redis
    /// consumer claims another's pending entry). Running handlers keep their messages
    /// (default 30 s).
    pub lease: Duration,
    /// With a broker: whether a handled fire is acked to the server
    /// (`POST /v1/api/ack {"fire_ids"}`), which an `ack` task needs; default on.
    pub ack_fires: bool,
    /// Skips fires already handled, by `fire_id` (see [`SeenFires`]); default none.
    pub dedup: Option<Arc<dyn SeenFires>>,
    /// Consumer group: every group gets every message of its tags; inside a group each
    /// message goes to one consumer. Default `default`.
    pub group: String,
    /// Most handlers running at once (default 8, at least 1). The consumer pulls only as
    /// many messages as it has free slots, so none waits leased in a local buffer.
    pub concurrency: usize,
    /// How long one long-poll waits for messages (default 10 s, at most 60 s).
    pub poll_wait: Duration,
    /// How long [`release`](crate::Client::release) waits for running handlers before it
    /// gives their messages back for redelivery (default 30 s).
    pub shutdown_timeout: Duration,
    /// First pause after a failed call to the server (default 200 ms); it doubles up to
    /// [`max_backoff`](Self::max_backoff).
    pub min_backoff: Duration,
    /// Longest pause between attempts while the server is unreachable (default 5 s).
    pub max_backoff: Duration,
    /// Bearer token, if the server requires one.
    pub token: Option<String>,
    /// With RocketMQ: the ACL keys every request to the broker is signed with, as the
    /// server's `--rocketmq-access-key` / `--rocketmq-secret-key` sign its sends.
    pub rocketmq_keys: Option<RocketMqKeys>,
    /// How this consumer is named to the server (`X-Client-Id`), in its queues view
    /// among the consumers of each group: `TASKCENTER_CLIENT_ID`, else `<host>-<pid>`.
    pub client_id: String,
}

/// RocketMQ ACL credentials: an access key and its secret key.
#[derive(Clone, PartialEq, Eq)]
pub struct RocketMqKeys {
    /// The access key (the account).
    pub access_key: String,
    /// The secret key requests are signed with.
    pub secret_key: String,
}

impl std::fmt::Debug for RocketMqKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocketMqKeys")
            .field("access_key", &self.access_key)
            .field("secret_key", &"…")
            .finish()
    }
}

/// `<host>-<pid>`: tells apart the consumers of one group in the server's queues view,
/// where a connection's address would change with every reconnect.
fn default_client_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "consumer".into());
    format!("{host}-{}", std::process::id())
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server: DEFAULT_SERVER.into(),
            transport: Transport::Builtin,
            topic: DEFAULT_TOPIC.into(),
            retry_delays: ROCKETMQ_LADDER
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
            lease: Duration::from_secs(30),
            ack_fires: true,
            dedup: None,
            group: "default".into(),
            concurrency: 8,
            poll_wait: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(30),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            token: None,
            rocketmq_keys: None,
            client_id: default_client_id(),
        }
    }
}

impl Config {
    /// Defaults, with the server at `server`.
    pub fn new(server: impl Into<String>) -> Self {
        Self {
            server: server.into(),
            ..Self::default()
        }
    }

    /// Defaults, with the server, group and token taken from `TASKCENTER_SERVER`,
    /// `TASKCENTER_GROUP` and `TASKCENTER_AUTH_TOKEN`, and the transport and topic from
    /// `TASKCENTER_PUBLISHER` and `TASKCENTER_TOPIC` (the same variables the server reads,
    /// so a consumer follows the server to its broker) when they are set.
    pub fn from_env() -> Result<Self, ClientError> {
        Self::from_vars(|key| std::env::var(key).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ClientError> {
        let set = |key: &str| var(key).filter(|v| !v.trim().is_empty());
        let mut c = Self::default();
        if let Some(server) = set("TASKCENTER_SERVER") {
            c.server = server;
        }
        if let Some(group) = set("TASKCENTER_GROUP") {
            c.group = group;
        }
        c.token = set("TASKCENTER_AUTH_TOKEN");
        c.rocketmq_keys = match (
            set("TASKCENTER_ROCKETMQ_ACCESS_KEY"),
            set("TASKCENTER_ROCKETMQ_SECRET_KEY"),
        ) {
            (Some(access_key), Some(secret_key)) => Some(RocketMqKeys {
                access_key,
                secret_key,
            }),
            (None, None) => None,
            (Some(_), None) => return Err(ClientError::HalfRocketMqKeys("the secret key")),
            (None, Some(_)) => return Err(ClientError::HalfRocketMqKeys("the access key")),
        };
        if let Some(id) = set("TASKCENTER_CLIENT_ID") {
            c.client_id = id;
        }
        if let Some(url) = set("TASKCENTER_PUBLISHER") {
            c.transport = Transport::from_url(&url)?;
        }
        if let Some(topic) = set("TASKCENTER_TOPIC") {
            c.topic = topic;
        }
        Ok(c)
    }

    /// Consumes from the broker at `url` (`nats://…`, `redis://…`, `amqp://…`,
    /// `rocketmq://…`, the server's `--publisher` URL) or, with `builtin`, from the server's own queue.
    pub fn with_broker(mut self, url: &str) -> Result<Self, ClientError> {
        self.transport = Transport::from_url(url)?;
        Ok(self)
    }

    /// Sets the topic the server publishes on (its `--topic`).
    pub fn with_topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = topic.into();
        self
    }

    /// Sets the retry ladder used with a broker.
    pub fn with_retry_delays(mut self, delays: Vec<Duration>) -> Self {
        self.retry_delays = delays;
        self
    }

    /// Sets how long an unsettled message stays with this consumer (with a broker).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_secs(1));
        self
    }

    /// Whether handled fires are acked to the server (with a broker).
    pub fn with_ack_fires(mut self, on: bool) -> Self {
        self.ack_fires = on;
        self
    }

    /// Skips fires `seen` says were handled already.
    pub fn with_dedup(mut self, seen: Arc<dyn SeenFires>) -> Self {
        self.dedup = Some(seen);
        self
    }

    /// Sets the consumer group.
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.group = group.into();
        self
    }

    /// Sets how many handlers may run at once (at least 1).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Sets how long one long-poll waits (capped at 60 s).
    pub fn with_poll_wait(mut self, wait: Duration) -> Self {
        self.poll_wait = wait.min(Duration::from_secs(60));
        self
    }

    /// Sets how long shutdown waits for running handlers.
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Sets the pauses between attempts while the server is unreachable.
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min.max(Duration::from_millis(1));
        self.max_backoff = max.max(self.min_backoff);
        self
    }

    /// Sends `Authorization: Bearer <token>` with every call.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Signs every request to RocketMQ with these ACL keys.
    pub fn with_rocketmq_keys(
        mut self,
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Self {
        self.rocketmq_keys = Some(RocketMqKeys {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
        });
        self
    }

    /// Names this consumer to the server (its queues view).
    pub fn with_client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = id.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_defaults() {
        let c = Config::from_vars(|k| match k {
            "TASKCENTER_SERVER" => Some("http://h:1".into()),
            "TASKCENTER_GROUP" => Some(" ".into()),
            _ => None,
        })
        .expect("valid");
        assert_eq!(c.server, "http://h:1");
        assert!(
            c.client_id.ends_with(&format!("-{}", std::process::id())),
            "{}",
            c.client_id
        );
        assert_eq!(c.group, "default");
        assert_eq!(c.token, None);
        assert_eq!(c.transport, Transport::Builtin);
        assert_eq!(c.retry_delays.len(), 16);
        assert_eq!(Config::default().with_concurrency(0).concurrency, 1);
    }

    #[test]
    fn rocketmq_keys_come_both_or_not_at_all() {
        let both = Config::from_vars(|k| match k {
            "TASKCENTER_ROCKETMQ_ACCESS_KEY" => Some("ak".into()),
            "TASKCENTER_ROCKETMQ_SECRET_KEY" => Some("sk".into()),
            _ => None,
        })
        .expect("valid");
        let keys = both.rocketmq_keys.expect("keys");
        assert_eq!(
            (keys.access_key.as_str(), keys.secret_key.as_str()),
            ("ak", "sk")
        );
        assert!(
            !format!("{keys:?}").contains("sk\""),
            "the secret is not logged"
        );
        let half = Config::from_vars(|k| match k {
            "TASKCENTER_ROCKETMQ_ACCESS_KEY" => Some("ak".into()),
            _ => None,
        });
        assert!(matches!(half, Err(ClientError::HalfRocketMqKeys(_))));
        let none = Config::from_vars(|_| None).expect("valid");
        assert!(none.rocketmq_keys.is_none());
    }

    #[test]
    fn publisher_variable_picks_the_transport() {
        let c = Config::from_vars(|k| match k {
            "TASKCENTER_PUBLISHER" => Some("nats://127.0.0.1:4222".into()),
            "TASKCENTER_TOPIC" => Some("jobs".into()),
            _ => None,
        });
        match c {
            Ok(c) => {
                assert_eq!(c.topic, "jobs");
                assert!(matches!(c.transport, Transport::Nats { .. }));
            }
            // Without the feature the URL is refused, saying which feature builds it.
            Err(e) => assert!(e.to_string().contains("nats"), "{e}"),
        }
        assert!(Config::from_vars(|_| Some("ftp://x".into())).is_err());
    }
}
