//! One fire as a broker message, and what can go wrong publishing it.

use std::time::Duration;

/// A fire as published: the data is the body, byte for byte; the rest are properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutMessage {
    /// The task's name.
    pub tag: String,
    /// The task's id.
    pub taskid: String,
    /// Scheduled time, unix ms.
    pub fire_time: i64,
    /// The fire's id, what consumers dedup on.
    pub fire_id: String,
    /// 1 on the first publish, +1 for each publish again of an unacked fire.
    pub attempt: i64,
    /// The task's data.
    pub data: String,
}

impl OutMessage {
    /// The properties every broker carries, as `(name, value)`.
    pub fn properties(&self) -> [(&'static str, String); 5] {
        [
            ("tag", self.tag.clone()),
            ("taskid", self.taskid.clone()),
            ("fire_time", self.fire_time.to_string()),
            ("fire_id", self.fire_id.clone()),
            ("attempt", self.attempt.to_string()),
        ]
    }
}

/// Why a message was not confirmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The broker is down, slow or refused for now: try again later (not before
    /// `retry_after` when the broker asked for a pause).
    #[error("broker unavailable: {reason}")]
    Unavailable {
        /// What went wrong.
        reason: String,
        /// The pause the broker asked for.
        retry_after: Option<Duration>,
    },
    /// The broker refused this message for good (a webhook's 410 Gone).
    #[error("broker refused the message for good: {0}")]
    Refused(String),
}

impl PublishError {
    /// A try that failed for now, for `reason`.
    pub fn unavailable(reason: impl std::fmt::Display) -> Self {
        Self::Unavailable {
            reason: reason.to_string(),
            retry_after: None,
        }
    }
}

/// The broker's id of a confirmed message, or why it was not confirmed.
pub type PublishResult = Result<String, PublishError>;
