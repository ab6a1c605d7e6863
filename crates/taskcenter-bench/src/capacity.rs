//! M1 / M2 capacity: `n` pending far-future tasks. Time to add them, the server's
//! resident memory, bytes on disk, and the restart time (SIGTERM, start again on the same
//! data directory, until `/readyz` answers 200).
//!
//! `/readyz` answers once HTTP is up and the store answers; the engine loads its window
//! (tasks due in the next minute) in the background, so that load is not in the restart
//! time. Here every task is days ahead, so the window is empty anyway.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::api::Api;
use crate::ingest::{add_tasks, far_task, now_s};
use crate::server::{Server, dir_bytes, peak_rss_of};
use crate::stats::round3;

/// Runs M1 or M2 against a fresh server in `work`; the server is left alone for `settle`
/// before its memory is read.
pub async fn run(
    bin: &Path,
    work: &Path,
    n: usize,
    inflight: usize,
    settle: Duration,
) -> anyhow::Result<Value> {
    let data = work.join("data");
    let (server, first_start) = Server::start(bin, &data, &work.join("server.log")).await?;
    let rss_empty = server.rss()?;
    let api = Api::new(&server.url)?;
    let added = add_tasks(&api, n, 1000, inflight, far_task(now_s())).await;
    eprintln!("  added {} tasks in {:.1} s", added.accepted, added.secs);
    tokio::time::sleep(settle).await;
    let rss = server.rss()?;
    let peak = peak_rss_of(server.pid()?)?;
    let disk = dir_bytes(&data)?;
    let (server, stop_time, restart) = server.restart().await?;
    let api = Api::new(&server.url)?;
    tokio::time::sleep(settle).await;
    let rss_after_restart = server.rss()?;
    let scheduled = api.gauge("taskcenter_tasks_scheduled").await?;
    let held = api.gauge("taskcenter_timer_held").await?;
    let disk_after_restart = dir_bytes(&data)?;
    server.stop().await?;
    Ok(json!({
        "tasks": n,
        "accepted": added.accepted,
        "errors": added.errors,
        "first_error": added.first_error,
        "add_secs": round3(added.secs),
        "add_per_sec": crate::stats::rate(added.accepted, added.secs),
        "rss_empty_bytes": rss_empty,
        "rss_bytes": rss,
        "rss_mib": round3(rss as f64 / 1048576.0),
        "peak_rss_bytes": peak,
        "disk_bytes": disk,
        "disk_bytes_after_restart": disk_after_restart,
        "first_start_s": round3(first_start.ready.as_secs_f64()),
        "shutdown_s": round3(stop_time.as_secs_f64()),
        "restart_listening_s": round3(restart.listening.as_secs_f64()),
        "restart_s": round3(restart.ready.as_secs_f64()),
        "restart_includes_window_load": false,
        "rss_after_restart_bytes": rss_after_restart,
        "scheduled_after_restart": scheduled,
        "timer_held_after_restart": held,
    }))
}
