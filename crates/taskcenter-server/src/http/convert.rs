//! Domain and store records into API bodies.

use taskcenter_api::{DeadLetterObject, FireHistoryEntry, Message, TaskObject};
use taskcenter_core::Task;
use taskcenter_store::{DeadLetter, Delivery, FireRecord};

/// The task object of query answers.
pub fn task_object(t: &Task) -> TaskObject {
    TaskObject {
        id: t.id.to_string(),
        name: t.name.clone(),
        kind: t.kind.code(),
        data: t.data.clone(),
        crontab: t.crontab.clone(),
        loop_time: t.loop_time,
        loop_count: t.loop_count,
        start_time: t.start_time,
        end_time: t.end_time,
        max_runtime: t.max_runtime,
        ack: t.ack,
        created_at: t.created_at_ms.div_euclid(1000),
        status: t.status.as_str().into(),
        next_fire_time: t.next_fire_ms,
        fire_count: t.fire_count,
        timezone: t.timezone.clone(),
        misfire: t.misfire.as_str().into(),
    }
}

/// A consumed message.
pub fn message(d: Delivery) -> Message {
    Message {
        msgid: d.msgid,
        taskid: d.taskid.to_string(),
        tag: d.tag,
        data: d.data,
        fire_time: d.fire_time,
        fire_id: d.fire_id,
        attempt: d.attempt,
        lease_until: d.lease_until,
    }
}

/// A history entry.
pub fn history_entry(r: FireRecord) -> FireHistoryEntry {
    FireHistoryEntry {
        fire_id: r.fire_id,
        fire_time: r.fire_time,
        publish_time: r.published_at,
        msgid: r.msgid,
        group: r.group,
        attempts: r.attempts,
        state: r.state.as_str().into(),
        acked_attempt: r.acked_attempt,
        reason: r.reason,
        broker_id: r.broker_id,
    }
}

/// A dead letter.
pub fn dead_letter(d: DeadLetter) -> DeadLetterObject {
    DeadLetterObject {
        msgid: d.msgid,
        group: d.group,
        taskid: d.taskid.to_string(),
        tag: d.tag,
        data: d.data,
        fire_id: d.fire_id,
        fire_time: d.fire_time,
        attempts: d.attempts,
        died_at: d.died_at,
        reason: d.reason,
    }
}
