//! The HTTP API: routes under both `/v1/api` and `/api/v1`, JSON errors everywhere.

mod auth;
mod convert;
mod dashboard;
mod extract;
mod listener;
mod openapi;
mod ops;
mod origin;
mod queue;
mod tasks;
mod watch;

use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

pub use listener::serve_http;

use crate::error::ApiError;
use crate::service::Service;

// The body decoders on their own, for tests and fuzzing that feed them raw bytes.
pub use extract::{decode, parse};
pub use tasks::batch_specs;

fn api_routes() -> Router<Arc<Service>> {
    Router::new()
        .route("/task", post(tasks::add))
        .route("/tasks", post(tasks::add_batch).get(tasks::list))
        .route("/delete-task", post(tasks::delete))
        .route("/delete-task-by-name", post(tasks::delete_by_name))
        .route("/query-task-by-id", get(tasks::query_by_id))
        .route("/query-task-by-name", get(tasks::query_by_name))
        .route("/task/stat", get(tasks::stat))
        .route("/preview", post(tasks::preview))
        .route("/pause-task", post(tasks::pause))
        .route("/resume-task", post(tasks::resume))
        .route("/trigger-task", post(tasks::trigger))
        .route("/update-task", post(tasks::update))
        .route("/task-history", get(tasks::history))
        .route("/consume", post(queue::consume))
        .route("/ack", post(queue::ack))
        .route("/nack", post(queue::nack))
        .route("/extend", post(queue::extend))
        .route("/dead-letters", get(queue::dead_letters))
        .route("/dead-letters/requeue", post(queue::requeue))
        .route("/dead-letters/purge", post(queue::purge))
        .route("/queues", get(watch::queues))
        .route("/graphs", get(watch::graphs))
}

/// The whole application.
pub fn router(svc: Arc<Service>) -> Router {
    let max_body = svc.config().max_body_bytes;
    let api = api_routes()
        .route_layer(middleware::from_fn_with_state(
            svc.clone(),
            auth::require_token,
        ))
        .route_layer(middleware::from_fn_with_state(svc.clone(), time_request));
    Router::new()
        .nest("/v1/api", api.clone())
        .nest("/api/v1", api)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(openapi::document))
        .route("/", get(dashboard::index))
        .route("/ui/core.js", get(dashboard::core_js))
        .route("/ui/tasks.js", get(dashboard::tasks_js))
        .route("/ui/form.js", get(dashboard::form_js))
        .route("/ui/timeline.js", get(dashboard::timeline_js))
        .route("/ui/queues.js", get(dashboard::queues_js))
        .route("/ui/graphs.js", get(dashboard::graphs_js))
        .route("/ui/app.js", get(dashboard::app_js))
        .route("/ui/style.css", get(dashboard::style_css))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(svc.clone(), origin::guard))
        .layer(Extension(extract::BodyLimit(max_body)))
        .with_state(svc)
}

async fn not_found(req: Request) -> ApiError {
    ApiError::NotFound(format!("no route {} {}", req.method(), req.uri().path()))
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "{} is not allowed on {}",
        req.method(),
        req.uri().path()
    ))
}

/// Records how long each API request took, but for consume long-polls (they wait on
/// purpose).
async fn time_request(State(svc): State<Arc<Service>>, req: Request, next: Next) -> Response {
    let long_poll = req.uri().path().ends_with("/consume");
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    if !long_poll {
        let us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
        svc.telemetry().api_latency.observe_us(us);
    }
    response
}
