//! Row mapping: task columns and ids; the stored codes come from [`crate::codec`].

use rusqlite::Row;
use taskcenter_core::{MisfirePolicy, Task, TaskId, TaskKind, TaskStatus};

use super::error::bad_value;
use crate::model::DeliveryState;

pub(crate) use crate::codec::status::DELETED as STATUS_DELETED;
pub(crate) use crate::codec::{dedup_hash, fire_id, msgid, parse_msgid, state, status_code};

fn status_from_code(column: usize, code: i16) -> rusqlite::Result<TaskStatus> {
    crate::codec::status_of(code)
        .ok_or_else(|| bad_value(column, format!("task status code {code}")))
}

/// The public state of a stored delivery state.
pub(crate) fn delivery_state(column: usize, code: i16) -> rusqlite::Result<DeliveryState> {
    crate::codec::delivery_state(code)
        .ok_or_else(|| bad_value(column, format!("delivery state code {code}")))
}

/// Reads a task id from a 12-byte blob column.
pub(crate) fn task_id(row: &Row<'_>, column: usize) -> rusqlite::Result<TaskId> {
    let raw: Vec<u8> = row.get(column)?;
    let bytes: [u8; 12] = raw
        .try_into()
        .map_err(|raw: Vec<u8>| bad_value(column, format!("task id of {} bytes", raw.len())))?;
    Ok(TaskId::from_bytes(bytes))
}

/// Task columns in the order [`read_task`] expects, for `tasks t JOIN task_payloads p`.
pub(crate) const TASK_COLUMNS: &str = "t.id, t.name, t.kind, p.data, t.crontab, t.loop_time, \
     t.loop_count, t.start_time, t.end_time, t.max_runtime, t.ack, t.timezone, t.misfire, \
     t.created_at_ms, t.status, t.next_fire_ms, t.fire_count, t.version";

/// Decodes a row selected with [`TASK_COLUMNS`].
pub(crate) fn read_task(row: &Row<'_>) -> rusqlite::Result<Task> {
    let kind: i64 = row.get(2)?;
    let misfire: String = row.get(12)?;
    Ok(Task {
        id: task_id(row, 0)?,
        name: row.get(1)?,
        kind: TaskKind::from_code(kind).ok_or_else(|| bad_value(2, format!("task kind {kind}")))?,
        data: row.get(3)?,
        crontab: row.get(4)?,
        loop_time: row.get(5)?,
        loop_count: row.get(6)?,
        start_time: row.get(7)?,
        end_time: row.get(8)?,
        max_runtime: row.get(9)?,
        ack: row.get(10)?,
        timezone: row.get(11)?,
        misfire: MisfirePolicy::parse(&misfire)
            .ok_or_else(|| bad_value(12, format!("misfire policy {misfire:?}")))?,
        created_at_ms: row.get(13)?,
        status: status_from_code(14, row.get(14)?)?,
        next_fire_ms: row.get(15)?,
        fire_count: row.get(16)?,
        version: row.get(17)?,
    })
}

/// A batch's rows that could not be written as the one JSON text a statement takes
/// through `json_each` (the batch in one execution instead of one per row).
pub(crate) fn json_error(e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}
