//! Configuration: defaults, then the TOML file, then environment and flags. The example
//! `taskcenter.toml` at the repository root lists every key with its default.

mod durations;
mod publishing;
#[cfg(test)]
mod tests;

use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;
use taskcenter_core::duration::parse_duration_ms;
use taskcenter_server::ServerConfig;

use crate::cli::ServeArgs;
use durations::DurationList;

/// The server configuration, and what the file held that is not used.
#[derive(Debug)]
pub struct Settings {
    pub config: ServerConfig,
    /// One line for each thing of the file that has no effect; `serve` logs them.
    pub warnings: Vec<String>,
}

/// The TOML file. Unknown keys are refused (a typo should not pass silently); the sections
/// of the Go service's `task_center.toml` are accepted where they map, so its file works.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<String>,
    store: Option<String>,
    dedup: Option<bool>,
    max_data_bytes: Option<usize>,
    max_body_bytes: Option<usize>,
    retry_delays: Option<DurationList>,
    lease: Option<String>,
    window: Option<String>,
    misfire_grace: Option<String>,
    fire_ahead: Option<String>,
    shard_lease: Option<String>,
    retention: Option<String>,
    default_timezone: Option<String>,
    default_max_runtime: Option<i64>,
    min_interval: Option<String>,
    name_alert_count: Option<i64>,
    total_alert_count: Option<i64>,
    alert_webhook: Option<String>,
    auth_token: Option<String>,
    protect_metrics: Option<bool>,
    allow_origins: Option<Vec<String>>,
    allow_hosts: Option<Vec<String>>,
    max_connections: Option<usize>,
    header_timeout: Option<String>,
    idle_timeout: Option<String>,
    publisher: Option<String>,
    topic: Option<String>,
    webhook_secret: Option<String>,
    publish_timeout: Option<String>,
    webhook_timeout: Option<String>,
    redis_maxlen: Option<u64>,
    task_center: Option<LegacyTaskCenter>,
    rocketmq: Option<publishing::LegacyRocketMq>,
    // Sections for backends taskcenter does not need: accepted, with a warning.
    mongodb: Option<toml::Table>,
    redis: Option<toml::Table>,
}

/// The `[task_center]` section of the Go service's `task_center.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyTaskCenter {
    port: Option<u16>,
    name_alert_count: Option<i64>,
    total_alert_count: Option<i64>,
}

fn duration(label: &str, text: &str) -> anyhow::Result<i64> {
    parse_duration_ms(text).map_err(|e| anyhow::anyhow!("{label}: {e}"))
}

/// A list of durations; an empty one (`--retry-delays ""`) is a list of none.
fn durations(label: &str, list: &[String]) -> anyhow::Result<Vec<i64>> {
    if list.iter().all(|d| d.trim().is_empty()) {
        return Ok(Vec::new());
    }
    list.iter().map(|d| duration(label, d)).collect()
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("config file {}", path.display()))
}

/// Reads the file (if one is given), then builds the configuration from it, the
/// environment and the flags.
pub fn load(args: &ServeArgs) -> anyhow::Result<Settings> {
    let file = match &args.config {
        Some(path) => read_file(path)?,
        None => FileConfig::default(),
    };
    let mut warnings = unused_sections(&file);
    let config = server_config(args, file, &mut warnings)?;
    Ok(Settings { config, warnings })
}

/// A warning for each section of the Go service's file whose backend taskcenter does not
/// use, so nobody believes those settings took effect.
fn unused_sections(file: &FileConfig) -> Vec<String> {
    [
        (
            "mongodb",
            file.mongodb.is_some(),
            "tasks are kept in the store (--store)",
        ),
        ("redis", file.redis.is_some(), "taskcenter needs no Redis"),
    ]
    .into_iter()
    .filter(|(_, present, _)| *present)
    .map(|(name, _, why)| format!("config section [{name}] is not used and is ignored: {why}"))
    .collect()
}

/// The server configuration from the file, the environment and the flags.
fn server_config(
    args: &ServeArgs,
    file: FileConfig,
    warnings: &mut Vec<String>,
) -> anyhow::Result<ServerConfig> {
    let mut c = ServerConfig::default();
    http_settings(args, &mut c, &file)?;
    publisher_settings(args, &mut c, &file)?;
    let legacy = file.task_center.unwrap_or_default();
    if let Some(port) = legacy.port {
        c.listen.set_port(port);
    }
    if let Some(listen) = args.listen.as_ref().or(file.listen.as_ref()) {
        c.listen = crate::listen::resolve(listen)?;
    }
    if let Some(dir) = args.data_dir.clone().or(file.data_dir.map(Into::into)) {
        c.data_dir = dir;
    }
    c.store_url = args.store.clone().or(file.store).filter(|s| !s.is_empty());
    publishing::apply(
        args,
        publishing::FileKeys {
            publisher: file.publisher,
            topic: file.topic,
            webhook_secret: file.webhook_secret,
            seed: file.rocketmq,
        },
        &mut c,
        warnings,
    );
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
    let file_delays = file.retry_delays.map(DurationList::into_vec);
    if let Some(list) = args.retry_delays.as_ref().or(file_delays.as_ref()) {
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
    if let Some(m) = args.min_interval.as_ref().or(file.min_interval.as_ref()) {
        c.limits.min_interval_ms = duration("min_interval", m)?;
        if c.limits.min_interval_ms <= 0 {
            bail!("min_interval must be longer than 0");
        }
    }
    c.name_alert_count = file
        .name_alert_count
        .or(legacy.name_alert_count)
        .unwrap_or(0);
    c.total_alert_count = file
        .total_alert_count
        .or(legacy.total_alert_count)
        .unwrap_or(0);
    c.alert_webhook = file.alert_webhook.filter(|url| !url.is_empty());
    c.auth_token = args
        .auth_token
        .clone()
        .or(file.auth_token)
        .filter(|t| !t.is_empty());
    Ok(c)
}

/// The publisher's timeouts and stream limit.
fn publisher_settings(
    args: &ServeArgs,
    c: &mut ServerConfig,
    file: &FileConfig,
) -> anyhow::Result<()> {
    if let Some(t) = args
        .publish_timeout
        .as_ref()
        .or(file.publish_timeout.as_ref())
    {
        c.publish_timeout = positive("publish_timeout", t)?;
    }
    if let Some(t) = args
        .webhook_timeout
        .as_ref()
        .or(file.webhook_timeout.as_ref())
    {
        c.webhook_timeout = positive("webhook_timeout", t)?;
    }
    if let Some(n) = args.redis_maxlen.or(file.redis_maxlen) {
        // 0 is the file's way of saying "no limit" (TOML has no null).
        c.redis_maxlen = (n > 0).then_some(n);
    }
    Ok(())
}

/// A duration that must be longer than 0.
fn positive(label: &str, text: &str) -> anyhow::Result<std::time::Duration> {
    let ms = duration(label, text)?;
    if ms <= 0 {
        bail!("{label} must be longer than 0");
    }
    Ok(std::time::Duration::from_millis(ms as u64))
}

/// The HTTP front: origins, hosts, metrics and connection limits.
fn http_settings(args: &ServeArgs, c: &mut ServerConfig, file: &FileConfig) -> anyhow::Result<()> {
    c.protect_metrics = args.protect_metrics || file.protect_metrics.unwrap_or(false);
    c.allowed_origins = if args.allow_origin.is_empty() {
        file.allow_origins.clone().unwrap_or_default()
    } else {
        args.allow_origin.clone()
    };
    c.allowed_hosts = if args.allow_host.is_empty() {
        file.allow_hosts.clone().unwrap_or_default()
    } else {
        args.allow_host.clone()
    };
    if let Some(n) = args.max_connections.or(file.max_connections) {
        if n == 0 {
            bail!("max_connections must be at least 1");
        }
        c.connections.max_connections = n;
    }
    if let Some(t) = args
        .header_timeout
        .as_ref()
        .or(file.header_timeout.as_ref())
    {
        c.connections.header_timeout = positive("header_timeout", t)?;
    }
    if let Some(t) = args.idle_timeout.as_ref().or(file.idle_timeout.as_ref()) {
        c.connections.idle_timeout = positive("idle_timeout", t)?;
    }
    Ok(())
}
