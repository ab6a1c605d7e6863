//! Task management bodies: add, delete, query, stat, preview, history, update.

use std::collections::BTreeMap;

use crate::TaskSpec;
use serde::{Deserialize, Serialize};

/// Answer to an add: the id (an existing one when deduplicated) and the name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddTaskResponse {
    /// 24 hex chars.
    pub taskid: String,
    /// The task name.
    pub name: String,
    /// A live task with the same name and data already existed: `taskid` is its id and
    /// nothing was created. Left out of the body when false, so a new task's answer stays
    /// `{"taskid", "name"}` as callers of the original service expect.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deduplicated: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// One entry of a batch add's answer, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BatchItemResult {
    /// Accepted.
    Ok(AddTaskResponse),
    /// Refused, with the same body a single add would have answered.
    Err(crate::ErrorBody),
}

/// Answer to a batch add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchAddResponse {
    /// One per submitted task, in order.
    pub results: Vec<BatchItemResult>,
}

/// `POST /v1/api/delete-task`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteTasksRequest {
    /// Ids to delete.
    #[serde(default)]
    pub ids: Vec<String>,
}

/// `POST /v1/api/delete-task-by-name`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteByNameRequest {
    /// Name whose tasks to delete.
    #[serde(default)]
    pub name: String,
}

/// The delete answer, `SucIds` as the original service spelled it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteResponse {
    /// Ids that existed and are now deleted.
    #[serde(rename = "SucIds")]
    pub suc_ids: Vec<String>,
}

/// The task object of query answers (seed fields plus extensions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskObject {
    /// Id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Name (the delivery tag).
    pub name: String,
    /// 1 once, 2 loop, 3 crontab.
    #[serde(rename = "type")]
    pub kind: i64,
    /// Payload.
    pub data: String,
    /// Crontab, empty unless type 3.
    pub crontab: String,
    /// Loop period in seconds.
    pub loop_time: i64,
    /// Max fires; 0 unlimited.
    pub loop_count: i64,
    /// Unix seconds; 0 none.
    pub start_time: i64,
    /// Unix seconds; 0 none.
    pub end_time: i64,
    /// Ack deadline in seconds.
    pub max_runtime: i64,
    /// End-to-end ack.
    pub ack: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// `scheduled`, `paused` or `finished`.
    pub status: String,
    /// Unix ms of the next fire, null when none.
    pub next_fire_time: Option<i64>,
    /// Fires made so far.
    pub fire_count: i64,
    /// Zone of the crontab.
    pub timezone: String,
    /// Misfire policy.
    pub misfire: String,
}

/// Answer to a list call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskListResponse {
    /// The page.
    pub tasks: Vec<TaskObject>,
    /// Offset of the next page, null at the end.
    pub next_offset: Option<usize>,
}

/// `GET /v1/api/task/stat`: fires in the current calendar minute (UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatResponse {
    /// `YYYY-MM-DDTHH:MM`.
    pub minute: String,
    /// All fires this minute.
    pub total: i64,
    /// Fires this minute per task name.
    pub names: BTreeMap<String, i64>,
}

/// `POST /v1/api/preview`: an add body plus how many times and from when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRequest {
    /// The task as it would be added.
    #[serde(flatten)]
    pub spec: TaskSpec,
    /// 1–1000.
    #[serde(default)]
    pub count: Option<i64>,
    /// Unix ms; default now.
    #[serde(default)]
    pub from: Option<i64>,
}

/// Preview answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewResponse {
    /// Unix ms, ascending.
    pub fire_times: Vec<i64>,
}

/// Body naming one task (pause, resume, trigger).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskIdRequest {
    /// The task.
    #[serde(default)]
    pub taskid: String,
}

/// `POST /v1/api/update-task`: the task's id and the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateTaskRequest {
    /// The task.
    #[serde(default)]
    pub taskid: String,
    /// New values; absent fields keep theirs.
    #[serde(flatten)]
    pub spec: TaskSpec,
}

/// One fire of a task's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FireHistoryEntry {
    /// Fire id.
    pub fire_id: String,
    /// Scheduled time, unix ms.
    pub fire_time: i64,
    /// Commit time, unix ms.
    pub publish_time: i64,
    /// Message id in its group, if delivered to one.
    pub msgid: Option<String>,
    /// Consumer group.
    pub group: Option<String>,
    /// Deliveries so far.
    pub attempts: i64,
    /// `published`, `leased`, `acked`, `retrying`, `dead`, `cancelled` or `unclaimed`;
    /// with an external publisher `pending`, `published`, `acked` or `dead`.
    pub state: String,
    /// The delivery (attempt) whose consumer acked it, once acked.
    #[serde(default)]
    pub acked_attempt: Option<i64>,
    /// Why its last failed delivery failed, as that consumer's nack said.
    #[serde(default)]
    pub reason: Option<String>,
    /// The external broker's id of the message, once the broker confirmed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker_id: Option<String>,
}

/// History answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryResponse {
    /// Newest first.
    pub fires: Vec<FireHistoryEntry>,
}

/// Answer to `POST /v1/api/trigger-task`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerResponse {
    /// The task.
    pub taskid: String,
    /// The fire just made.
    pub fire_id: String,
}
