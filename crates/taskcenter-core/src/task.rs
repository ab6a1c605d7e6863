//! A stored task: its definition as accepted, plus the state the engine advances.

use crate::id::TaskId;

/// The schedule kind, numbered as the API's `type` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// `1`: fires once, now or at `start_time`.
    Once,
    /// `2`: fires every `loop_time` seconds on a fixed grid.
    Loop,
    /// `3`: fires on a crontab.
    Cron,
}

impl TaskKind {
    /// The wire number.
    pub fn code(self) -> i64 {
        match self {
            Self::Once => 1,
            Self::Loop => 2,
            Self::Cron => 3,
        }
    }

    /// The kind for a wire number.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(Self::Once),
            2 => Some(Self::Loop),
            3 => Some(Self::Cron),
            _ => None,
        }
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// Will fire at `next_fire_ms`.
    Scheduled,
    /// Kept but not firing until resumed.
    Paused,
    /// Will never fire again (count reached, end passed, once task fired).
    Finished,
}

impl TaskStatus {
    /// The name used on the wire and in stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Paused => "paused",
            Self::Finished => "finished",
        }
    }

    /// Parses [`TaskStatus::as_str`] output.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "scheduled" => Some(Self::Scheduled),
            "paused" => Some(Self::Paused),
            "finished" => Some(Self::Finished),
            _ => None,
        }
    }
}

/// What to do with loop and cron fires that came due while the service could not fire them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MisfirePolicy {
    /// One fire for the whole missed span, carrying the latest missed time (the default).
    #[default]
    Coalesce,
    /// Drop fires more than the grace period late.
    Skip,
    /// Fire every missed time, up to a cap.
    All,
}

impl MisfirePolicy {
    /// The name used on the wire and in stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Coalesce => "coalesce",
            Self::Skip => "skip",
            Self::All => "all",
        }
    }

    /// Parses a policy name; `once` is accepted for the default.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "coalesce" | "once" | "" => Some(Self::Coalesce),
            "skip" => Some(Self::Skip),
            "all" => Some(Self::All),
            _ => None,
        }
    }
}

/// A task as stored. Times are unix milliseconds unless the name says seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Time-ordered id.
    pub id: TaskId,
    /// The delivery tag consumers subscribe to.
    pub name: String,
    /// Schedule kind.
    pub kind: TaskKind,
    /// Payload, delivered unchanged.
    pub data: String,
    /// Crontab text (type 3), empty otherwise.
    pub crontab: String,
    /// Loop period in seconds (type 2), 0 otherwise.
    pub loop_time: i64,
    /// Max number of fires; 0 = unlimited.
    pub loop_count: i64,
    /// No fire before this (unix seconds); 0 = none.
    pub start_time: i64,
    /// No fire after this (unix seconds); 0 = none.
    pub end_time: i64,
    /// Ack deadline in seconds for `ack` tasks.
    pub max_runtime: i64,
    /// Whether each fire must be acknowledged end to end.
    pub ack: bool,
    /// IANA zone for the crontab.
    pub timezone: String,
    /// Misfire handling.
    pub misfire: MisfirePolicy,
    /// Creation instant (ms); also the loop grid origin when `start_time` is 0.
    pub created_at_ms: i64,
    /// Current status.
    pub status: TaskStatus,
    /// Next due instant while scheduled.
    pub next_fire_ms: Option<i64>,
    /// Fires made so far.
    pub fire_count: i64,
    /// Bumped on every change; the engine commits a fire only against the version it saw.
    pub version: i64,
}

impl Task {
    /// Whether the task still counts for `(name, data)` dedup.
    pub fn is_live(&self) -> bool {
        self.status != TaskStatus::Finished
    }
}
