//! Configuration: defaults, then the TOML file, then environment and flags.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;
use taskcenter_core::duration::parse_duration_ms;
use taskcenter_server::ServerConfig;

use crate::cli::ServeArgs;

/// The TOML file. Unknown keys are refused (a typo should not pass silently); the seed's
/// `task_center.toml` sections are accepted where they map.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<String>,
    store: Option<String>,
    dedup: Option<bool>,
    max_data_bytes: Option<usize>,
    max_body_bytes: Option<usize>,
    retry_delays: Option<Vec<String>>,
    lease: Option<String>,
    window: Option<String>,
    misfire_grace: Option<String>,
    fire_ahead: Option<String>,
    shard_lease: Option<String>,
    retention: Option<String>,
    default_timezone: Option<String>,
    default_max_runtime: Option<i64>,
    name_alert_count: Option<i64>,
    total_alert_count: Option<i64>,
    alert_webhook: Option<String>,
    auth_token: Option<String>,
    task_center: Option<SeedTaskCenter>,
    // Seed sections for backends taskcenter does not need; accepted and ignored.
    mongodb: Option<toml::Table>,
    redis: Option<toml::Table>,
    rocketmq: Option<toml::Table>,
}

/// The seed's `[task_center]` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedTaskCenter {
    port: Option<u16>,
    name_alert_count: Option<i64>,
    total_alert_count: Option<i64>,
}

fn duration(label: &str, text: &str) -> anyhow::Result<i64> {
    parse_duration_ms(text).map_err(|e| anyhow::anyhow!("{label}: {e}"))
}

fn durations(label: &str, list: &[String]) -> anyhow::Result<Vec<i64>> {
    list.iter().map(|d| duration(label, d)).collect()
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("config file {}", path.display()))
}

/// Builds the server configuration from the file, the environment and the flags.
pub fn server_config(args: &ServeArgs) -> anyhow::Result<ServerConfig> {
    let file = match &args.config {
        Some(path) => read_file(path)?,
        None => FileConfig::default(),
    };
    let mut c = ServerConfig::default();
    let seed = file.task_center.unwrap_or_default();
    if let Some(port) = seed.port {
        c.listen.set_port(port);
    }
    if let Some(listen) = args.listen.as_ref().or(file.listen.as_ref()) {
        c.listen = listen
            .parse::<SocketAddr>()
            .with_context(|| format!("listen address {listen:?}"))?;
    }
    if let Some(dir) = args.data_dir.clone().or(file.data_dir.map(Into::into)) {
        c.data_dir = dir;
    }
    c.store_url = args.store.clone().or(file.store).filter(|s| !s.is_empty());
    if let Some(dedup) = file.dedup {
        c.dedup = dedup;
    }
    if let Some(n) = file.max_data_bytes {
        c.limits.max_data_bytes = n;
        c.max_body_bytes = c.max_body_bytes.max(n * 2 + 64 * 1024);
    }
    if let Some(n) = file.max_body_bytes {
        c.max_body_bytes = n;
    }
    if let Some(list) = args.retry_delays.as_ref().or(file.retry_delays.as_ref()) {
        c.delivery.retry_delays_ms = durations("retry_delays", list)?;
    }
    if let Some(lease) = args.lease.as_ref().or(file.lease.as_ref()) {
        c.delivery.default_lease_ms = duration("lease", lease)?;
        if c.delivery.default_lease_ms <= 0 {
            bail!("lease must be longer than 0");
        }
    }
    if let Some(w) = &file.window {
        c.window_ms = duration("window", w)?.max(1000);
    }
    if let Some(g) = &file.misfire_grace {
        c.misfire_grace_ms = duration("misfire_grace", g)?;
    }
    if let Some(a) = &file.fire_ahead {
        c.fire_ahead_ms = duration("fire_ahead", a)?;
    }
    if let Some(lease) = args.shard_lease.as_ref().or(file.shard_lease.as_ref()) {
        c.shard_lease_ms = duration("shard_lease", lease)?;
        if c.shard_lease_ms < 300 {
            bail!("shard_lease must be at least 300ms");
        }
    }
    if let Some(keep) = args.retention.as_ref().or(file.retention.as_ref()) {
        c.retention_ms = duration("retention", keep)?;
    }
    if let Some(tz) = file.default_timezone {
        c.limits.default_timezone = tz;
    }
    if let Some(n) = file.default_max_runtime {
        c.limits.default_max_runtime_s = n.max(1);
    }
    c.name_alert_count = file.name_alert_count.or(seed.name_alert_count).unwrap_or(0);
    c.total_alert_count = file
        .total_alert_count
        .or(seed.total_alert_count)
        .unwrap_or(0);
    c.alert_webhook = file.alert_webhook;
    c.auth_token = args
        .auth_token
        .clone()
        .or(file.auth_token)
        .filter(|t| !t.is_empty());
    let _ = (file.mongodb, file.redis, file.rocketmq);
    Ok(c)
}
