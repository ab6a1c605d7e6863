//! A task as a caller asks for it, and the rules that turn it into a [`Task`].

use serde::{Deserialize, Serialize};

use crate::cron::CronExpr;
use crate::id::TaskId;
use crate::schedule::TaskPlan;
use crate::task::{MisfirePolicy, Task, TaskKind, TaskStatus};

/// The add-task body of the seed's API (plus extensions). Unknown fields are ignored so
/// old clients keep working; a wrong JSON type is refused by the decoder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// Delivery tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// 1 once, 2 loop, 3 crontab.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<i64>,
    /// Payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Crontab (type 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crontab: Option<String>,
    /// Loop period in seconds (type 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loop_time: Option<i64>,
    /// Max fires; 0 or absent = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loop_count: Option<i64>,
    /// No fire before (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// No fire after (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Ack deadline in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime: Option<i64>,
    /// Track each fire until acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<bool>,
    /// IANA zone for the crontab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// `coalesce` (default), `skip` or `all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misfire: Option<String>,
}

/// Server-wide limits and defaults that validation applies.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted `data`, in bytes.
    pub max_data_bytes: usize,
    /// `max_runtime` when the caller gives none.
    pub default_max_runtime_s: i64,
    /// Zone for crontabs when the caller gives none.
    pub default_timezone: String,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_data_bytes: 256 * 1024,
            default_max_runtime_s: 60,
            default_timezone: "UTC".into(),
        }
    }
}

/// How a spec was wrong: decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecErrorKind {
    /// 400.
    Invalid,
    /// 413.
    TooLarge,
    /// 400: valid on its own, but the schedule has no fire time left.
    NeverFires,
}

/// A refused spec, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{msg}")]
pub struct SpecError {
    /// Status class.
    pub kind: SpecErrorKind,
    /// The field at fault, if one.
    pub field: Option<&'static str>,
    /// What is wrong, for the caller.
    pub msg: String,
}

fn invalid(field: &'static str, msg: impl Into<String>) -> SpecError {
    SpecError {
        kind: SpecErrorKind::Invalid,
        field: Some(field),
        msg: msg.into(),
    }
}

/// Checks a task name: 1–128 chars of letters, digits and `_ - . : /`.
pub fn validate_name(name: &str) -> Result<(), SpecError> {
    let len = name.chars().count();
    if len == 0 || len > 128 {
        return Err(invalid("name", "name must be 1-128 characters"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/')))
    {
        return Err(invalid(
            "name",
            format!("name contains {bad:?}: only letters, digits and _ - . : / are allowed"),
        ));
    }
    Ok(())
}

fn non_negative(field: &'static str, value: Option<i64>) -> Result<i64, SpecError> {
    match value {
        Some(v) if v < 0 => Err(invalid(field, format!("{field} must not be negative"))),
        Some(v) => Ok(v),
        None => Ok(0),
    }
}

impl TaskSpec {
    /// Validates the spec and builds the task it describes, created at `now_ms`.
    pub fn into_task(self, id: TaskId, now_ms: i64, limits: &Limits) -> Result<Task, SpecError> {
        let name = self
            .name
            .ok_or_else(|| invalid("name", "name is required"))?;
        validate_name(&name)?;
        let code = self
            .kind
            .ok_or_else(|| invalid("type", "type is required (1 once, 2 loop, 3 crontab)"))?;
        let kind = TaskKind::from_code(code).ok_or_else(|| {
            invalid(
                "type",
                format!("type {code} is not 1 (once), 2 (loop) or 3 (crontab)"),
            )
        })?;
        let data = self
            .data
            .ok_or_else(|| invalid("data", "data is required"))?;
        if data.len() > limits.max_data_bytes {
            return Err(SpecError {
                kind: SpecErrorKind::TooLarge,
                field: Some("data"),
                msg: format!(
                    "data is {} bytes, more than the limit of {}",
                    data.len(),
                    limits.max_data_bytes
                ),
            });
        }
        let loop_count = non_negative("loop_count", self.loop_count)?;
        let start_time = non_negative("start_time", self.start_time)?;
        let end_time = non_negative("end_time", self.end_time)?;
        let max_runtime = match self.max_runtime {
            Some(v) if v <= 0 => return Err(invalid("max_runtime", "max_runtime must be > 0")),
            Some(v) => v,
            None => limits.default_max_runtime_s,
        };
        let timezone = match self.timezone {
            Some(tz) if !tz.is_empty() => tz,
            _ => limits.default_timezone.clone(),
        };
        let misfire =
            MisfirePolicy::parse(self.misfire.as_deref().unwrap_or("")).ok_or_else(|| {
                invalid(
                    "misfire",
                    "misfire must be \"coalesce\", \"skip\" or \"all\"",
                )
            })?;
        if jiff::tz::TimeZone::get(&timezone).is_err() {
            return Err(invalid(
                "timezone",
                format!("unknown time zone {timezone:?}"),
            ));
        }
        let (crontab, loop_time) = match kind {
            TaskKind::Once => (String::new(), 0),
            TaskKind::Loop => match self.loop_time {
                Some(t) if t > 0 => (String::new(), t),
                Some(_) => return Err(invalid("loop_time", "loop_time must be > 0")),
                None => return Err(invalid("loop_time", "loop_time is required for type 2")),
            },
            TaskKind::Cron => match self.crontab {
                Some(c) if !c.trim().is_empty() => {
                    CronExpr::parse(&c, &timezone).map_err(|e| invalid("crontab", e.0))?;
                    (c, 0)
                }
                _ => return Err(invalid("crontab", "crontab is required for type 3")),
            },
        };
        if end_time > 0 {
            if end_time.saturating_mul(1000) <= now_ms {
                return Err(SpecError {
                    kind: SpecErrorKind::NeverFires,
                    field: Some("end_time"),
                    msg: "end_time must be in the future".into(),
                });
            }
            if start_time > 0 && end_time <= start_time {
                return Err(invalid("end_time", "end_time must be after start_time"));
            }
        }
        let mut task = Task {
            id,
            name,
            kind,
            data,
            crontab,
            loop_time,
            loop_count,
            start_time,
            end_time,
            max_runtime,
            ack: self.ack.unwrap_or(false),
            timezone,
            misfire,
            created_at_ms: now_ms,
            status: TaskStatus::Scheduled,
            next_fire_ms: None,
            fire_count: 0,
            version: 0,
        };
        let plan = TaskPlan::of(&task).map_err(|e| invalid("crontab", e.0))?;
        let first = plan.first_fire(now_ms).ok_or_else(|| SpecError {
            kind: SpecErrorKind::NeverFires,
            field: Some("end_time"),
            msg: "the schedule never fires before end_time".into(),
        })?;
        task.next_fire_ms = Some(first);
        Ok(task)
    }
}

#[cfg(test)]
mod tests;
