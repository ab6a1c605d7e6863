//! The built-in queue's consume API bodies.

use serde::{Deserialize, Serialize};

/// `POST /v1/api/consume`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumeRequest {
    /// Consumer group; default `default`.
    #[serde(default)]
    pub group: Option<String>,
    /// `tag1 || tag2`, or `*` (default).
    #[serde(default)]
    pub tags: Option<String>,
    /// Most messages to return (default 100, max 1000).
    #[serde(default)]
    pub max: Option<i64>,
    /// How long to wait for a message (default 10000, max 60000).
    #[serde(default)]
    pub wait_ms: Option<i64>,
}

/// One delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Names this message in its group; stable across redeliveries.
    pub msgid: String,
    /// The task.
    pub taskid: String,
    /// Task name.
    pub tag: String,
    /// Payload, unchanged.
    pub data: String,
    /// Scheduled time, unix ms.
    pub fire_time: i64,
    /// Unique fire id; consumers dedup on it.
    pub fire_id: String,
    /// 1 first, +1 per redelivery.
    pub attempt: i64,
    /// Unix ms until which this consumer holds it.
    pub lease_until: i64,
}

/// Consume answer (possibly empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumeResponse {
    /// Leased messages.
    pub messages: Vec<Message>,
}

/// `POST /v1/api/ack`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckRequest {
    /// Group; default `default`.
    #[serde(default)]
    pub group: Option<String>,
    /// Messages.
    #[serde(default)]
    pub msgids: Vec<String>,
    /// The `attempt` of the lease each message came with, in the order of `msgids`
    /// (optional; must then name one per msgid). Ties the call to that delivery: a late
    /// ack still acks, a nack from a lease that ran out changes nothing. Without it the
    /// call is for each message's current delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<i64>>,
    /// Fires acked end to end (instead of or besides `msgids`): with an external
    /// publisher, the fires consumers of the broker handled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fire_ids: Vec<String>,
}

/// `POST /v1/api/nack`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NackRequest {
    /// Group; default `default`.
    #[serde(default)]
    pub group: Option<String>,
    /// Messages.
    #[serde(default)]
    pub msgids: Vec<String>,
    /// Retry after this long instead of the ladder's delay.
    #[serde(default)]
    pub delay_ms: Option<i64>,
    /// The `attempt` of the lease each message came with, in the order of `msgids`
    /// (optional; must then name one per msgid). Ties the call to that delivery: a late
    /// ack still acks, a nack from a lease that ran out changes nothing. Without it the
    /// call is for each message's current delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<i64>>,
    /// Why the delivery failed, kept with the message for operators (history, dead
    /// letters); at most 1000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /v1/api/extend`: a consumer whose handler still runs holds its messages longer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendRequest {
    /// Group; default `default`.
    #[serde(default)]
    pub group: Option<String>,
    /// Messages.
    #[serde(default)]
    pub msgids: Vec<String>,
    /// The `attempt` of the lease each message came with, in the order of `msgids`
    /// (optional; must then name one per msgid): only that delivery's lease is extended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<i64>>,
    /// Hold them this long from now; default the server's lease.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_ms: Option<i64>,
}

/// Answer to ack, nack and extend: the msgids the call applied to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckResponse {
    /// msgids acked (by this call or an earlier one) or given back.
    pub msgids: Vec<String>,
    /// Fire ids acked (by this call or an earlier one), when the request named fires.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fire_ids: Vec<String>,
}

/// A dead letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterObject {
    /// msgid.
    pub msgid: String,
    /// Group it died in.
    pub group: String,
    /// The task.
    pub taskid: String,
    /// Tag.
    pub tag: String,
    /// Payload.
    pub data: String,
    /// Fire id.
    pub fire_id: String,
    /// Scheduled time, unix ms.
    pub fire_time: i64,
    /// Deliveries made.
    pub attempts: i64,
    /// Unix ms.
    pub died_at: i64,
    /// Why its last failed delivery failed, as that consumer's nack said.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Dead letters answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLettersResponse {
    /// Newest first.
    pub dead_letters: Vec<DeadLetterObject>,
}

/// Requeue or purge dead letters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterIdsRequest {
    /// msgids; for purge, absent means all.
    #[serde(default)]
    pub msgids: Option<Vec<String>>,
}

/// How many dead letters a purge or requeue touched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountResponse {
    /// Number affected.
    pub count: u64,
}
