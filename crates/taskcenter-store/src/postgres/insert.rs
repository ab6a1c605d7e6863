//! Adding tasks: one multi-row insert per transaction, with dedup against live tasks.

use std::collections::HashMap;

use taskcenter_core::{Task, TaskId, TaskStatus};

use super::Shared;
use super::listener::{self, Channel};
use super::rows::{dedup_hash, get, payload, shard_of, status_code, task_id};
use crate::error::StoreError;
use crate::model::InsertOutcome;

/// Takes the dedup locks of a batch, in ascending order so batches never deadlock.
const LOCK_HASHES: &str = "SELECT pg_advisory_xact_lock(h) FROM unnest($1::bigint[]) AS h";

const FIND_LIVE: &str = "SELECT id, dedup_hash, name, data FROM tasks \
     WHERE dedup_hash = ANY($1::bigint[]) AND status < 2 ORDER BY created_at_ms, id";

const INSERT: &str = "INSERT INTO tasks (id, shard, name, kind, data, crontab, loop_time, \
     loop_count, start_time, end_time, max_runtime, ack, timezone, misfire, created_at_ms, \
     status, next_fire_ms, fire_count, version, dedup_hash) \
     SELECT * FROM unnest($1::bytea[], $2::int[], $3::text[], $4::smallint[], $5::bytea[], \
     $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], \
     $12::bool[], $13::text[], $14::text[], $15::bigint[], $16::smallint[], $17::bigint[], \
     $18::bigint[], $19::bigint[], $20::bigint[])";

/// One array per column, for the multi-row insert.
#[derive(Default)]
struct Columns<'a> {
    id: Vec<&'a [u8]>,
    shard: Vec<i32>,
    name: Vec<&'a str>,
    kind: Vec<i16>,
    data: Vec<&'a [u8]>,
    crontab: Vec<&'a str>,
    loop_time: Vec<i64>,
    loop_count: Vec<i64>,
    start_time: Vec<i64>,
    end_time: Vec<i64>,
    max_runtime: Vec<i64>,
    ack: Vec<bool>,
    timezone: Vec<&'a str>,
    misfire: Vec<&'a str>,
    created_at_ms: Vec<i64>,
    status: Vec<i16>,
    next_fire_ms: Vec<Option<i64>>,
    fire_count: Vec<i64>,
    version: Vec<i64>,
    dedup_hash: Vec<i64>,
}

impl<'a> Columns<'a> {
    fn push(&mut self, t: &'a Task, hash: i64) {
        self.id.push(&t.id.as_bytes()[..]);
        self.shard.push(shard_of(t.id) as i32);
        self.name.push(&t.name);
        self.kind.push(t.kind.code() as i16);
        self.data.push(t.data.as_bytes());
        self.crontab.push(&t.crontab);
        self.loop_time.push(t.loop_time);
        self.loop_count.push(t.loop_count);
        self.start_time.push(t.start_time);
        self.end_time.push(t.end_time);
        self.max_runtime.push(t.max_runtime);
        self.ack.push(t.ack);
        self.timezone.push(&t.timezone);
        self.misfire.push(t.misfire.as_str());
        self.created_at_ms.push(t.created_at_ms);
        self.status.push(status_code(t.status));
        self.next_fire_ms.push(t.next_fire_ms);
        self.fire_count.push(t.fire_count);
        self.version.push(t.version);
        self.dedup_hash.push(hash);
    }
}

/// Live tasks by dedup hash: `(name, data, id)`, oldest first.
type LiveTwins = HashMap<i64, Vec<(String, String, TaskId)>>;

fn twin(live: &LiveTwins, hash: i64, t: &Task) -> Option<TaskId> {
    live.get(&hash)?
        .iter()
        .find(|(name, data, _)| *name == t.name && *data == t.data)
        .map(|(_, _, id)| *id)
}

/// Inserts tasks in order in one transaction; with `dedup`, a live task with the same
/// `(name, data)` (possibly earlier in this batch) is answered instead. Concurrent
/// batches with a common hash queue on its advisory lock, so a twin is created once.
pub(crate) async fn insert(
    s: &Shared,
    tasks: &[Task],
    dedup: bool,
) -> Result<Vec<InsertOutcome>, StoreError> {
    let hashes: Vec<i64> = tasks.iter().map(|t| dedup_hash(&t.name, &t.data)).collect();
    let mut conn = s.pool.get().await?;
    let mut tx = conn.begin().await?;
    let mut live = LiveTwins::new();
    if dedup {
        let mut sorted = hashes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        tx.execute(LOCK_HASHES, &[&sorted]).await?;
        for row in tx.query(FIND_LIVE, &[&sorted]).await? {
            let id = task_id(&row, 0)?;
            live.entry(get(&row, 1)?)
                .or_default()
                .push((get(&row, 2)?, payload(&row, 3)?, id));
        }
    }
    let mut out = Vec::with_capacity(tasks.len());
    let mut columns = Columns::default();
    let mut wake = 0u128;
    for (t, &hash) in tasks.iter().zip(&hashes) {
        if dedup {
            if let Some(id) = twin(&live, hash, t) {
                out.push(InsertOutcome::Existing(id));
                continue;
            }
            if t.status != TaskStatus::Finished {
                let entry = (t.name.clone(), t.data.clone(), t.id);
                live.entry(hash).or_default().push(entry);
            }
        }
        columns.push(t, hash);
        wake |= wake_mask(s, t);
        out.push(InsertOutcome::Created(t.id));
    }
    if !columns.id.is_empty() {
        let c = &columns;
        tx.execute(
            INSERT,
            &[
                &c.id,
                &c.shard,
                &c.name,
                &c.kind,
                &c.data,
                &c.crontab,
                &c.loop_time,
                &c.loop_count,
                &c.start_time,
                &c.end_time,
                &c.max_runtime,
                &c.ack,
                &c.timezone,
                &c.misfire,
                &c.created_at_ms,
                &c.status,
                &c.next_fire_ms,
                &c.fire_count,
                &c.version,
                &c.dedup_hash,
            ],
        )
        .await?;
    }
    if wake != 0 {
        listener::tell(&mut tx, s, Channel::Tasks(wake)).await?;
    }
    tx.commit().await?;
    Ok(out)
}

/// The shard of a new scheduled task as a bit, if another replica holds it and the task
/// is due soon enough after its creation to be inside that replica's loaded window.
fn wake_mask(s: &Shared, t: &Task) -> u128 {
    let Some(config) = s.joined.get() else {
        return 0;
    };
    let shard = shard_of(t.id);
    match (t.status, t.next_fire_ms) {
        (TaskStatus::Scheduled, Some(due))
            if due <= t.created_at_ms.saturating_add(config.window_ms)
                && !s.placement.owns(shard) =>
        {
            1u128 << shard
        }
        _ => 0,
    }
}
