//! W5 publish burst: `n` once tasks due at one instant, published by taskcenter's outbox
//! relay to each broker, beside the broker's own ceiling on this machine measured in the
//! same run: a minimal publisher loop with the same client crate, the same messages, the
//! same confirmation awaited, the same batch and batches in flight as the relay.
//!
//! Both sides are timed by the same witness (the broker's own clock where it keeps one:
//! JetStream's stored time, the Redis entry id, RocketMQ's store timestamp; else a consumer
//! of the broker), so publishes/s (messages ÷ first-to-last arrival) compare like for like,
//! and `ratio` is taskcenter's ÷ the ceiling's.

mod amqp;
mod broker;
mod nats;
mod postgres;
mod redis;
pub mod report;
#[cfg(feature = "rocketmq")]
mod rocketmq;
mod webhook;

use std::path::Path;
use std::time::Instant;

use anyhow::bail;
use serde_json::{Map, Value, json};

use crate::api::Api;
use crate::ingest::{add_tasks, once_task};
use crate::server::Server;
use crate::stats::{now_ms, rate, round3, summary};
use broker::{Broker, Fire, expect_all, publish_all, wait_count};

/// Name (and data prefix) of W5's tasks.
pub const TASK_NAME: &str = "w5";

/// Messages the relay leases and publishes at once (its `BATCH`).
pub const RELAY_BATCH: usize = 4096;

/// Batches the relay keeps in flight at once (its `IN_FLIGHT`).
pub const RELAY_INFLIGHT: usize = 1;

/// The brokers W5 runs against by default, in output order: the machine's brokers that
/// scripts/brokers.sh starts, and the webhook receiver in the bench process.
pub const BROKERS: [&str; 4] = ["nats", "amqp", "redis", "webhook"];

/// Brokers W5 runs only when named in `--brokers`: RocketMQ needs the `rocketmq` feature
/// in both the server and the bench (a heavy client, off by default in both) and the broker
/// that scripts/rocketmq.sh starts, so a plain `w5` does not ask for it.
pub const EXTRA_BROKERS: [&str; 1] = ["rocketmq"];

/// Settings of a W5 run.
#[derive(Debug, Clone)]
pub struct W5Args {
    /// Tasks due at T.
    pub n: usize,
    /// Time left between now and T for adding the tasks, ms.
    pub margin_ms: i64,
    /// Give up this long after T, ms.
    pub deadline_ms: i64,
    /// Brokers to run, of [`BROKERS`] and [`EXTRA_BROKERS`].
    pub brokers: Vec<String>,
    /// A PostgreSQL server to store the tasks in (a fresh database per broker), instead of
    /// the embedded store.
    pub postgres: Option<String>,
}

/// Fails on a broker this build cannot run, before any broker runs.
fn check_broker(name: &str) -> anyhow::Result<()> {
    match name {
        _ if BROKERS.contains(&name) => Ok(()),
        "rocketmq" if cfg!(feature = "rocketmq") => Ok(()),
        "rocketmq" => bail!("taskcenter-bench was built without the rocketmq feature"),
        other => bail!("unknown broker {other:?} (one of {BROKERS:?} or {EXTRA_BROKERS:?})"),
    }
}

/// Runs W5 against every broker asked for; a broker that fails shows its error.
pub async fn run(bin: &Path, work: &Path, args: &W5Args) -> anyhow::Result<Value> {
    let mut out = Map::new();
    out.insert("tasks".into(), json!(args.n));
    out.insert("batch".into(), json!(RELAY_BATCH));
    out.insert("inflight".into(), json!(RELAY_INFLIGHT));
    let store = if args.postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    out.insert("store".into(), json!(store));
    for name in &args.brokers {
        check_broker(name)?;
    }
    for name in &args.brokers {
        eprintln!("  W5 {name}");
        let result = match name.as_str() {
            "nats" => one::<nats::Nats>(bin, work, args).await,
            "amqp" => one::<amqp::Amqp>(bin, work, args).await,
            "redis" => one::<redis::Redis>(bin, work, args).await,
            "webhook" => one::<webhook::Webhook>(bin, work, args).await,
            #[cfg(feature = "rocketmq")]
            "rocketmq" => one::<rocketmq::RocketMq>(bin, work, args).await,
            other => bail!("broker {other:?} passed the check but has no arm"),
        };
        let entry = result.unwrap_or_else(|e| {
            eprintln!("  W5 {name} FAILED: {e:#}");
            json!({"error": format!("{e:#}")})
        });
        out.insert(name.clone(), entry);
    }
    Ok(Value::Object(out))
}

/// The ceiling, then taskcenter, on one broker.
async fn one<B: Broker>(bin: &Path, work: &Path, args: &W5Args) -> anyhow::Result<Value> {
    let ceiling = ceiling::<B>(args.n).await?;
    eprintln!("    ceiling {ceiling}");
    let tc = taskcenter::<B>(bin, work, args).await?;
    eprintln!("    taskcenter {tc}");
    let ratio = match (
        tc["publishes_per_sec"].as_f64(),
        ceiling["publishes_per_sec"].as_f64(),
    ) {
        (Some(t), Some(c)) if c > 0.0 => json!(round3(t / c)),
        _ => Value::Null,
    };
    Ok(json!({"taskcenter": tc, "ceiling": ceiling, "ratio": ratio}))
}

/// A topic of its own for each phase, so the counts start at zero.
fn topic(broker: &str, phase: &str) -> String {
    format!("w5_{broker}_{phase}_{}_{}", std::process::id(), now_ms())
}

/// First and last arrival.
fn span(arrivals: &[i64]) -> (i64, i64) {
    let first = arrivals.iter().copied().min().unwrap_or(0);
    let last = arrivals.iter().copied().max().unwrap_or(0);
    (first, last)
}

/// The minimal publisher loop: `n` fire-shaped messages as fast as the broker confirms.
async fn ceiling<B: Broker>(n: usize) -> anyhow::Result<Value> {
    let broker = B::open(&topic(B::NAME, "ceiling")).await?;
    let fire_time = now_ms();
    let fires: Vec<Fire> = (0..n).map(|i| Fire::nth(i, fire_time)).collect();
    let t0 = Instant::now();
    publish_all(&broker, &fires, RELAY_BATCH, RELAY_INFLIGHT).await?;
    let client_secs = t0.elapsed().as_secs_f64();
    wait_count(&broker, n, now_ms() + 60_000).await?;
    let arrivals = broker.arrivals().await?;
    broker.close().await?;
    expect_all(B::NAME, &arrivals, n)?;
    let (first, last) = span(&arrivals);
    let secs = (last - first) as f64 / 1000.0;
    Ok(json!({
        "messages": n,
        "secs": round3(secs),
        "client_secs": round3(client_secs),
        "publishes_per_sec": rate(n, secs),
    }))
}

/// taskcenter publishing `n` tasks due at one instant through its relay.
async fn taskcenter<B: Broker>(bin: &Path, work: &Path, args: &W5Args) -> anyhow::Result<Value> {
    let topic = topic(B::NAME, "tc");
    let broker = B::open(&topic).await?;
    let dir = work.join(B::NAME);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let mut extra = vec![
        "--publisher".to_string(),
        broker.publisher_url(),
        "--topic".into(),
        topic.clone(),
    ];
    if let Some(server) = &args.postgres {
        extra.push("--store".into());
        extra.push(postgres::fresh_database(server, &format!("taskcenter_w5_{}", B::NAME)).await?);
    }
    let log = dir.join("server.log");
    std::fs::create_dir_all(&dir)?;
    let (server, _) = Server::start_with(bin, &dir.join("data"), &log, &extra).await?;
    let api = Api::new(&server.url)?;
    let due_s = (now_ms() + args.margin_ms).div_euclid(1000) + 1;
    let due_ms = due_s * 1000;
    let added = add_tasks(&api, args.n, 1000, 4, move |i| {
        once_task(TASK_NAME, i, due_s)
    })
    .await;
    let added_at = now_ms();
    eprintln!(
        "    added {} tasks in {:.2} s, {} ms before T",
        added.accepted,
        added.secs,
        due_ms - added_at
    );
    let seen = wait_count(&broker, added.accepted, due_ms + args.deadline_ms).await;
    server.stop().await?;
    seen?;
    let arrivals = broker.arrivals().await?;
    broker.close().await?;
    let (first, last) = span(&arrivals);
    let lateness: Vec<i64> = arrivals.iter().map(|at| at - due_ms).collect();
    Ok(json!({
        "tasks": args.n,
        "accepted": added.accepted,
        "published": arrivals.len(),
        "add_secs": round3(added.secs),
        "added_before_due": added_at <= due_ms,
        "drain_s": round3((last - due_ms) as f64 / 1000.0),
        "first_publish_ms": first - due_ms,
        "publishes_per_sec": rate(arrivals.len(), (last - first) as f64 / 1000.0),
        "lateness_ms": summary(&lateness),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brokers_are_checked_against_the_build() {
        for name in BROKERS {
            assert!(check_broker(name).is_ok(), "{name}");
        }
        let rocketmq = check_broker("rocketmq");
        if cfg!(feature = "rocketmq") {
            assert!(rocketmq.is_ok());
        } else {
            let e = rocketmq.expect_err("not built in").to_string();
            assert_eq!(e, "taskcenter-bench was built without the rocketmq feature");
        }
        assert!(check_broker("kafka").is_err());
    }
}
