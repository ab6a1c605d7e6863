//! Health, readiness and metrics for operators.

use std::fmt::Write;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
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
    svc.ping()
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(json!({"status": "ready"})))
}

/// Prometheus text format; behind the token too when the configuration protects it.
pub async fn metrics(
    State(svc): State<Arc<Service>>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if svc.config().protect_metrics {
        super::auth::check(&svc, &headers)?;
    }
    let g = svc.gauges().await?;
    let (scheduled, paused, finished) = g.tasks;
    let q = g.queue;
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
        g.timer_held as i64,
    );
    gauge(
        "taskcenter_fires_this_minute",
        "Fires in the current minute.",
        g.fires_this_minute,
    );
    let _ = writeln!(
        out,
        "# HELP taskcenter_alerts_total Alerts raised since start.\n\
         # TYPE taskcenter_alerts_total counter\n\
         taskcenter_alerts_total {}",
        g.alerts_raised
    );
    svc.telemetry().render(g.failed_rounds, &mut out);
    if let Some(relay) = svc.relay() {
        relay.render(&mut out).await?;
    }
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}
