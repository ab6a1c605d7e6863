//! Task management calls: add, batch add, delete, query, list, pause, resume, trigger,
//! update, preview, history and the per-minute stat.

use taskcenter_api::{
    AddTaskResponse, BatchItemResult, DeleteByNameRequest, DeleteResponse, DeleteTasksRequest,
    HistoryResponse, PreviewRequest, PreviewResponse, StatResponse, TaskIdRequest,
    TaskListResponse, TaskObject, TaskSpec, TriggerResponse, UpdateTaskRequest,
};

use super::ApiClient;
use crate::error::ClientError;

/// Paging of the calls that answer lists; `None` leaves the server's default
/// (limit 100, offset 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Page {
    /// Most items to answer (1–1000).
    pub limit: Option<usize>,
    /// Items to skip.
    pub offset: Option<usize>,
}

impl Page {
    /// The first `limit` items.
    pub fn first(limit: usize) -> Self {
        Self {
            limit: Some(limit),
            offset: None,
        }
    }

    fn push(&self, q: &mut Vec<(&'static str, String)>) {
        if let Some(limit) = self.limit {
            q.push(("limit", limit.to_string()));
        }
        if let Some(offset) = self.offset {
            q.push(("offset", offset.to_string()));
        }
    }
}

/// Filters of [`ApiClient::list`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Only tasks of this name.
    pub name: Option<String>,
    /// Only tasks in this status: `scheduled`, `paused` or `finished`.
    pub status: Option<String>,
    /// What fires next first (scheduled tasks only) instead of the last added first.
    pub next_fire_first: bool,
    /// Which page.
    pub page: Page,
}

impl ApiClient {
    /// Adds a task; answers its id (an existing task's id when the server deduplicated an
    /// identical live `(name, data)`). The task is durable when this returns.
    pub async fn add(&self, spec: &TaskSpec) -> Result<AddTaskResponse, ClientError> {
        self.post_json("task", spec).await
    }

    /// Adds many tasks in one durable commit. The answer has one entry per task, in
    /// order: the id, or the error that task alone was refused with.
    pub async fn add_batch(&self, specs: &[TaskSpec]) -> Result<Vec<BatchItemResult>, ClientError> {
        self.post_json("tasks", specs).await
    }

    /// Deletes tasks by id; answers the ids that existed and are now deleted.
    pub async fn delete(&self, ids: &[impl AsRef<str>]) -> Result<Vec<String>, ClientError> {
        let req = DeleteTasksRequest {
            ids: ids.iter().map(|id| id.as_ref().to_string()).collect(),
        };
        let resp: DeleteResponse = self.post_json("delete-task", &req).await?;
        Ok(resp.suc_ids)
    }

    /// Deletes every task of a name; answers their ids.
    pub async fn delete_by_name(&self, name: &str) -> Result<Vec<String>, ClientError> {
        let req = DeleteByNameRequest { name: name.into() };
        let resp: DeleteResponse = self.post_json("delete-task-by-name", &req).await?;
        Ok(resp.suc_ids)
    }

    /// Reads a task. An unknown or deleted id is a 404 ([`ClientError::is_not_found`]).
    pub async fn get(&self, taskid: &str) -> Result<TaskObject, ClientError> {
        self.get_json("query-task-by-id", &[("taskid", taskid.to_string())])
            .await
    }

    /// The tasks of a name, newest first.
    pub async fn query_by_name(
        &self,
        name: &str,
        page: Page,
    ) -> Result<Vec<TaskObject>, ClientError> {
        let mut q = vec![("name", name.to_string())];
        page.push(&mut q);
        self.get_json("query-task-by-name", &q).await
    }

    /// Lists tasks, newest first, with filters; `next_offset` names the next page.
    pub async fn list(&self, query: &ListQuery) -> Result<TaskListResponse, ClientError> {
        let mut q = Vec::new();
        if let Some(name) = &query.name {
            q.push(("name", name.clone()));
        }
        if let Some(status) = &query.status {
            q.push(("status", status.clone()));
        }
        if query.next_fire_first {
            q.push(("order", "next_fire".to_string()));
        }
        query.page.push(&mut q);
        self.get_json("tasks", &q).await
    }

    /// Stops a task firing until [`resume`](Self::resume); answers the task.
    pub async fn pause(&self, taskid: &str) -> Result<TaskObject, ClientError> {
        self.post_json("pause-task", &task_id(taskid)).await
    }

    /// Resumes a paused task from now on, on its grid; answers the task.
    pub async fn resume(&self, taskid: &str) -> Result<TaskObject, ClientError> {
        self.post_json("resume-task", &task_id(taskid)).await
    }

    /// Fires a task now, outside its schedule (which stays as it is).
    pub async fn trigger(&self, taskid: &str) -> Result<TriggerResponse, ClientError> {
        self.post_json("trigger-task", &task_id(taskid)).await
    }

    /// Changes the fields set in `patch` (the others keep their values); the schedule
    /// restarts from now. Answers the task as it is now.
    pub async fn update(&self, taskid: &str, patch: &TaskSpec) -> Result<TaskObject, ClientError> {
        let req = UpdateTaskRequest {
            taskid: taskid.into(),
            spec: patch.clone(),
        };
        self.post_json("update-task", &req).await
    }

    /// The next fire times (unix ms) a task would have, without creating anything.
    pub async fn preview(&self, req: &PreviewRequest) -> Result<PreviewResponse, ClientError> {
        self.post_json("preview", req).await
    }

    /// A task's fires, newest first: time, publish time, msgid, attempts and state.
    pub async fn history(
        &self,
        taskid: &str,
        limit: Option<usize>,
    ) -> Result<HistoryResponse, ClientError> {
        let mut q = vec![("taskid", taskid.to_string())];
        if let Some(limit) = limit {
            q.push(("limit", limit.to_string()));
        }
        self.get_json("task-history", &q).await
    }

    /// Fires in the current calendar minute (UTC), in total and per task name.
    pub async fn stat(&self) -> Result<StatResponse, ClientError> {
        self.get_json("task/stat", &[]).await
    }
}

fn task_id(taskid: &str) -> TaskIdRequest {
    TaskIdRequest {
        taskid: taskid.into(),
    }
}
