//! Queue statements: subscribing, leasing, ack and nack. What each does to a message is
//! decided by [`DeliveryPolicy`]; this module only stores it. Consumers on several
//! replicas lease with `FOR UPDATE SKIP LOCKED`, so a message goes to one of them.

use std::collections::HashMap;

use taskcenter_core::TagFilter;

use super::Shared;
use super::expiry::FailedDeliveries;
use super::listener::{self, Channel};
use super::pool::Tx;
use super::rows::{fire_id, get, msgid, payload, task_id};
use crate::codec::{ack_takes, leased_state, nack_takes, parse_leases, state};
use crate::error::StoreError;
use crate::model::{Delivery, LeaseRef, LeaseRequest};
use crate::outbox::OUTBOX_GROUP;
use crate::policy::{DeliveryPolicy, LeasePlan};

/// The tags a filter names as stored in `subscriptions` (`*` for all).
fn filter_tags(tags: &TagFilter) -> Vec<&str> {
    match tags {
        TagFilter::All => vec!["*"],
        TagFilter::Only(tags) => tags.iter().map(String::as_str).collect(),
    }
}

const SUBSCRIBED: &str = "SELECT 1 FROM subscriptions WHERE tag = $1 AND grp = $2";

/// Waits for commits in flight (they hold the table in `SHARE` mode) and holds new ones
/// back until this subscription is committed: none can make an unclaimed fire that the
/// claim below would miss.
const SUBSCRIBE: &str =
    "INSERT INTO subscriptions (tag, grp) VALUES ($1, $2) ON CONFLICT DO NOTHING";

const CLAIM_ALL: &str = "UPDATE deliveries SET grp = $1, state = 0 WHERE state = 7";

const CLAIM_TAG: &str = "UPDATE deliveries SET grp = $1, state = 0 WHERE state = 7 AND tag = $2";

/// Records the subscription and hands the group the fires nobody had claimed.
pub(crate) async fn subscribe(s: &Shared, group: &str, tags: &TagFilter) -> Result<(), StoreError> {
    let mut conn = s.pool.get().await?;
    let mut tx = conn.begin().await?;
    let mut claimed = 0;
    for tag in filter_tags(tags) {
        if !tx.query(SUBSCRIBED, &[&tag, &group]).await?.is_empty() {
            continue;
        }
        tx.execute(SUBSCRIBE, &[&tag, &group]).await?;
        claimed += if tag == "*" {
            tx.execute(CLAIM_ALL, &[&group]).await?
        } else {
            tx.execute(CLAIM_TAG, &[&group, &tag]).await?
        };
    }
    if claimed > 0 && s.joined.get().is_some() {
        listener::tell(&mut tx, s, Channel::Queue).await?;
    }
    tx.commit().await
}

/// Last attempts whose lease ran out are dead letters now, dated at their expiry.
const EXPIRE_FINAL: &str = "UPDATE deliveries SET state = 5, done_at = visible_at \
     WHERE grp = $1 AND state = 3 AND visible_at <= $2";

const SELECT_ALL: &str = "SELECT d.id, d.visible_at, d.fire_time, d.attempt, d.tag, t.id, \
     t.data, t.ack, t.max_runtime FROM deliveries d JOIN tasks t ON t.id = d.task_id \
     WHERE d.grp = $1 AND d.state < 3 AND d.visible_at <= $2 \
     ORDER BY d.visible_at, d.id LIMIT $3 FOR UPDATE OF d SKIP LOCKED";

const SELECT_TAG: &str = "SELECT d.id, d.visible_at, d.fire_time, d.attempt, d.tag, t.id, \
     t.data, t.ack, t.max_runtime FROM deliveries d JOIN tasks t ON t.id = d.task_id \
     WHERE d.grp = $1 AND d.tag = $4 AND d.state < 3 AND d.visible_at <= $2 \
     ORDER BY d.visible_at, d.id LIMIT $3 FOR UPDATE OF d SKIP LOCKED";

const MARK_LEASED: &str = "UPDATE deliveries d SET state = u.state, attempt = u.attempt, \
     lease_until = u.lease_until, visible_at = u.visible_at \
     FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], $4::bigint[], $5::bigint[]) \
     AS u(id, state, attempt, lease_until, visible_at) WHERE d.id = u.id";

/// Only when the ladder was shortened since a message's last lease.
const MARK_DEAD: &str =
    "UPDATE deliveries SET state = 5, done_at = $2 WHERE id = ANY($1::bigint[])";

/// A deliverable row picked for a lease.
struct Candidate {
    id: i64,
    visible_at: i64,
    delivery: Delivery,
    ack: bool,
    max_runtime: i64,
}

fn read_candidate(row: &tokio_postgres::Row) -> Result<Candidate, StoreError> {
    let task = task_id(row, 5)?;
    let id: i64 = get(row, 0)?;
    let fire_time: i64 = get(row, 2)?;
    Ok(Candidate {
        id,
        visible_at: get(row, 1)?,
        delivery: Delivery {
            msgid: msgid(id),
            taskid: task,
            tag: get(row, 4)?,
            data: payload(row, 6)?,
            fire_time,
            fire_id: fire_id(task, fire_time),
            attempt: get(row, 3)?,
            lease_until: 0,
        },
        ack: get(row, 7)?,
        max_runtime: get(row, 8)?,
    })
}

/// Leases up to `req.max` visible messages of the group, oldest first.
pub(crate) async fn lease(
    s: &Shared,
    req: &LeaseRequest,
    policy: &DeliveryPolicy,
) -> Result<Vec<Delivery>, StoreError> {
    let max = i64::try_from(req.max).unwrap_or(i64::MAX);
    let mut conn = s.pool.get().await?;
    let mut tx = conn.begin().await?;
    if req.group == OUTBOX_GROUP {
        // Lost in a crash, an outbox lease only has its messages published again.
        tx.redoable().await?;
    }
    tx.execute(EXPIRE_FINAL, &[&req.group, &req.now_ms]).await?;
    let mut candidates = Vec::new();
    match &req.tags {
        TagFilter::All => {
            for row in tx
                .query(SELECT_ALL, &[&req.group, &req.now_ms, &max])
                .await?
            {
                candidates.push(read_candidate(&row)?);
            }
        }
        TagFilter::Only(tags) => {
            for tag in tags {
                let rows = tx
                    .query(SELECT_TAG, &[&req.group, &req.now_ms, &max, tag])
                    .await?;
                for row in rows {
                    candidates.push(read_candidate(&row)?);
                }
            }
            candidates.sort_by_key(|c| (c.visible_at, c.id));
            candidates.truncate(req.max);
        }
    }
    let (mut ids, mut states, mut attempts, mut leases, mut visibles) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut dead = Vec::new();
    let mut out = Vec::with_capacity(candidates.len());
    for c in candidates {
        let plan = policy.plan_lease(c.delivery.attempt, c.ack, c.max_runtime, req.now_ms);
        let LeasePlan::Lease {
            attempt,
            lease_until,
            visible_at,
            last,
        } = plan
        else {
            dead.push(c.id);
            continue;
        };
        let code = leased_state(last);
        ids.push(c.id);
        states.push(code);
        attempts.push(attempt);
        leases.push(lease_until);
        visibles.push(visible_at);
        out.push(Delivery {
            attempt,
            lease_until,
            ..c.delivery
        });
    }
    if !ids.is_empty() {
        tx.execute(MARK_LEASED, &[&ids, &states, &attempts, &leases, &visibles])
            .await?;
    }
    if !dead.is_empty() {
        tx.execute(MARK_DEAD, &[&dead, &req.now_ms]).await?;
    }
    tx.commit().await?;
    Ok(out)
}

/// The group's messages named, locked until the call commits.
const STATES: &str = "SELECT id, state, attempt FROM deliveries \
     WHERE id = ANY($1::bigint[]) AND grp = $2 FOR UPDATE";

const MARK_ACKED: &str = "UPDATE deliveries d SET state = 4, done_at = $3, acked_attempt = u.attempt \
     FROM unnest($1::bigint[], $2::bigint[]) AS u(id, attempt) WHERE d.id = u.id";

/// The state and deliveries so far of each message named, by id.
async fn states(
    tx: &mut Tx<'_>,
    ids: &[i64],
    group: &str,
) -> Result<HashMap<i64, (i16, i64)>, StoreError> {
    let mut found = HashMap::new();
    for row in tx.query(STATES, &[&ids, &group]).await? {
        found.insert(get(&row, 0)?, (get(&row, 1)?, get(&row, 2)?));
    }
    Ok(found)
}

/// Acks messages of the group as [`ack_takes`] says; answers the msgids that are acked
/// now, by this call or an earlier one.
pub(crate) async fn ack(
    s: &Shared,
    group: &str,
    leases: &[LeaseRef],
    now_ms: i64,
) -> Result<Vec<String>, StoreError> {
    let leases = parse_leases(leases);
    let ids: Vec<i64> = leases.iter().map(|(id, _)| *id).collect();
    let mut conn = s.pool.get().await?;
    let mut tx = conn.begin().await?;
    let found = states(&mut tx, &ids, group).await?;
    let (mut acked_ids, mut acked_attempts, mut done) = (Vec::new(), Vec::new(), Vec::new());
    for (id, lease) in leases {
        let Some(&(code, attempt)) = found.get(&id) else {
            continue;
        };
        if ack_takes(code, attempt, lease.attempt) {
            acked_ids.push(id);
            acked_attempts.push(lease.attempt.unwrap_or(attempt));
        } else if code != state::ACKED {
            continue;
        }
        done.push(lease.msgid.clone());
    }
    if !acked_ids.is_empty() {
        tx.execute(MARK_ACKED, &[&acked_ids, &acked_attempts, &now_ms])
            .await?;
    }
    tx.commit().await?;
    Ok(done)
}

/// Moves each delivery's lease on to `$3` (never back) and its retry with it, while it is
/// leased by the attempt named (any when NULL) and has not run out at `$5`; not for an
/// `ack` task, whose lease is its `max_runtime`.
const EXTEND: &str = "UPDATE deliveries d \
     SET visible_at = d.visible_at + GREATEST(0, $3 - d.lease_until), \
         lease_until = GREATEST(d.lease_until, $3) \
     FROM unnest($1::bigint[], $2::bigint[]) AS u(id, attempt), tasks t \
     WHERE d.id = u.id AND d.grp = $4 AND d.state IN (2, 3) \
       AND (u.attempt IS NULL OR d.attempt = u.attempt) AND d.lease_until > $5 \
       AND t.id = d.task_id AND NOT t.ack \
     RETURNING d.id";

/// Leases messages of the group until `until_ms` at least, as
/// [`QueueStore::extend_leases`](crate::QueueStore::extend_leases) says; answers the
/// msgids held until then now.
pub(crate) async fn extend(
    s: &Shared,
    group: &str,
    leases: &[LeaseRef],
    until_ms: i64,
    now_ms: i64,
) -> Result<Vec<String>, StoreError> {
    let leases = parse_leases(leases);
    let ids: Vec<i64> = leases.iter().map(|(id, _)| *id).collect();
    let attempts: Vec<Option<i64>> = leases.iter().map(|(_, l)| l.attempt).collect();
    let mut conn = s.pool.get().await?;
    let rows = conn
        .query(EXTEND, &[&ids, &attempts, &until_ms, &group, &now_ms])
        .await?;
    let mut extended = std::collections::HashSet::new();
    for row in &rows {
        extended.insert(get::<i64>(row, 0)?);
    }
    Ok(leases
        .into_iter()
        .filter(|(id, _)| extended.contains(id))
        .map(|(_, l)| l.msgid.clone())
        .collect())
}

/// Hands messages of the group back, as [`nack_takes`] says: visible again after
/// `delay_ms` or the ladder's delay, or dead when their attempts are spent.
pub(crate) async fn nack(
    s: &Shared,
    group: &str,
    leases: &[LeaseRef],
    delay_ms: Option<i64>,
    now_ms: i64,
    policy: &DeliveryPolicy,
) -> Result<Vec<String>, StoreError> {
    let leases = parse_leases(leases);
    let ids: Vec<i64> = leases.iter().map(|(id, _)| *id).collect();
    let mut conn = s.pool.get().await?;
    let mut tx = conn.begin().await?;
    let found = states(&mut tx, &ids, group).await?;
    let mut plans = FailedDeliveries::default();
    let mut done = Vec::new();
    for (id, lease) in leases {
        let Some(&(code, attempt)) = found.get(&id) else {
            continue;
        };
        if nack_takes(code, attempt, lease.attempt) {
            plans.push(id, policy.plan_nack(attempt, delay_ms, now_ms));
            done.push(lease.msgid.clone());
        }
    }
    plans.store(&mut tx).await?;
    if !plans.retry_ids.is_empty() && s.joined.get().is_some() {
        listener::tell(&mut tx, s, Channel::Queue).await?;
    }
    tx.commit().await?;
    Ok(done)
}

const NEXT_ALL: &str = "SELECT min(visible_at) FROM deliveries WHERE grp = $1 AND state < 3";

const NEXT_TAGS: &str = "SELECT min(x.m) FROM unnest($2::text[]) AS tg(tag), \
     LATERAL (SELECT min(visible_at) AS m FROM deliveries d \
       WHERE d.grp = $1 AND d.tag = tg.tag AND d.state < 3) x";

/// The earliest `visible_at` among the group's deliverable rows of these tags.
pub(crate) async fn next_visible(
    s: &Shared,
    group: &str,
    tags: &TagFilter,
) -> Result<Option<i64>, StoreError> {
    let mut conn = s.pool.get().await?;
    let rows = match tags {
        TagFilter::All => conn.query(NEXT_ALL, &[&group]).await?,
        TagFilter::Only(tags) => conn.query(NEXT_TAGS, &[&group, tags]).await?,
    };
    match rows.first() {
        Some(row) => get(row, 0),
        None => Ok(None),
    }
}
