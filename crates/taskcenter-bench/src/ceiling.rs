//! The ceiling of W1a on this machine: the same single-add load against a bare HTTP server
//! (axum, like taskcenter, answering every add with a fixed body and storing nothing), run
//! as its own process like the real server.

use std::process::Stdio;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::api::Api;
use crate::ingest::{add_tasks, now_s, w1_task};

const ANSWER: &str = r#"{"taskid":"000000000000000000000000","name":"w1"}"#;

/// Serves the bare add route on a free port; prints `listening on ADDR` on stdout.
pub async fn serve() -> anyhow::Result<()> {
    async fn add(body: Bytes) -> ([(axum::http::HeaderName, &'static str); 1], &'static str) {
        std::hint::black_box(body);
        ([(CONTENT_TYPE, "application/json")], ANSWER)
    }
    // /healthz: what the wrk script asks once every add is out.
    let app = Router::new()
        .route("/v1/api/task", post(add))
        .route("/healthz", get(|| async { "{}" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let mut out = tokio::io::stdout();
    out.write_all(format!("listening on {}\n", listener.local_addr()?).as_bytes())
        .await?;
    out.flush().await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// Runs W1a's load (`n` single adds, `inflight` at once) against a bare server process.
pub async fn run(n: usize, inflight: usize) -> anyhow::Result<Value> {
    let (mut child, url) = spawn().await?;
    let api = Api::new(&url)?;
    let added = add_tasks(&api, n, 1, inflight, w1_task(now_s())).await;
    let _ = child.kill().await;
    Ok(added.to_json(1, inflight))
}

/// Starts the bare server as a child process; returns it (killed when dropped) and its URL.
pub async fn spawn() -> anyhow::Result<(tokio::process::Child, String)> {
    let exe = std::env::current_exe().context("locating taskcenter-bench")?;
    let mut child = Command::new(exe)
        .arg("bare-server")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().context("bare server stdout")?;
    let line = BufReader::new(stdout).lines().next_line().await?;
    let Some(addr) = line
        .as_deref()
        .and_then(|l| l.strip_prefix("listening on "))
    else {
        bail!("bare server did not start: {line:?}");
    };
    Ok((child, format!("http://{addr}")))
}
