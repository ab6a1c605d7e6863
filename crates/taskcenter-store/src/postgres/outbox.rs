//! Outbox statements: settling the relay's leases from the broker's answers, and finding
//! the messages of fires for end-to-end acks. A settle is a few statements for the whole
//! batch, each guarded by the lease it names; rows are locked in id order while settled,
//! so a replica settling a lease and another leasing the same message after it ran out
//! take turns, and two settles cannot lock each other out.

use std::collections::HashSet;

use tokio_postgres::types::ToSql;

use super::Shared;
use super::rows::{get, msgid};
use crate::codec::parse_msgid;
use crate::error::StoreError;
use crate::outbox::{OutboxSettle, SettleStep, parse_fire_id, settle_step};

/// Confirmed messages still leased by the settle's attempt, done unless their task waits
/// for an end-to-end ack the confirmation is not; answers those it marked done.
const SENT_DONE: &str = "UPDATE deliveries d SET broker_id = u.broker_id, state = 4, \
     done_at = $5, acked_attempt = d.attempt \
     FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::boolean[]) \
     AS u(id, attempt, broker_id, acked), tasks t \
     WHERE d.id = u.id AND d.grp = $6 AND d.attempt = u.attempt AND d.state IN (2, 3) \
     AND t.id = d.task_id AND (u.acked OR NOT t.ack) RETURNING d.id";

/// Confirmed messages that stay as they are: only the broker's id is recorded.
const SENT: &str = "UPDATE deliveries d SET broker_id = u.broker_id \
     FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS u(id, attempt, broker_id) \
     WHERE d.id = u.id AND d.grp = $4 AND d.attempt = u.attempt";

const RELEASE: &str = "UPDATE deliveries d SET state = u.state, attempt = u.back, \
     visible_at = u.at, lease_until = NULL \
     FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::bigint[], $5::bigint[]) \
     AS u(id, attempt, state, back, at) \
     WHERE d.id = u.id AND d.grp = $6 AND d.attempt = u.attempt AND d.state IN (2, 3)";

const DEAD: &str = "UPDATE deliveries d SET state = 5, done_at = $3 \
     FROM unnest($1::bigint[], $2::bigint[]) AS u(id, attempt) \
     WHERE d.id = u.id AND d.grp = $4 AND d.attempt = u.attempt AND d.state IN (2, 3)";

const FIRE_MESSAGE: &str = "SELECT id FROM deliveries \
     WHERE task_id = $1 AND fire_time = $2 AND grp = $3 LIMIT 1";

/// Confirmed messages, as the statements' array parameters.
#[derive(Default)]
struct SentRows<'a> {
    ids: Vec<i64>,
    attempts: Vec<i64>,
    brokers: Vec<&'a str>,
    acked: Vec<bool>,
}

impl<'a> SentRows<'a> {
    fn push(&mut self, id: i64, attempt: i64, broker: &'a str, acked: bool) {
        self.ids.push(id);
        self.attempts.push(attempt);
        self.brokers.push(broker);
        self.acked.push(acked);
    }
}

/// Messages handed back, as the statement's array parameters.
#[derive(Default)]
struct ReleaseRows {
    ids: Vec<i64>,
    attempts: Vec<i64>,
    codes: Vec<i16>,
    backs: Vec<i64>,
    ats: Vec<i64>,
}

/// The settles of one batch by kind of answer, in id order: the order the statements
/// lock rows in.
#[derive(Default)]
struct Columns<'a> {
    sent: SentRows<'a>,
    release: ReleaseRows,
    dead: (Vec<i64>, Vec<i64>),
}

impl<'a> Columns<'a> {
    fn of(settles: &'a [OutboxSettle]) -> Self {
        let mut named: Vec<(i64, &OutboxSettle)> = settles
            .iter()
            .filter_map(|s| Some((parse_msgid(&s.msgid)?, s)))
            .collect();
        named.sort_by_key(|(id, _)| *id);
        let mut c = Self::default();
        for (id, settle) in named {
            let attempt = settle.attempt;
            match settle_step(settle) {
                SettleStep::Sent { broker_id, acked } => c.sent.push(id, attempt, broker_id, acked),
                SettleStep::Release {
                    code,
                    attempt: back,
                    at,
                } => {
                    let r = &mut c.release;
                    r.ids.push(id);
                    r.attempts.push(attempt);
                    r.codes.push(code);
                    r.backs.push(back);
                    r.ats.push(at);
                }
                SettleStep::Dead => {
                    c.dead.0.push(id);
                    c.dead.1.push(attempt);
                }
            }
        }
        c
    }
}

/// Applies each settle that still names the message's current lease, in one transaction
/// of one statement per kind of answer (two for confirmed messages that stay leased).
pub(crate) async fn settle(
    s: &Shared,
    group: &str,
    settles: &[OutboxSettle],
    now_ms: i64,
) -> Result<(), StoreError> {
    let c = Columns::of(settles);
    let mut conn = s.pool.get().await?;
    let mut tx = conn.begin().await?;
    // Lost in a crash, a settle only has its messages published again.
    tx.redoable().await?;
    let sent = &c.sent;
    if !sent.ids.is_empty() {
        let params: [&(dyn ToSql + Sync); 6] = [
            &sent.ids,
            &sent.attempts,
            &sent.brokers,
            &sent.acked,
            &now_ms,
            &group,
        ];
        let done: HashSet<i64> = tx
            .query(SENT_DONE, &params)
            .await?
            .iter()
            .map(|row| get(row, 0))
            .collect::<Result<_, _>>()?;
        let mut left = SentRows::default();
        for (i, id) in sent.ids.iter().enumerate() {
            if !done.contains(id) {
                left.push(*id, sent.attempts[i], sent.brokers[i], sent.acked[i]);
            }
        }
        if !left.ids.is_empty() {
            tx.execute(SENT, &[&left.ids, &left.attempts, &left.brokers, &group])
                .await?;
        }
    }
    let r = &c.release;
    if !r.ids.is_empty() {
        tx.execute(
            RELEASE,
            &[&r.ids, &r.attempts, &r.codes, &r.backs, &r.ats, &group],
        )
        .await?;
    }
    let (ids, attempts) = &c.dead;
    if !ids.is_empty() {
        tx.execute(DEAD, &[ids, attempts, &now_ms, &group]).await?;
    }
    tx.commit().await
}

/// `(fire_id, msgid)` of the group's message of each fire named.
pub(crate) async fn fire_msgids(
    s: &Shared,
    group: &str,
    fire_ids: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    let mut conn = s.pool.get().await?;
    let mut out = Vec::new();
    for fire in fire_ids {
        let Some((task, fire_time)) = parse_fire_id(fire) else {
            continue;
        };
        let rows = conn
            .query(FIRE_MESSAGE, &[&&task.as_bytes()[..], &fire_time, &group])
            .await?;
        if let Some(row) = rows.first() {
            out.push((fire.clone(), msgid(get(row, 0)?)));
        }
    }
    Ok(out)
}
