//! W3 precision: `n` once tasks due over `spread_s` seconds, consumed by one consumer;
//! lateness is the time the consume answer arrived minus the task's due time.
//!
//! The add API takes `start_time` in whole seconds, so the due times are the `spread_s`
//! whole seconds after T0, `n / spread_s` tasks on each. Each task's data carries its due
//! time in ms; the bench checks that the message's `fire_time` equals it.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use taskcenter_api::TaskSpec;
use tokio::sync::mpsc;

use crate::api::Api;
use crate::consumer::{Batch, spawn_loops, subscribe};
use crate::ingest::add_tasks;
use crate::server::Server;
use crate::stats::{now_ms, summary, write_samples};

/// Runs W3 against a fresh server in `work`.
/// `lead_s`: seconds from now (rounded down) to the first due second.
pub async fn run(
    bin: &Path,
    work: &Path,
    n: usize,
    spread_s: i64,
    lead_s: i64,
    samples: Option<&Path>,
) -> anyhow::Result<Value> {
    let (server, _) = Server::start(bin, &work.join("data"), &work.join("server.log")).await?;
    let result = drive(&server.url, n, spread_s.max(1), lead_s.max(1), samples).await;
    server.stop().await?;
    result
}

async fn drive(
    url: &str,
    n: usize,
    spread_s: i64,
    lead_s: i64,
    samples: Option<&Path>,
) -> anyhow::Result<Value> {
    let api = Api::new(url)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Batch>();
    subscribe(&api, &tx).await?;
    let loops = spawn_loops(&api, 1, 1000, 1000, tx);
    let t0_s = now_ms() / 1000 + lead_s;
    let make = move |i: usize| {
        let due_s = t0_s + (i as i64 % spread_s);
        TaskSpec {
            name: Some("w3".into()),
            kind: Some(1),
            data: Some(format!("w3-{i}-{}", due_s * 1000)),
            start_time: Some(due_s),
            ..TaskSpec::default()
        }
    };
    let added = add_tasks(&api, n, 1000, 2, make).await;
    let added_at = now_ms();
    let give_up = (t0_s + spread_s) * 1000 + 30_000;
    let mut lateness = Vec::with_capacity(n);
    let mut mismatched = 0usize;
    while lateness.len() < added.accepted {
        let left = give_up - now_ms();
        if left <= 0 {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(left as u64), rx.recv()).await {
            Ok(Some(batch)) => {
                for m in batch.messages {
                    let due = due_of(&m.data).unwrap_or(m.fire_time);
                    if due != m.fire_time {
                        mismatched += 1;
                    }
                    lateness.push(batch.at - due);
                }
            }
            _ => break,
        }
    }
    drop(rx);
    for l in loops {
        l.abort();
    }
    if let Some(path) = samples {
        write_samples(path, &lateness)?;
    }
    Ok(json!({
        "tasks": n,
        "accepted": added.accepted,
        "consumed": lateness.len(),
        "spread_s": spread_s,
        "added_before_first_due": added_at <= t0_s * 1000,
        "fire_time_mismatches": mismatched,
        "lateness_ms": summary(&lateness),
    }))
}

/// The due time (ms) at the end of `w3-{i}-{due_ms}`.
fn due_of(data: &str) -> Option<i64> {
    data.rsplit('-').next()?.parse().ok()
}
