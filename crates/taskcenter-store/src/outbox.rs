//! The outbox of an external publisher: the deliveries of one reserved group, committed
//! with their fire as any group's are, leased by the relay like a consumer leases them,
//! and settled from the broker's answer instead of a consumer's ack.

use taskcenter_core::TaskId;

/// The group whose deliveries are the outbox. No consumer can take its name: the API
/// refuses group names starting with `@`.
pub const OUTBOX_GROUP: &str = "@outbox";

/// What the broker made of one leased outbox message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxOutcome {
    /// The broker confirmed it under `broker_id`. The message is done unless its task
    /// is acked end to end and the confirmation is no ack (`acked` false): then the lease
    /// goes on until the fire is acked, or runs out and the message is published again.
    Sent {
        /// The broker's own id of the message.
        broker_id: String,
        /// The confirmation already means the consumer handled it (a webhook's 2xx).
        acked: bool,
    },
    /// Not confirmed (broker down, refusing, timed out): visible again at `at`, and the
    /// failed try does not count against the retries.
    Again {
        /// When to try again.
        at: i64,
    },
    /// Refused for good: a dead letter now.
    Dead,
}

/// The outcome for one message, named by the lease the relay holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxSettle {
    /// The message.
    pub msgid: String,
    /// The attempt of the relay's lease; a message that went on since is left alone.
    pub attempt: i64,
    /// What the broker said.
    pub outcome: OutboxOutcome,
}

/// The task and fire time a fire id names, `None` for text no fire id can be.
pub fn parse_fire_id(fire_id: &str) -> Option<(TaskId, i64)> {
    let (task, time) = fire_id.rsplit_once('-')?;
    Some((task.parse().ok()?, time.parse().ok()?))
}

/// What settling one message writes, decided from the settle alone, so a backend writes
/// it in one statement guarded by the row instead of reading the row first. Every step
/// applies only while the settle's attempt is the message's current one; `Sent` records
/// the broker's id whatever the state (the fire may have been acked end to end already),
/// the rest, and `Sent`'s marking done, only while the message is still leased (state
/// leased or leased-final): a lease that ran out and went on is left alone.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SettleStep<'a> {
    /// Record the broker's id. The message is done (acked by this attempt) too if it
    /// is still leased and `acked`, or its task is not acked end to end.
    Sent { broker_id: &'a str, acked: bool },
    /// Back to waiting, this try not counted: state `code`, `attempt` deliveries so far,
    /// visible at `at`.
    Release { code: i16, attempt: i64, at: i64 },
    /// A dead letter now.
    Dead,
}

/// The step settling one message is. Shared by the backends, which only store it.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn settle_step(settle: &OutboxSettle) -> SettleStep<'_> {
    use crate::codec::state;
    match &settle.outcome {
        OutboxOutcome::Sent { broker_id, acked } => SettleStep::Sent {
            broker_id,
            acked: *acked,
        },
        OutboxOutcome::Again { at } => {
            let back = settle.attempt - 1;
            let code = if back == 0 {
                state::PUBLISHED
            } else {
                state::RETRYING
            };
            SettleStep::Release {
                code,
                attempt: back,
                at: *at,
            }
        }
        OutboxOutcome::Dead => SettleStep::Dead,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fire_ids_parse_back() {
        let task: TaskId = "0123456789abcdef01234567".parse().expect("id");
        let id = crate::codec::fire_id(task, 1_700_000_000_123);
        assert_eq!(parse_fire_id(&id), Some((task, 1_700_000_000_123)));
        assert_eq!(parse_fire_id("nope"), None);
        assert_eq!(parse_fire_id("0123456789abcdef01234567-x"), None);
    }
}
