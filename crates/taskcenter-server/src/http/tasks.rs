//! Task management handlers: parse, call the service, map the answer.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::Value;
use taskcenter_api::{
    AddTaskResponse, BatchItemResult, DeleteByNameRequest, DeleteResponse, DeleteTasksRequest,
    HistoryResponse, PreviewRequest, PreviewResponse, StatResponse, TaskIdRequest,
    TaskListResponse, TaskObject, TaskSpec, TriggerResponse, UpdateTaskRequest,
};
use taskcenter_core::TaskStatus;
use taskcenter_store::{TaskFilter, TaskOrder};

use super::convert::{history_entry, task_object};
use super::extract::{JsonBody, JsonValue, Params, decode_object};
use crate::error::ApiError;
use crate::service::Service;

type Svc = State<Arc<Service>>;

pub async fn add(
    State(svc): Svc,
    JsonBody(spec): JsonBody<TaskSpec>,
) -> Result<Json<AddTaskResponse>, ApiError> {
    Ok(Json(svc.add(spec).await?))
}

/// Takes `[task, …]` or `{"tasks": [task, …]}`; a malformed item fails alone.
pub async fn add_batch(
    State(svc): Svc,
    JsonValue(body): JsonValue,
) -> Result<Json<Vec<BatchItemResult>>, ApiError> {
    Ok(Json(svc.add_batch(batch_specs(body)?).await?))
}

/// The items of a batch-add body, each decoded on its own so a malformed one fails alone;
/// a body that is not a list of tasks fails whole.
pub fn batch_specs(body: Value) -> Result<Vec<Result<TaskSpec, ApiError>>, ApiError> {
    let items = match body {
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("tasks") {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(ApiError::WrongType(
                    "field `tasks`: expected an array of tasks".into(),
                ));
            }
        },
        _ => return Err(ApiError::WrongType("expected an array of tasks".into())),
    };
    Ok(items.into_iter().map(decode_object::<TaskSpec>).collect())
}

pub async fn delete(
    State(svc): Svc,
    JsonBody(req): JsonBody<DeleteTasksRequest>,
) -> Result<Json<DeleteResponse>, ApiError> {
    Ok(Json(DeleteResponse {
        suc_ids: svc.delete(req.ids).await?,
    }))
}

pub async fn delete_by_name(
    State(svc): Svc,
    JsonBody(req): JsonBody<DeleteByNameRequest>,
) -> Result<Json<DeleteResponse>, ApiError> {
    Ok(Json(DeleteResponse {
        suc_ids: svc.delete_by_name(&req.name).await?,
    }))
}

pub async fn query_by_id(State(svc): Svc, params: Params) -> Result<Json<TaskObject>, ApiError> {
    let task = svc.get(params.required("taskid")?).await?;
    Ok(Json(task_object(&task)))
}

pub async fn query_by_name(
    State(svc): Svc,
    params: Params,
) -> Result<Json<Vec<TaskObject>>, ApiError> {
    let filter = TaskFilter {
        name: Some(params.required("name")?.to_string()),
        search: None,
        status: None,
        limit: params.int("limit", 100, 1, 1000)? as usize,
        offset: params.int("offset", 0, 0, i64::MAX)? as usize,
        order: TaskOrder::Newest,
    };
    let tasks = svc.list(filter).await?;
    Ok(Json(tasks.iter().map(task_object).collect()))
}

pub async fn list(State(svc): Svc, params: Params) -> Result<Json<TaskListResponse>, ApiError> {
    let status = match params.0.get("status").map(String::as_str) {
        None | Some("") => None,
        Some(s) => Some(TaskStatus::parse(s).ok_or_else(|| {
            ApiError::Invalid("status must be scheduled, paused or finished".into())
        })?),
    };
    let order = match params.0.get("order").map(String::as_str) {
        None | Some("") | Some("created") => TaskOrder::Newest,
        Some("next_fire") if matches!(status, None | Some(TaskStatus::Scheduled)) => {
            TaskOrder::NextFire
        }
        Some("next_fire") => {
            return Err(ApiError::Invalid(
                "order=next_fire lists scheduled tasks only".into(),
            ));
        }
        Some(_) => {
            return Err(ApiError::Invalid(
                "order must be created or next_fire".into(),
            ));
        }
    };
    let limit = params.int("limit", 100, 1, 1000)? as usize;
    let offset = params.int("offset", 0, 0, i64::MAX)? as usize;
    let filter = TaskFilter {
        name: params.0.get("name").filter(|n| !n.is_empty()).cloned(),
        search: params.0.get("search").filter(|n| !n.is_empty()).cloned(),
        status,
        limit,
        offset,
        order,
    };
    let tasks = svc.list(filter).await?;
    let next_offset = (tasks.len() == limit).then_some(offset + limit);
    Ok(Json(TaskListResponse {
        tasks: tasks.iter().map(task_object).collect(),
        next_offset,
    }))
}

pub async fn stat(State(svc): Svc) -> Json<StatResponse> {
    Json(svc.stat())
}

pub async fn preview(
    State(svc): Svc,
    JsonBody(req): JsonBody<PreviewRequest>,
) -> Result<Json<PreviewResponse>, ApiError> {
    Ok(Json(PreviewResponse {
        fire_times: svc.preview(req)?,
    }))
}

pub async fn pause(
    State(svc): Svc,
    JsonBody(req): JsonBody<TaskIdRequest>,
) -> Result<Json<TaskObject>, ApiError> {
    Ok(Json(task_object(&svc.pause(&req.taskid).await?)))
}

pub async fn resume(
    State(svc): Svc,
    JsonBody(req): JsonBody<TaskIdRequest>,
) -> Result<Json<TaskObject>, ApiError> {
    Ok(Json(task_object(&svc.resume(&req.taskid).await?)))
}

pub async fn trigger(
    State(svc): Svc,
    JsonBody(req): JsonBody<TaskIdRequest>,
) -> Result<Json<TriggerResponse>, ApiError> {
    let fire_id = svc.trigger(&req.taskid).await?;
    Ok(Json(TriggerResponse {
        taskid: req.taskid,
        fire_id,
    }))
}

pub async fn update(
    State(svc): Svc,
    JsonBody(req): JsonBody<UpdateTaskRequest>,
) -> Result<Json<TaskObject>, ApiError> {
    Ok(Json(task_object(&svc.update(&req.taskid, req.spec).await?)))
}

pub async fn history(State(svc): Svc, params: Params) -> Result<Json<HistoryResponse>, ApiError> {
    let limit = params.int("limit", 100, 1, 1000)? as usize;
    let fires = svc.history(params.required("taskid")?, limit).await?;
    Ok(Json(HistoryResponse {
        fires: fires.into_iter().map(history_entry).collect(),
    }))
}
