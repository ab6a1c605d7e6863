//! Typed server configuration with every default in one place.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use taskcenter_core::Limits;
pub use taskcenter_publish::RocketMqOptions;
use taskcenter_store::DeliveryPolicy;

/// Everything `serve` needs, validated before the server starts.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Directory of the embedded store.
    pub data_dir: PathBuf,
    /// Store URL; `None` = embedded store in `data_dir`.
    pub store_url: Option<String>,
    /// Seed behaviour: adding a live `(name, data)` again returns the existing id.
    pub dedup: bool,
    /// Validation limits and defaults.
    pub limits: Limits,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Retry ladder and default lease.
    pub delivery: DeliveryPolicy,
    /// How far ahead due tasks are loaded into memory.
    pub window_ms: i64,
    /// How late a fire may be before a `skip` misfire policy drops it.
    pub misfire_grace_ms: i64,
    /// How long before its time a fire is committed (visible only at its time).
    pub fire_ahead_ms: i64,
    /// Per-minute fires of one name that raise `NAME_TOO_MANY_TASK`; 0 = off.
    pub name_alert_count: i64,
    /// Per-minute fires in total that raise `TOTAL_TOO_MANY_TASK`; 0 = off.
    pub total_alert_count: i64,
    /// Webhook called with each alert, if set.
    pub alert_webhook: Option<String>,
    /// Bearer token required on the API, if set.
    pub auth_token: Option<String>,
    /// Shard lease time on a store shared by replicas: a dead replica's shards are taken
    /// over within it.
    pub shard_lease_ms: i64,
    /// How long the history of a fire whose messages are all acked or cancelled is kept
    /// (with finished and deleted tasks left without history); 0 keeps everything.
    pub retention_ms: i64,
    /// Whether `/metrics` needs the bearer token too (it is open by default so scrapers
    /// need no secret).
    pub protect_metrics: bool,
    /// Origins besides the server's own whose pages may change state (`https://ops.example`).
    pub allowed_origins: Vec<String>,
    /// Host names accepted besides loopback ones when the server listens on loopback (the
    /// name a reverse proxy forwards).
    pub allowed_hosts: Vec<String>,
    /// Timeouts and the cap on HTTP connections.
    pub connections: ConnectionLimits,
    /// Where fires go: `builtin` (the built-in queue) or an external broker's URL.
    pub publisher: String,
    /// Topic, subject prefix, exchange or stream of an external publisher.
    pub topic: String,
    /// Key of the webhook publisher's `Taskcenter-Signature`, if set.
    pub webhook_secret: Option<String>,
    /// How long connecting to a broker, or publishing one batch until its last
    /// confirmation, may take before it counts as failed and is tried again.
    pub publish_timeout: Duration,
    /// How long one webhook request may take before it counts as failed.
    pub webhook_timeout: Duration,
    /// Redis Streams publisher: `MAXLEN ~` of the stream; `None` keeps every entry.
    pub redis_maxlen: Option<u64>,
    /// Producer group, instance name and ACL credentials of the RocketMQ publisher.
    pub rocketmq: RocketMqOptions,
}

/// What keeps idle or half-sent connections from using the server up.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// A request head must be complete this long after its first byte arrived.
    pub header_timeout: Duration,
    /// A keep-alive connection with no request for this long is closed.
    pub idle_timeout: Duration,
    /// Most connections open at once; at the cap, connections not handling a request are
    /// closed to make room.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
        }
    }
}

/// The default listen address: loopback only, so nothing is reachable from outside unless asked.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8081";

/// The default data directory, relative to where `serve` starts.
pub const DEFAULT_DATA_DIR: &str = "./taskcenter-data";

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            store_url: None,
            dedup: true,
            limits: Limits::default(),
            max_body_bytes: 8 * 1024 * 1024,
            delivery: DeliveryPolicy::default(),
            window_ms: 60_000,
            misfire_grace_ms: 5_000,
            fire_ahead_ms: 500,
            name_alert_count: 0,
            total_alert_count: 0,
            alert_webhook: None,
            auth_token: None,
            shard_lease_ms: 10_000,
            retention_ms: 7 * 24 * 3_600_000,
            protect_metrics: false,
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            connections: ConnectionLimits::default(),
            publisher: "builtin".into(),
            topic: "taskcenter".into(),
            webhook_secret: None,
            publish_timeout: Duration::from_secs(10),
            webhook_timeout: Duration::from_secs(10),
            redis_maxlen: None,
            rocketmq: RocketMqOptions::default(),
        }
    }
}
