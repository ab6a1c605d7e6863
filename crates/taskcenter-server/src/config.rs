//! Typed server configuration with every default in one place.

use std::net::SocketAddr;
use std::path::PathBuf;

use taskcenter_core::Limits;
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
}

/// The default listen address (SPEC §8).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8081";

/// The default data directory (SPEC §8).
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
        }
    }
}
