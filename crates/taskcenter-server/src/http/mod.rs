//! The HTTP API: routes under both `/v1/api` and `/api/v1`, JSON errors everywhere.

mod convert;
mod dashboard;
mod extract;
mod openapi;
mod ops;
mod queue;
mod tasks;

use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::service::Service;

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
        .route("/dead-letters", get(queue::dead_letters))
        .route("/dead-letters/requeue", post(queue::requeue))
        .route("/dead-letters/purge", post(queue::purge))
}

/// The whole application.
pub fn router(svc: Arc<Service>) -> Router {
    let max_body = svc.config.max_body_bytes;
    let api = api_routes()
        .route_layer(middleware::from_fn_with_state(svc.clone(), require_token))
        .route_layer(middleware::from_fn_with_state(svc.clone(), time_request));
    Router::new()
        .nest("/v1/api", api.clone())
        .nest("/api/v1", api)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(openapi::document))
        .route("/", get(dashboard::index))
        .route("/ui/app.js", get(dashboard::app_js))
        .route("/ui/style.css", get(dashboard::style_css))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
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
        svc.telemetry.api_latency.observe_us(us);
    }
    response
}

/// Checks the bearer token when one is configured.
async fn require_token(
    State(svc): State<Arc<Service>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(token) = &svc.config.auth_token {
        let given = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return Err(ApiError::Unauthorized(
                "missing or wrong bearer token".into(),
            ));
        }
    }
    Ok(next.run(req).await)
}
