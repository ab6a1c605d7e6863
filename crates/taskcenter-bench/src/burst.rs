//! W2 burst: `n` once tasks all due at the same second T, drained by one consumer process
//! and then (on a fresh server) by two. Each consumer process streams its batches'
//! lateness on stdout; this coordinator adds up the figures.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::api::Api;
use crate::ingest::{add_tasks, once_task};
use crate::server::Server;
use crate::stats::{now_ms, rate, round3, summary, write_samples};

/// Settings of one W2 run.
#[derive(Debug, Clone)]
pub struct BurstArgs {
    /// Tasks due at T.
    pub n: usize,
    /// Consumer processes.
    pub consumers: usize,
    /// Concurrent long-polls inside each consumer process.
    pub polls: usize,
    /// Messages per consume call.
    pub max: i64,
    /// Time left between now and T for adding the tasks, ms.
    pub margin_ms: i64,
    /// Give up this long after T, ms.
    pub deadline_ms: i64,
}

/// Runs one W2 configuration against a fresh server in `work`.
pub async fn run(
    bin: &Path,
    work: &Path,
    args: &BurstArgs,
    samples: Option<&Path>,
) -> anyhow::Result<Value> {
    let (server, _) = Server::start(bin, &work.join("data"), &work.join("server.log")).await?;
    let result = drive(&server.url, args, samples).await;
    server.stop().await?;
    result
}

async fn drive(url: &str, args: &BurstArgs, samples: Option<&Path>) -> anyhow::Result<Value> {
    let api = Api::new(url)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<(i64, Vec<i64>)>();
    let mut children = Vec::new();
    for _ in 0..args.consumers {
        children.push(spawn_consumer(url, args, tx.clone()).await?);
    }
    drop(tx);
    let due_s = (now_ms() + args.margin_ms).div_euclid(1000) + 1;
    let due_ms = due_s * 1000;
    let added = add_tasks(&api, args.n, 1000, 4, move |i| once_task("w2", i, due_s)).await;
    let added_at = now_ms();
    eprintln!(
        "  added {} tasks in {:.2} s, {} ms before T",
        added.accepted,
        added.secs,
        due_ms - added_at
    );
    let mut lateness = Vec::with_capacity(args.n);
    let mut last_at = i64::MIN;
    let give_up = due_ms + args.deadline_ms;
    while lateness.len() < added.accepted {
        let left = give_up - now_ms();
        if left <= 0 {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(left as u64), rx.recv()).await {
            Ok(Some((at, lats))) => {
                last_at = last_at.max(at);
                lateness.extend(lats);
            }
            Ok(None) => bail!("every consumer process exited early"),
            Err(_) => break,
        }
    }
    for mut child in children {
        let _ = child.kill().await;
    }
    if let Some(path) = samples {
        write_samples(path, &lateness)?;
    }
    let drain_s = (last_at - due_ms) as f64 / 1000.0;
    Ok(json!({
        "tasks": args.n,
        "accepted": added.accepted,
        "consumed": lateness.len(),
        "consumers": args.consumers,
        "polls_per_consumer": args.polls,
        "add_secs": round3(added.secs),
        "added_before_due": added_at <= due_ms,
        "drain_s": round3(drain_s),
        "fires_per_sec": rate(lateness.len(), drain_s),
        "lateness_ms": summary(&lateness),
    }))
}

/// Starts one consumer process and forwards its batches to `tx` once it is subscribed.
async fn spawn_consumer(
    url: &str,
    args: &BurstArgs,
    tx: mpsc::UnboundedSender<(i64, Vec<i64>)>,
) -> anyhow::Result<Child> {
    let exe = std::env::current_exe().context("locating taskcenter-bench")?;
    let mut child = Command::new(exe)
        .args(["consumer", "--url", url])
        .args(["--polls", &args.polls.to_string()])
        .args(["--max", &args.max.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting a consumer process")?;
    let stdout = child.stdout.take().context("consumer stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    match lines.next_line().await? {
        Some(line) if line == "ready" => {}
        other => bail!("consumer process did not get ready: {other:?}"),
    }
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let mut fields = line.split(' ');
            if fields.next() != Some("B") {
                continue;
            }
            let Some(at) = fields.next().and_then(|f| f.parse().ok()) else {
                continue;
            };
            let lats = fields.filter_map(|f| f.parse().ok()).collect();
            if tx.send((at, lats)).is_err() {
                break;
            }
        }
    });
    Ok(child)
}
