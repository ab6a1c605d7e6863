//! Adding many tasks fast (W1, and the fill phase of W2, W3, M1, M2): single adds or
//! batches, a fixed number of requests in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::bail;
use serde_json::{Value, json};
use taskcenter_api::{AddTaskResponse, BatchItemResult, TaskSpec};
use tokio::sync::Mutex;

use crate::api::Api;
use crate::http1::Conn;
use crate::stats::{now_ms, pick, rate, round3};

/// How many tasks went in and how long it took.
#[derive(Debug, Clone)]
pub struct Added {
    /// Tasks asked for.
    pub tasks: usize,
    /// Tasks the server accepted.
    pub accepted: usize,
    /// Requests or items refused.
    pub errors: usize,
    /// Wall time of the whole fill, seconds.
    pub secs: f64,
    /// The first error, if any.
    pub first_error: Option<String>,
}

impl Added {
    /// The figures as JSON.
    pub fn to_json(&self, batch: usize, inflight: usize) -> Value {
        json!({
            "tasks": self.tasks,
            "accepted": self.accepted,
            "errors": self.errors,
            "secs": round3(self.secs),
            "per_sec": rate(self.accepted, self.secs),
            "batch": batch,
            "inflight": inflight,
            "first_error": self.first_error,
        })
    }
}

/// Adds `n` tasks made by `make(i)`. `batch == 1` uses single adds (`POST /v1/api/task`),
/// larger batches `POST /v1/api/tasks`; `inflight` requests run at once.
pub async fn add_tasks<F>(api: &Api, n: usize, batch: usize, inflight: usize, make: F) -> Added
where
    F: Fn(usize) -> TaskSpec + Send + Sync + 'static,
{
    let batch = batch.max(1);
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let make = Arc::new(make);
    let progress_every = if n >= 1_000_000 { n / 10 } else { usize::MAX };
    let t0 = Instant::now();
    let mut workers = Vec::with_capacity(inflight);
    for _ in 0..inflight.max(1) {
        let (api, next, accepted, errors, first_error, make) = (
            api.clone(),
            next.clone(),
            accepted.clone(),
            errors.clone(),
            first_error.clone(),
            make.clone(),
        );
        let base = api.base().to_string();
        workers.push(tokio::spawn(async move {
            let mut conn = None;
            loop {
                let start = next.fetch_add(batch, Ordering::Relaxed);
                if start >= n {
                    break;
                }
                let end = (start + batch).min(n);
                let result = match conn.as_mut() {
                    Some(c) => post(c, batch, start, end, make.as_ref()).await,
                    None => match Conn::connect(&base).await {
                        Ok(c) => post(conn.insert(c), batch, start, end, make.as_ref()).await,
                        Err(e) => Err(e),
                    },
                };
                let ok = match result {
                    Ok(ok) => ok,
                    Err(e) => {
                        // The connection may be broken: open a new one for the next request.
                        conn = None;
                        first_error.lock().await.get_or_insert(format!("{e:#}"));
                        0
                    }
                };
                errors.fetch_add(end - start - ok, Ordering::Relaxed);
                let before = accepted.fetch_add(ok, Ordering::Relaxed);
                if (before + ok) / progress_every > before / progress_every {
                    eprintln!(
                        "  … {} tasks added in {:.1} s",
                        before + ok,
                        t0.elapsed().as_secs_f64()
                    );
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let secs = t0.elapsed().as_secs_f64();
    let first_error = first_error.lock().await.take();
    Added {
        tasks: n,
        accepted: accepted.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        secs,
        first_error,
    }
}

/// Sends tasks `start..end`: one `POST /v1/api/task` when `batch == 1`, else one
/// `POST /v1/api/tasks`. Returns how many the server accepted.
async fn post<F>(
    conn: &mut Conn,
    batch: usize,
    start: usize,
    end: usize,
    make: &F,
) -> anyhow::Result<usize>
where
    F: Fn(usize) -> TaskSpec,
{
    if batch == 1 {
        let (status, body) = conn
            .post("/v1/api/task", &serde_json::to_vec(&make(start))?)
            .await?;
        if status != 200 {
            bail!("add answered {status}: {}", String::from_utf8_lossy(&body));
        }
        let _: AddTaskResponse = serde_json::from_slice(&body)?;
        return Ok(1);
    }
    let specs: Vec<TaskSpec> = (start..end).map(make).collect();
    let (status, body) = conn
        .post("/v1/api/tasks", &serde_json::to_vec(&specs)?)
        .await?;
    if status != 200 {
        bail!(
            "batch add answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let results: Vec<BatchItemResult> = serde_json::from_slice(&body)?;
    if results.len() != specs.len() {
        bail!(
            "batch of {} answered {} results",
            specs.len(),
            results.len()
        );
    }
    Ok(results
        .iter()
        .filter(|r| matches!(r, BatchItemResult::Ok(_)))
        .count())
}

/// A once task named `name` with unique data `"{name}-{i}"` due at `start_time`.
pub fn once_task(name: &str, i: usize, start_time: i64) -> TaskSpec {
    TaskSpec {
        name: Some(name.into()),
        kind: Some(1),
        data: Some(format!("{name}-{i}")),
        start_time: Some(start_time),
        ..TaskSpec::default()
    }
}

/// Makes W1's tasks: due at a (seeded) random second 1 min–1 h from `base_s`.
pub fn w1_task(base_s: i64) -> impl Fn(usize) -> TaskSpec + Send + Sync + 'static {
    move |i| once_task("w1", i, base_s + pick(i as u64, 60, 3600))
}

/// Makes M1/M2's far-future tasks: due 1–31 days from `base_s`.
pub fn far_task(base_s: i64) -> impl Fn(usize) -> TaskSpec + Send + Sync + 'static {
    move |i| once_task("far", i, base_s + 86_400 + pick(i as u64, 0, 30 * 86_400))
}

/// Now in unix seconds.
pub fn now_s() -> i64 {
    now_ms() / 1000
}
