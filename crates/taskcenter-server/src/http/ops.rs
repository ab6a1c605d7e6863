//! Health, readiness and metrics for operators.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::service::Service;

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the store answers.
pub async fn readyz(State(svc): State<Arc<Service>>) -> Result<Json<Value>, ApiError> {
    svc.store
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(json!({"status": "ready"})))
}

/// Prometheus text format.
pub async fn metrics(State(svc): State<Arc<Service>>) -> Result<impl IntoResponse, ApiError> {
    let (scheduled, paused, finished) = svc.store.task_counts().await?;
    let q = svc.store.queue_counts().await?;
    let stat = svc.stat();
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, value: i64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    };
    gauge(
        "taskcenter_tasks_scheduled",
        "Tasks waiting to fire.",
        scheduled,
    );
    gauge("taskcenter_tasks_paused", "Paused tasks.", paused);
    gauge("taskcenter_tasks_finished", "Finished tasks.", finished);
    gauge(
        "taskcenter_queue_ready",
        "Deliveries waiting to be consumed.",
        q.ready,
    );
    gauge(
        "taskcenter_queue_leased",
        "Deliveries leased to consumers.",
        q.leased,
    );
    gauge(
        "taskcenter_dead_letters",
        "Deliveries out of retries.",
        q.dead,
    );
    gauge(
        "taskcenter_queue_unclaimed",
        "Fires no group subscribed to yet.",
        q.unclaimed,
    );
    gauge(
        "taskcenter_timer_held",
        "Tasks held in the in-memory timer.",
        svc.engine.held() as i64,
    );
    gauge(
        "taskcenter_fires_this_minute",
        "Fires in the current minute.",
        stat.total,
    );
    gauge(
        "taskcenter_alerts_total",
        "Alerts raised since start.",
        svc.alerts.raised.load(Ordering::Relaxed) as i64,
    );
    svc.telemetry.render(svc.engine.failed_rounds(), &mut out);
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}
