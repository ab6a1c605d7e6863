//! W4 loops: `n` loop tasks every second, `count` fires each, all on the grid T0 + k s.
//! Counts fires per task against `count`, and the drift of each fire's arrival at the
//! consumer from its ideal grid time (arrival − (T0 + k s), k taken from `fire_time`).

use std::collections::HashMap;
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

/// Runs W4 against a fresh server in `work`.
/// `lead_s`: seconds from now (rounded down) to the first grid time T0.
pub async fn run(
    bin: &Path,
    work: &Path,
    n: usize,
    count: i64,
    lead_s: i64,
    samples: Option<&Path>,
) -> anyhow::Result<Value> {
    let (server, _) = Server::start(bin, &work.join("data"), &work.join("server.log")).await?;
    let result = drive(&server.url, n, count.max(1), lead_s.max(1), samples).await;
    server.stop().await?;
    result
}

async fn drive(
    url: &str,
    n: usize,
    count: i64,
    lead_s: i64,
    samples: Option<&Path>,
) -> anyhow::Result<Value> {
    let api = Api::new(url)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Batch>();
    subscribe(&api, &tx).await?;
    let loops = spawn_loops(&api, 1, 1000, 1000, tx);
    let t0_s = now_ms() / 1000 + lead_s;
    let t0_ms = t0_s * 1000;
    let make = move |i: usize| TaskSpec {
        name: Some("w4".into()),
        kind: Some(2),
        data: Some(format!("w4-{i}")),
        loop_time: Some(1),
        loop_count: Some(count),
        start_time: Some(t0_s),
        ..TaskSpec::default()
    };
    let added = add_tasks(&api, n, 1000, 1, make).await;
    let expected = added.accepted * count as usize;
    // Past the last grid time, wait a little for late or surplus fires.
    let give_up = t0_ms + count * 1000 + 15_000;
    let mut per_task: HashMap<String, usize> = HashMap::new();
    let mut drift = Vec::with_capacity(expected);
    let mut off_grid = 0usize;
    let mut fires = 0usize;
    let mut settle_until = i64::MAX;
    loop {
        let until = give_up.min(settle_until);
        let left = until - now_ms();
        if left <= 0 {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(left as u64), rx.recv()).await {
            Ok(Some(batch)) => {
                for m in batch.messages {
                    let k = ((m.fire_time - t0_ms) as f64 / 1000.0).round() as i64;
                    let ideal = t0_ms + k * 1000;
                    if m.fire_time != ideal {
                        off_grid += 1;
                    }
                    drift.push(batch.at - ideal);
                    *per_task.entry(m.taskid).or_default() += 1;
                    fires += 1;
                }
                if fires >= expected && settle_until == i64::MAX {
                    settle_until = now_ms() + 1500;
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
        write_samples(path, &drift)?;
    }
    let counts: Vec<usize> = per_task.values().copied().collect();
    let exact = counts.iter().filter(|&&c| c == count as usize).count();
    Ok(json!({
        "tasks": n,
        "accepted": added.accepted,
        "loop_count": count,
        "expected_fires": expected,
        "fires": fires,
        "tasks_seen": counts.len(),
        "tasks_exact": exact,
        "min_fires_per_task": counts.iter().min().copied().unwrap_or(0),
        "max_fires_per_task": counts.iter().max().copied().unwrap_or(0),
        "off_grid_fires": off_grid,
        "drift_ms": summary(&drift),
    }))
}
