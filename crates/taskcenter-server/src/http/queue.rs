//! Consume API handlers of the built-in queue, and dead letters.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::{Extension, Json};
use taskcenter_api::{
    AckRequest, AckResponse, ConsumeRequest, ConsumeResponse, CountResponse, DeadLetterIdsRequest,
    DeadLettersResponse, ExtendRequest, NackRequest,
};

use taskcenter_store::LeaseRef;

use super::convert::{dead_letter, message};
use super::extract::{JsonBody, Params};
use super::listener::PeerAddr;

use crate::error::ApiError;
use crate::queue::{MAX_BATCH, MAX_WAIT_MS, Pull};
use crate::service::Service;

type Svc = State<Arc<Service>>;

const DEFAULT_GROUP: &str = "default";

/// Longest lease an extension may ask for: an hour, after which a message believed in
/// hand by a consumer that has gone is retried anyway.
const MAX_EXTEND_MS: i64 = 3_600_000;

/// Longest failure reason a nack may give.
const MAX_REASON_CHARS: usize = 1000;

fn group_of(group: Option<String>) -> Result<String, ApiError> {
    let group = group
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| DEFAULT_GROUP.into());
    if group.starts_with('@') {
        return Err(ApiError::Invalid(
            "group names starting with @ are reserved".into(),
        ));
    }
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

/// The messages an ack or nack names, each with the lease attempt given for it (if any).
fn leases_of(msgids: Vec<String>, attempts: Option<Vec<i64>>) -> Result<Vec<LeaseRef>, ApiError> {
    let msgids = msgids_of(msgids)?;
    let Some(attempts) = attempts else {
        return Ok(msgids.into_iter().map(LeaseRef::from).collect());
    };
    if attempts.iter().any(|a| *a < 1) {
        return Err(ApiError::Invalid("attempts must be 1 or more".into()));
    }
    if attempts.len() != msgids.len() {
        return Err(ApiError::Invalid(
            "attempts must name one attempt per msgid".into(),
        ));
    }
    Ok(msgids
        .into_iter()
        .zip(attempts)
        .map(|(msgid, attempt)| LeaseRef {
            msgid,
            attempt: Some(attempt),
        })
        .collect())
}

/// Who a consume call is from, for the queues view: its `X-Client-Id` header (at most 128
/// characters kept), else its address.
fn client_of(headers: &HeaderMap, peer: Option<Extension<PeerAddr>>) -> String {
    let id = headers
        .get("x-client-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    match (id, peer) {
        (Some(id), _) => id.chars().take(128).collect(),
        (None, Some(Extension(PeerAddr(addr)))) => addr.to_string(),
        (None, None) => "unknown".into(),
    }
}

pub async fn consume(
    State(svc): Svc,
    headers: HeaderMap,
    peer: Option<Extension<PeerAddr>>,
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
        client: client_of(&headers, peer),
    };
    let messages = svc.consume(pull).await?;
    Ok(Json(ConsumeResponse {
        messages: messages.into_iter().map(message).collect(),
    }))
}

pub async fn ack(
    State(svc): Svc,
    JsonBody(req): JsonBody<AckRequest>,
) -> Result<Json<AckResponse>, ApiError> {
    let group = group_of(req.group)?;
    if req.fire_ids.is_empty() {
        let leases = leases_of(req.msgids, req.attempts)?;
        let msgids = svc.ack(&group, leases).await?;
        return Ok(Json(AckResponse {
            msgids,
            fire_ids: Vec::new(),
        }));
    }
    if req.fire_ids.len() > MAX_BATCH as usize {
        return Err(ApiError::Invalid(format!(
            "fire_ids must name at most {MAX_BATCH} fires"
        )));
    }
    let msgids = if req.msgids.is_empty() && req.attempts.is_none() {
        Vec::new()
    } else {
        svc.ack(&group, leases_of(req.msgids, req.attempts)?)
            .await?
    };
    let fire_ids = svc.ack_fires(&group, req.fire_ids).await?;
    Ok(Json(AckResponse { msgids, fire_ids }))
}

pub async fn nack(
    State(svc): Svc,
    JsonBody(req): JsonBody<NackRequest>,
) -> Result<Json<AckResponse>, ApiError> {
    let group = group_of(req.group)?;
    if req.delay_ms.is_some_and(|d| d < 0) {
        return Err(ApiError::Invalid("delay_ms must not be negative".into()));
    }
    if req
        .reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
    {
        return Err(ApiError::Invalid(format!(
            "reason must be at most {MAX_REASON_CHARS} characters"
        )));
    }
    let reason = req.reason.filter(|r| !r.is_empty());
    let msgids = svc
        .nack(
            &group,
            leases_of(req.msgids, req.attempts)?,
            req.delay_ms,
            reason,
        )
        .await?;
    Ok(Json(AckResponse {
        msgids,
        fire_ids: Vec::new(),
    }))
}

pub async fn extend(
    State(svc): Svc,
    JsonBody(req): JsonBody<ExtendRequest>,
) -> Result<Json<AckResponse>, ApiError> {
    let group = group_of(req.group)?;
    if req
        .lease_ms
        .is_some_and(|l| !(1..=MAX_EXTEND_MS).contains(&l))
    {
        return Err(ApiError::Invalid(format!(
            "lease_ms must be from 1 to {MAX_EXTEND_MS}"
        )));
    }
    let msgids = svc
        .extend(&group, leases_of(req.msgids, req.attempts)?, req.lease_ms)
        .await?;
    Ok(Json(AckResponse {
        msgids,
        fire_ids: Vec::new(),
    }))
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
    let dead = svc.dead_letters(group, limit, offset).await?;
    Ok(Json(DeadLettersResponse {
        dead_letters: dead.into_iter().map(dead_letter).collect(),
    }))
}

pub async fn requeue(
    State(svc): Svc,
    JsonBody(req): JsonBody<DeadLetterIdsRequest>,
) -> Result<Json<CountResponse>, ApiError> {
    let msgids = msgids_of(req.msgids.unwrap_or_default())?;
    let moved = svc.requeue_dead(msgids).await?;
    Ok(Json(CountResponse {
        count: moved.len() as u64,
    }))
}

pub async fn purge(
    State(svc): Svc,
    JsonBody(req): JsonBody<DeadLetterIdsRequest>,
) -> Result<Json<CountResponse>, ApiError> {
    let count = svc.purge_dead(req.msgids).await?;
    Ok(Json(CountResponse { count }))
}
