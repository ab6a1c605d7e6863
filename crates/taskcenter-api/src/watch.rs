//! What operators watch: the queues per group and tag, the consumers seen, and the last
//! hour per minute.

use serde::{Deserialize, Serialize};

/// `GET /v1/api/queues`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuesResponse {
    /// Groups by name, each with its tags.
    pub groups: Vec<GroupQueue>,
    /// Consumers that polled in the last minutes, most recent first.
    pub consumers: Vec<ConsumerObject>,
}

/// One consumer group's messages, in total and per tag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupQueue {
    /// Group.
    pub group: String,
    /// Visible now.
    pub ready: i64,
    /// Held by consumers.
    pub leased: i64,
    /// Waiting for their next attempt.
    pub retrying: i64,
    /// Dead letters.
    pub dead: i64,
    /// Per tag.
    pub tags: Vec<TagQueue>,
}

/// One tag's messages in a group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagQueue {
    /// Tag (task name).
    pub tag: String,
    /// Visible now.
    pub ready: i64,
    /// Held by consumers.
    pub leased: i64,
    /// Waiting for their next attempt.
    pub retrying: i64,
    /// Earliest next attempt of the retrying ones, unix ms.
    pub next_retry: Option<i64>,
    /// Dead letters.
    pub dead: i64,
}

/// A consumer seen polling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerObject {
    /// Group it consumes for.
    pub group: String,
    /// Its `X-Client-Id` header, else its address.
    pub client: String,
    /// Its last consume call, unix ms.
    pub last_poll: i64,
    /// Messages it holds under a lease that has not run out.
    pub in_flight: i64,
}

/// `GET /v1/api/graphs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphsResponse {
    /// The last 60 minutes, oldest first, the current one last.
    pub minutes: Vec<MinutePoint>,
}

/// One minute of activity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutePoint {
    /// Start of the minute, unix ms.
    pub minute: i64,
    /// Fires committed.
    pub fires: u64,
    /// Messages acked.
    pub acked: u64,
    /// Messages handed out again after a failed delivery.
    pub retried: u64,
    /// Messages that became dead letters.
    pub dead: u64,
    /// Median lateness of first deliveries (handed out minus fire time), ms.
    pub lateness_p50_ms: Option<i64>,
    /// 99th percentile of that lateness, ms.
    pub lateness_p99_ms: Option<i64>,
}
