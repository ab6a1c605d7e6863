//! W1a driven from outside by `wrk` (`bench/wrk/add.lua`): single adds with 64 in flight
//! from a load generator written in C, which costs the shared cores less than our own
//! client and so does not flatter or hurt the server. After the run the server is stopped
//! and SQLite's own command-line shell counts the tasks in its file, so every 200 counted
//! is shown to be a stored task and no more were stored than were sent.

use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::process::Command;

use crate::ingest::now_s;
use crate::stats::{rate, round3};

/// How wrk is run.
#[derive(Debug, Clone)]
pub struct WrkLoad<'a> {
    /// The Lua script (`bench/wrk/add.lua`).
    pub script: &'a Path,
    /// Adds to send.
    pub n: usize,
    /// Connections, i.e. requests in flight.
    pub connections: usize,
}

/// Runs the load against `url` and returns the script's figures as JSON, with the rate.
pub async fn drive(url: &str, load: &WrkLoad<'_>) -> anyhow::Result<Value> {
    let out = Command::new("wrk")
        .args(["-t1", "-d600s", "--timeout", "10s"])
        .arg(format!("-c{}", load.connections))
        .arg("-s")
        .arg(load.script)
        .arg(url)
        .arg("--")
        .arg(load.n.to_string())
        .arg(now_s().to_string())
        .stdin(Stdio::null())
        .output()
        .await
        .context("running wrk (apt-get install wrk)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "wrk failed ({}): {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .with_context(|| format!("no JSON line from the wrk script: {stdout}"))?;
    let raw: Value = serde_json::from_str(line).context("the wrk script's JSON")?;
    let count = |k: &str| raw.get(k).and_then(Value::as_u64).unwrap_or(0) as usize;
    let secs = raw.get("secs").and_then(Value::as_f64).unwrap_or(0.0);
    let ok = count("adds_ok");
    let first_error = raw
        .get("first_failure")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    Ok(json!({
        "tool": "wrk -t1",
        "tasks": load.n,
        "accepted": ok,
        "errors": count("adds_failed"),
        "issued": count("adds_issued"),
        "secs": round3(secs),
        "per_sec": rate(ok, secs),
        "inflight": load.connections,
        "first_error": first_error,
    }))
}

/// Counts the tasks stored in the SQLite file `db` and how many distinct data they carry,
/// with the `sqlite3` shell (read-only), once the server has stopped.
pub async fn stored_tasks(db: &Path) -> anyhow::Result<(u64, u64)> {
    let out = Command::new("sqlite3")
        .arg("-readonly")
        .arg(db)
        .arg(
            "SELECT count(*), count(DISTINCT p.data) FROM tasks t \
             JOIN task_payloads p ON p.rid = t.rid;",
        )
        .stdin(Stdio::null())
        .output()
        .await
        .context("running sqlite3 (apt-get install sqlite3)")?;
    if !out.status.success() {
        bail!("sqlite3 failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.trim().split('|').map(str::parse::<u64>);
    match (parts.next(), parts.next()) {
        (Some(Ok(all)), Some(Ok(distinct))) => Ok((all, distinct)),
        _ => bail!("unexpected sqlite3 answer: {text}"),
    }
}

/// Adds the stored counts to `figures` and whether they prove every 200 a distinct, real
/// add: as many stored tasks, all with different data, as adds answered 200.
pub fn with_stored(mut figures: Value, all: u64, distinct: u64) -> Value {
    let accepted = figures.get("accepted").and_then(Value::as_u64);
    if let Value::Object(map) = &mut figures {
        map.insert("stored".into(), json!(all));
        map.insert("stored_distinct".into(), json!(distinct));
        map.insert(
            "stored_matches".into(),
            json!(accepted == Some(all) && all == distinct),
        );
    }
    figures
}
