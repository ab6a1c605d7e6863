//! Fire statements: a batch of the engine's decisions committed in one transaction, fenced
//! by the shard leases; and a task's fire history.
//!
//! Order of locks in a commit: the subscriptions table (`SHARE`, so a new subscriber's
//! claim cannot miss a fire committed alongside it), then the lease rows (`FOR SHARE`,
//! so no other replica takes a shard over until this commit is done), then the task rows.

use std::collections::{HashMap, HashSet};

use taskcenter_core::TaskId;

use super::Shared;
use super::listener::{self, Channel};
use super::pool::Tx;
use super::rows::{delivery_state, fire_id, get, msgid, shard_of, status_code, task_id};
use crate::error::StoreError;
use crate::model::{FireCommit, FireOutcome, FireRecord, FireRef};

const LOCK_SUBSCRIPTIONS: &str = "LOCK TABLE subscriptions IN SHARE MODE";

/// The leases among `(shard, epoch)` pairs this replica still holds, by the database's
/// clock, locked (in shard order, as the keeper locks them) until the commit so no other
/// replica takes them over meanwhile.
const FENCE: &str = "SELECT l.shard FROM shard_leases l \
     JOIN unnest($1::int[], $2::bigint[]) AS m(shard, epoch) \
     ON m.shard = l.shard AND m.epoch = l.epoch \
     WHERE l.owner = $3 AND l.expires_at > clock_timestamp() \
     ORDER BY l.shard FOR SHARE OF l";

/// Advances the tasks still at their expected version; answers those advanced.
const ADVANCE: &str = "UPDATE tasks t SET next_fire_ms = c.next_fire, \
       fire_count = c.fire_count, status = c.status, version = c.ver + 1 \
     FROM unnest($1::bytea[], $2::bigint[], $3::bigint[], $4::bigint[], $5::smallint[]) \
       AS c(id, ver, next_fire, fire_count, status) \
     WHERE t.id = c.id AND t.version = c.ver AND t.status < 3 \
     RETURNING t.id";

/// Creates the fires not made yet (the primary key skips the others) and one delivery per
/// subscribed group (or one unclaimed) for each; answers the fires made and how many
/// deliveries went to a group (the row with a NULL task). Each step reads the previous
/// one's rows once and finds the rest by key: a join of two statement results would run
/// as a nested loop over both, whose sizes the planner cannot know.
const FIRE: &str = "WITH made AS ( \
       INSERT INTO fires (task_id, fire_time, published_at, replica, epoch) \
       SELECT x.id, x.fire_time, x.now_ms, $5::text, x.epoch \
       FROM unnest($1::bytea[], $2::bigint[], $3::bigint[], $4::bigint[]) \
         AS x(id, fire_time, now_ms, epoch) \
       ORDER BY x.fire_time, x.id \
       ON CONFLICT DO NOTHING \
       RETURNING task_id, fire_time \
     ), sent AS ( \
       INSERT INTO deliveries (task_id, fire_time, grp, tag, state, attempt, visible_at) \
       SELECT made.task_id, made.fire_time, s.grp, t.name, \
         CASE WHEN s.grp IS NULL THEN 7 ELSE 0 END, 0, made.fire_time \
       FROM made JOIN tasks t ON t.id = made.task_id \
       LEFT JOIN LATERAL (SELECT DISTINCT grp FROM subscriptions \
         WHERE tag = t.name OR tag = '*') s ON true \
       ORDER BY made.fire_time, made.task_id, s.grp \
       RETURNING grp \
     ) \
     SELECT task_id, fire_time FROM made \
     UNION ALL SELECT NULL::bytea, count(*) FROM sent WHERE grp IS NOT NULL";

/// Applies each commit atomically, all in one transaction. With `fenced` (the engine's
/// fires, once joined), a commit whose shard this replica no longer holds is stale, and
/// the shards found lost are dropped from the placement.
pub(crate) async fn commit(
    s: &Shared,
    commits: &[FireCommit],
    fenced: bool,
) -> Result<Vec<FireOutcome>, StoreError> {
    let fenced = fenced && s.placement.is_joined();
    let mut conn = s.pool.get().await?;
    let mut tx = conn.begin().await?;
    tx.execute(LOCK_SUBSCRIPTIONS, &[]).await?;
    let mut live = vec![true; commits.len()];
    let leases = match fenced {
        true => Some(fence(&mut tx, s, commits, &mut live).await?),
        false => None,
    };
    let mut out: Vec<Option<FireOutcome>> = vec![None; commits.len()];
    let mut delivered = 0i64;
    // A task twice in one batch: its later commits go in later rounds, as if sequential.
    let mut pending: Vec<usize> = (0..commits.len()).filter(|&i| live[i]).collect();
    while !pending.is_empty() {
        let mut seen = HashSet::new();
        let (round, later): (Vec<usize>, Vec<usize>) = pending
            .into_iter()
            .partition(|&i| seen.insert(commits[i].task_id));
        delivered += run_round(&mut tx, s, leases.as_ref(), commits, &round, &mut out).await?;
        pending = later;
    }
    if delivered > 0 && s.joined.get().is_some() {
        listener::tell(&mut tx, s, Channel::Queue).await?;
    }
    tx.commit().await?;
    Ok(out
        .into_iter()
        .map(|o| o.unwrap_or(FireOutcome::Stale))
        .collect())
}

/// Marks not `live` the commits of shards this replica does not hold (by its placement,
/// then by the database); returns the leases confirmed, shard to epoch.
async fn fence(
    tx: &mut Tx<'_>,
    s: &Shared,
    commits: &[FireCommit],
    live: &mut [bool],
) -> Result<HashMap<usize, i64>, StoreError> {
    let mut asked: HashMap<usize, i64> = HashMap::new();
    for (i, c) in commits.iter().enumerate() {
        let shard = shard_of(c.task_id);
        match s.placement.epoch(shard) {
            Some(epoch) => {
                asked.insert(shard, epoch);
            }
            None => live[i] = false,
        }
    }
    if asked.is_empty() {
        return Ok(asked);
    }
    let shards: Vec<i32> = asked.keys().map(|&shard| shard as i32).collect();
    let epochs: Vec<i64> = asked.values().copied().collect();
    let held: HashSet<usize> = tx
        .query(FENCE, &[&shards, &epochs, &s.me])
        .await?
        .iter()
        .map(|row| get::<i32>(row, 0).map(|shard| shard as usize))
        .collect::<Result<_, _>>()?;
    let lost: Vec<usize> = asked
        .keys()
        .filter(|k| !held.contains(k))
        .copied()
        .collect();
    if !lost.is_empty() {
        tracing::info!(shards = ?lost, "shard leases lost; not firing their tasks");
        s.placement.lose(&lost);
    }
    for (i, c) in commits.iter().enumerate() {
        if !held.contains(&shard_of(c.task_id)) {
            live[i] = false;
        }
    }
    asked.retain(|shard, _| held.contains(shard));
    Ok(asked)
}

/// Commits the commits at `round` (distinct tasks) in two statements, recording the lease
/// each fire was made under (`leases`, when fenced); returns how many deliveries went to
/// a group.
async fn run_round(
    tx: &mut Tx<'_>,
    s: &Shared,
    leases: Option<&HashMap<usize, i64>>,
    commits: &[FireCommit],
    round: &[usize],
    out: &mut [Option<FireOutcome>],
) -> Result<i64, StoreError> {
    let mut ids = Vec::with_capacity(round.len());
    let (mut vers, mut nexts, mut counts, mut statuses) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &i in round {
        let c = &commits[i];
        ids.push(&c.task_id.as_bytes()[..]);
        vers.push(c.expected_version);
        nexts.push(c.next_fire_ms);
        counts.push(c.fire_count);
        statuses.push(status_code(c.status));
    }
    let advanced: HashSet<TaskId> = tx
        .query(ADVANCE, &[&ids, &vers, &nexts, &counts, &statuses])
        .await?
        .iter()
        .map(|row| task_id(row, 0))
        .collect::<Result<_, _>>()?;
    // Fires record who made them under which lease.
    let replica = s.placement.is_joined().then_some(s.me.as_str());
    let (mut fire_ids, mut fire_times, mut nows, mut epochs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &i in round {
        let c = &commits[i];
        if !advanced.contains(&c.task_id) {
            continue;
        }
        let epoch = leases.and_then(|l| l.get(&shard_of(c.task_id)).copied());
        for &at in &c.fire_times {
            fire_ids.push(&c.task_id.as_bytes()[..]);
            fire_times.push(at);
            nows.push(c.now_ms);
            epochs.push(epoch);
        }
    }
    let mut made: HashSet<(TaskId, i64)> = HashSet::new();
    let mut delivered = 0;
    if !fire_ids.is_empty() {
        let rows = tx
            .query(FIRE, &[&fire_ids, &fire_times, &nows, &epochs, &replica])
            .await?;
        for row in &rows {
            match get::<Option<&[u8]>>(row, 0)? {
                Some(_) => {
                    made.insert((task_id(row, 0)?, get(row, 1)?));
                }
                None => delivered = get::<Option<i64>>(row, 1)?.unwrap_or(0),
            }
        }
    }
    for &i in round {
        let c = &commits[i];
        if !advanced.contains(&c.task_id) {
            out[i] = Some(FireOutcome::Stale);
            continue;
        }
        let fires = c
            .fire_times
            .iter()
            .filter(|&&at| made.remove(&(c.task_id, at)))
            .map(|&at| FireRef {
                fire_id: fire_id(c.task_id, at),
                fire_time: at,
            })
            .collect();
        out[i] = Some(FireOutcome::Committed {
            new_version: c.expected_version + 1,
            fires,
        });
    }
    Ok(delivered)
}

const HISTORY: &str = "SELECT f.fire_time, f.published_at, d.id, d.grp, d.attempt, d.state, d.acked_attempt, \
     d.fail_reason, d.broker_id FROM fires f LEFT JOIN deliveries d ON d.task_id = f.task_id AND d.fire_time = f.fire_time \
     WHERE f.task_id = $1 AND EXISTS (SELECT 1 FROM tasks t WHERE t.id = $1 AND t.status < 3) \
     ORDER BY f.fire_time DESC, d.id LIMIT $2";

/// A task's fires, newest first, one record per (fire, group). A fire whose deliveries
/// were all purged from the dead letters shows as dead.
pub(crate) async fn history(
    s: &Shared,
    task: TaskId,
    limit: usize,
) -> Result<Vec<FireRecord>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut conn = s.pool.get().await?;
    let rows = conn
        .query(HISTORY, &[&&task.as_bytes()[..], &limit])
        .await?;
    rows.iter()
        .map(|row| {
            let fire_time: i64 = get(row, 0)?;
            let id: Option<i64> = get(row, 2)?;
            let group: Option<String> = get(row, 3)?;
            let state = match get::<Option<i16>>(row, 5)? {
                Some(code) => delivery_state(code)?,
                None => crate::model::DeliveryState::Dead,
            };
            Ok(FireRecord {
                fire_id: fire_id(task, fire_time),
                fire_time,
                published_at: get(row, 1)?,
                // An unclaimed fire's row is no message of any group yet.
                msgid: id.filter(|_| group.is_some()).map(msgid),
                group,
                attempts: get::<Option<i64>>(row, 4)?.unwrap_or(0),
                state,
                acked_attempt: get::<Option<i64>>(row, 6)?,
                reason: get(row, 7)?,
                broker_id: get::<Option<String>>(row, 8)?,
            })
        })
        .collect()
}
