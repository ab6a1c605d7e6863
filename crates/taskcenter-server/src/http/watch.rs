//! What the dashboard watches: the queues with their consumers, and the last hour.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use taskcenter_api::{GraphsResponse, QueuesResponse};

use crate::error::ApiError;
use crate::service::Service;

pub async fn queues(State(svc): State<Arc<Service>>) -> Result<Json<QueuesResponse>, ApiError> {
    Ok(Json(svc.queues().await?))
}

pub async fn graphs(State(svc): State<Arc<Service>>) -> Json<GraphsResponse> {
    Json(svc.graphs())
}
