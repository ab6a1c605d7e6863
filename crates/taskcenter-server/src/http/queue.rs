//! Consume API handlers of the built-in queue, and dead letters.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use taskcenter_api::{
    AckRequest, AckResponse, ConsumeRequest, ConsumeResponse, CountResponse, DeadLetterIdsRequest,
    DeadLettersResponse, NackRequest,
};

use super::convert::{dead_letter, message};
use super::extract::{JsonBody, Params};
use crate::error::ApiError;
use crate::queue::{MAX_BATCH, MAX_WAIT_MS, Pull};
use crate::service::Service;

type Svc = State<Arc<Service>>;

const DEFAULT_GROUP: &str = "default";

fn group_of(group: Option<String>) -> Result<String, ApiError> {
    let group = group
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| DEFAULT_GROUP.into());
    if group.len() > 128 {
        return Err(ApiError::Invalid(
            "group must be at most 128 characters".into(),
        ));
    }
    Ok(group)
}

fn msgids_of(msgids: Vec<String>) -> Result<Vec<String>, ApiError> {
    if msgids.is_empty() {
        return Err(ApiError::Invalid("msgids must be a non-empty array".into()));
    }
    Ok(msgids)
}

pub async fn consume(
    State(svc): Svc,
    JsonBody(req): JsonBody<ConsumeRequest>,
) -> Result<Json<ConsumeResponse>, ApiError> {
    let max = req.max.unwrap_or(100);
    if !(1..=MAX_BATCH).contains(&max) {
        return Err(ApiError::Invalid(format!(
            "max must be from 1 to {MAX_BATCH}"
        )));
    }
    let wait_ms = req.wait_ms.unwrap_or(10_000);
    if !(0..=MAX_WAIT_MS).contains(&wait_ms) {
        return Err(ApiError::Invalid(format!(
            "wait_ms must be from 0 to {MAX_WAIT_MS}"
        )));
    }
    let pull = Pull {
        group: group_of(req.group)?,
        tags: req.tags.unwrap_or_else(|| "*".into()),
        max: max as usize,
        wait_ms,
    };
    let messages = svc.queue.consume(pull).await?;
    Ok(Json(ConsumeResponse {
        messages: messages.into_iter().map(message).collect(),
    }))
}

pub async fn ack(
    State(svc): Svc,
    JsonBody(req): JsonBody<AckRequest>,
) -> Result<Json<AckResponse>, ApiError> {
    let group = group_of(req.group)?;
    let msgids = svc.queue.ack(&group, msgids_of(req.msgids)?).await?;
    Ok(Json(AckResponse { msgids }))
}

pub async fn nack(
    State(svc): Svc,
    JsonBody(req): JsonBody<NackRequest>,
) -> Result<Json<AckResponse>, ApiError> {
    let group = group_of(req.group)?;
    if req.delay_ms.is_some_and(|d| d < 0) {
        return Err(ApiError::Invalid("delay_ms must not be negative".into()));
    }
    let msgids = svc
        .queue
        .nack(&group, msgids_of(req.msgids)?, req.delay_ms)
        .await?;
    Ok(Json(AckResponse { msgids }))
}

pub async fn dead_letters(
    State(svc): Svc,
    params: Params,
) -> Result<Json<DeadLettersResponse>, ApiError> {
    let limit = params.int("limit", 100, 1, 1000)? as usize;
    let offset = params.int("offset", 0, 0, i64::MAX)? as usize;
    let group = params
        .0
        .get("group")
        .filter(|g| !g.is_empty())
        .map(String::as_str);
    let dead = svc.store.dead_letters(group, limit, offset).await?;
    Ok(Json(DeadLettersResponse {
        dead_letters: dead.into_iter().map(dead_letter).collect(),
    }))
}

pub async fn requeue(
    State(svc): Svc,
    JsonBody(req): JsonBody<DeadLetterIdsRequest>,
) -> Result<Json<CountResponse>, ApiError> {
    let msgids = msgids_of(req.msgids.unwrap_or_default())?;
    let moved = svc.store.requeue_dead(msgids, svc.clock.now_ms()).await?;
    svc.queue.notify();
    Ok(Json(CountResponse {
        count: moved.len() as u64,
    }))
}

pub async fn purge(
    State(svc): Svc,
    JsonBody(req): JsonBody<DeadLetterIdsRequest>,
) -> Result<Json<CountResponse>, ApiError> {
    let count = svc.store.purge_dead(req.msgids).await?;
    Ok(Json(CountResponse { count }))
}
