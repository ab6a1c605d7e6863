//! A task definition in domain terms, the rules that accept it, and its first fire.
//!
//! The wire format (field names, the integer `type`, absent fields) is the API crate's
//! business; it converts a request into a [`TaskDraft`] once, and everything from there on
//! — validation, defaults, the first fire, previews — happens here on typed values.

mod error;
mod limits;
mod rules;
#[cfg(test)]
mod tests;

pub use error::{SpecError, SpecErrorKind};
pub use limits::Limits;
pub use rules::{MAX_UNIX_SECONDS, validate_name};

use crate::cron::CronExpr;
use crate::id::TaskId;
use crate::schedule::TaskPlan;
use crate::task::{MisfirePolicy, Task, TaskKind, TaskStatus};

/// A task's definition before it is accepted: what a caller asked for, typed but not yet
/// checked. Zero means "none" or "the default" as it does on [`Task`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDraft {
    /// Delivery tag.
    pub name: String,
    /// Schedule kind.
    pub kind: TaskKind,
    /// Payload.
    pub data: String,
    /// Crontab text; only read for [`TaskKind::Cron`].
    pub crontab: String,
    /// Loop period in seconds; only read for [`TaskKind::Loop`].
    pub loop_time_s: i64,
    /// Max fires; 0 = unlimited.
    pub loop_count: i64,
    /// No fire before (unix seconds); 0 = none.
    pub start_time_s: i64,
    /// No fire after (unix seconds); 0 = none.
    pub end_time_s: i64,
    /// Ack deadline in seconds; 0 = the configured default.
    pub max_runtime_s: i64,
    /// Track each fire until acknowledged.
    pub ack: bool,
    /// IANA zone for the crontab; empty = the configured default.
    pub timezone: String,
    /// Misfire handling.
    pub misfire: MisfirePolicy,
}

impl TaskDraft {
    /// A draft with every optional field at its default.
    pub fn new(name: impl Into<String>, kind: TaskKind, data: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind,
            data: data.into(),
            crontab: String::new(),
            loop_time_s: 0,
            loop_count: 0,
            start_time_s: 0,
            end_time_s: 0,
            max_runtime_s: 0,
            ack: false,
            timezone: String::new(),
            misfire: MisfirePolicy::default(),
        }
    }

    /// The definition of a stored task, for an update to change and check again.
    pub fn of(task: &Task) -> Self {
        Self {
            name: task.name.clone(),
            kind: task.kind,
            data: task.data.clone(),
            crontab: task.crontab.clone(),
            loop_time_s: task.loop_time,
            loop_count: task.loop_count,
            start_time_s: task.start_time,
            end_time_s: task.end_time,
            max_runtime_s: task.max_runtime,
            ack: task.ack,
            timezone: task.timezone.clone(),
            misfire: task.misfire,
        }
    }

    /// Validates the draft and builds the task it describes, created at `now_ms`, with its
    /// first fire time.
    pub fn into_task(self, id: TaskId, now_ms: i64, limits: &Limits) -> Result<Task, SpecError> {
        rules::validate_name(&self.name)?;
        if self.data.len() > limits.max_data_bytes {
            return Err(SpecError {
                kind: SpecErrorKind::TooLarge,
                field: Some("data"),
                msg: format!(
                    "data is {} bytes, more than the limit of {}",
                    self.data.len(),
                    limits.max_data_bytes
                ),
            });
        }
        let loop_count = rules::non_negative("loop_count", self.loop_count)?;
        let start_time = rules::unix_seconds("start_time", self.start_time_s)?;
        let end_time = rules::unix_seconds("end_time", self.end_time_s)?;
        let max_runtime = rules::max_runtime(self.max_runtime_s, limits)?;
        let timezone = rules::canonical_zone(&self.timezone, limits)?;
        let (crontab, loop_time) = match self.kind {
            TaskKind::Once => (String::new(), 0),
            TaskKind::Loop => (String::new(), loop_period(self.loop_time_s, limits)?),
            TaskKind::Cron => (cron_text(&self.crontab, &timezone, limits)?, 0),
        };
        if end_time > 0 {
            if end_time.saturating_mul(1000) <= now_ms {
                return Err(SpecError::never_fires(
                    "end_time",
                    "end_time must be in the future",
                ));
            }
            if start_time > 0 && end_time <= start_time {
                return Err(SpecError::invalid(
                    "end_time",
                    "end_time must be after start_time",
                ));
            }
        }
        let mut task = Task {
            id,
            name: self.name,
            kind: self.kind,
            data: self.data,
            crontab,
            loop_time,
            loop_count,
            start_time,
            end_time,
            max_runtime,
            ack: self.ack,
            timezone,
            misfire: self.misfire,
            created_at_ms: now_ms,
            status: TaskStatus::Scheduled,
            next_fire_ms: None,
            fire_count: 0,
            version: 0,
        };
        let plan = TaskPlan::of(&task).map_err(|e| SpecError::invalid("crontab", e.0))?;
        let first = plan.first_fire(now_ms).ok_or_else(|| {
            SpecError::never_fires("end_time", "the schedule never fires before end_time")
        })?;
        task.next_fire_ms = Some(first);
        Ok(task)
    }

    /// Up to `count` fire times strictly after `from_ms` of the task this draft would
    /// create at `now_ms`; `[]` when it never fires again.
    ///
    /// Loops keep their grid: its origin is `start_time` or the creation instant. An
    /// `@every` crontab is read like a calendar one, from `from_ms` on: without a
    /// `start_time` its grid starts at `from_ms`. Other schedules are read from
    /// `from_ms` too, which may lie in the past.
    pub fn preview(
        self,
        now_ms: i64,
        from_ms: i64,
        count: usize,
        limits: &Limits,
    ) -> Result<Vec<i64>, SpecError> {
        let mut task = match self.into_task(TaskId::from_bytes([0; 12]), now_ms, limits) {
            Err(e) if e.kind == SpecErrorKind::NeverFires => return Ok(Vec::new()),
            other => other?,
        };
        let every = task.kind == TaskKind::Cron
            && matches!(
                CronExpr::parse(&task.crontab, &task.timezone),
                Ok(CronExpr::Every(_))
            );
        let created = if every {
            from_ms
        } else {
            now_ms.min(from_ms.saturating_add(1))
        };
        task.created_at_ms = created;
        let plan = TaskPlan::of(&task).map_err(|e| SpecError::invalid("crontab", e.0))?;
        Ok(plan.preview(created, from_ms, count))
    }
}

/// A loop period, in seconds, no shorter than the minimum interval.
fn loop_period(loop_time_s: i64, limits: &Limits) -> Result<i64, SpecError> {
    match loop_time_s {
        0 => Err(SpecError::invalid(
            "loop_time",
            "loop_time is required for type 2 (seconds, > 0)",
        )),
        t if t < 0 => Err(SpecError::invalid("loop_time", "loop_time must be > 0")),
        t => {
            rules::min_interval("loop_time", t.saturating_mul(1000), limits)?;
            Ok(t)
        }
    }
}

/// A crontab that parses in `timezone`, fires no more often than the minimum interval,
/// and names its `CRON_TZ=` zone canonically.
fn cron_text(text: &str, timezone: &str, limits: &Limits) -> Result<String, SpecError> {
    if text.trim().is_empty() {
        return Err(SpecError::invalid(
            "crontab",
            "crontab is required for type 3",
        ));
    }
    let expr = CronExpr::parse(text, timezone).map_err(|e| SpecError::invalid("crontab", e.0))?;
    rules::min_interval("crontab", expr.shortest_gap_ms(), limits)?;
    Ok(CronExpr::canonical_text(text))
}
