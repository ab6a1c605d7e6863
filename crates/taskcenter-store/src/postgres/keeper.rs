//! The lease keeper: keeps this replica's shard leases and its fair share of shards.
//!
//! The configured lease time is the promise to the others: a replica that dies has its
//! shards taken over within it. So a lease row runs for three quarters of it (the
//! *term*), a replica counts as live while its heartbeat is younger than a term, and each
//! round comes every quarter: a renewal may be up to half the lease late before a lease
//! lapses, and a survivor sees a term expire within a few ms of it.
//!
//! Each round (every quarter of the lease, sooner when something is about to change) it
//! writes its heartbeat, counts the live replicas, and renews every lease it holds. Holding more than its share it gives the excess back
//! (after dropping it from the placement, so its engine stops planning fires there);
//! holding less it takes free or expired shards, each take raising the shard's epoch.
//! It never takes a live lease: replicas that joined get shards as the others give them
//! back. On shutdown it gives everything back so the others take over at once.
//!
//! All times that matter (expiry, heartbeat age) are the database's clock.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::listener::{Channel, tell_now};
use super::pool::Conn;
use super::rows::{SHARDS, get};
use crate::error::StoreError;
use crate::replicas::Background;

const HEARTBEAT: &str = "INSERT INTO replicas (owner, seen_at) VALUES ($1, clock_timestamp()) \
     ON CONFLICT (owner) DO UPDATE SET seen_at = EXCLUDED.seen_at";

/// Live replicas and how old their heartbeat is, in ms.
const LIVE: &str = "SELECT owner, (extract(epoch FROM clock_timestamp() - seen_at) * 1000)::float8 \
     FROM replicas WHERE seen_at > clock_timestamp() - $1::bigint * interval '1 millisecond' \
     ORDER BY owner";

const FORGET_DEAD: &str =
    "DELETE FROM replicas WHERE seen_at < clock_timestamp() - interval '1 day'";

/// Renews every lease still naming this replica (even an expired one: nobody took it,
/// or the owner would differ, so nobody fired under it meanwhile).
/// Lease rows are always locked in shard order, as fires lock them, so the two never
/// deadlock.
const RENEW: &str = "UPDATE shard_leases \
     SET expires_at = clock_timestamp() + $2::bigint * interval '1 millisecond' \
     WHERE shard IN (SELECT shard FROM shard_leases WHERE owner = $1 \
       ORDER BY shard FOR UPDATE) \
     AND owner = $1 RETURNING shard, epoch";

const GIVE_BACK: &str = "UPDATE shard_leases SET owner = NULL, expires_at = '-infinity' \
     WHERE shard IN (SELECT shard FROM shard_leases WHERE owner = $1 \
       AND shard = ANY($2::int[]) ORDER BY shard FOR UPDATE) \
     AND owner = $1";

const GIVE_ALL_BACK: &str = "UPDATE shard_leases SET owner = NULL, expires_at = '-infinity' \
     WHERE shard IN (SELECT shard FROM shard_leases WHERE owner = $1 \
       ORDER BY shard FOR UPDATE) \
     AND owner = $1";

const LEAVE: &str = "DELETE FROM replicas WHERE owner = $1";

/// Takes up to `$3` free or expired shards, at a new epoch each.
const TAKE: &str = "UPDATE shard_leases l SET owner = $1, epoch = l.epoch + 1, \
     expires_at = clock_timestamp() + $2::bigint * interval '1 millisecond' \
     WHERE l.shard IN (SELECT shard FROM shard_leases \
       WHERE owner IS NULL OR expires_at < clock_timestamp() \
       ORDER BY random() LIMIT $3 FOR UPDATE SKIP LOCKED) \
     RETURNING l.shard, l.epoch";

/// Milliseconds until the first lease of another replica runs out.
const NEXT_EXPIRY: &str = "SELECT (extract(epoch FROM min(expires_at) - clock_timestamp()) \
     * 1000)::float8 FROM shard_leases WHERE owner <> $1 AND expires_at > clock_timestamp()";

/// Pause after a failed round (the database is away): short, to renew as soon as it is
/// back.
const RETRY: Duration = Duration::from_millis(250);

/// Margin after an expiry before looking, so the database's clock has passed it.
const MARGIN: Duration = Duration::from_millis(20);

/// Longest a shutdown waits to give the leases back.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(2);

/// The lease keeper of one replica.
pub(crate) struct LeaseKeeper {
    shared: Arc<Shared>,
    lease: Duration,
    stop: CancellationToken,
}

impl LeaseKeeper {
    pub(crate) fn new(shared: Arc<Shared>, lease: Duration) -> Self {
        Self {
            shared,
            lease: lease.max(Duration::from_millis(300)),
            stop: CancellationToken::new(),
        }
    }

    /// How long one renewal keeps a lease (and one heartbeat a replica live).
    fn term(&self) -> Duration {
        self.lease * 3 / 4
    }

    fn term_ms(&self) -> i64 {
        i64::try_from(self.term().as_millis()).unwrap_or(i64::MAX)
    }

    /// One round; returns how long to wait before the next.
    async fn round(&self) -> Result<Duration, StoreError> {
        let s = &self.shared;
        let every = self.lease / 4;
        let lease_ms = self.term_ms();
        let mut conn = s.pool.get().await?;
        conn.execute(HEARTBEAT, &[&s.me]).await?;
        let mut owners = Vec::new();
        let mut wait = every;
        for row in conn.query(LIVE, &[&lease_ms]).await? {
            let owner: String = get(&row, 0)?;
            let age_ms: f64 = get(&row, 1)?;
            if owner != s.me {
                // Look again just after this heartbeat would go stale.
                wait = wait.min(ms(lease_ms as f64 - age_ms) + MARGIN);
            }
            owners.push(owner);
        }
        let share = fair_share(&owners, &s.me);
        let mut held = pairs(conn.query(RENEW, &[&s.me, &lease_ms]).await?)?;
        held.sort_unstable();
        let mut moved = false;
        if held.len() > share {
            let excess: Vec<i32> = held.split_off(share).into_iter().map(|(s, _)| s).collect();
            // Stop planning fires there first; a commit in flight holds its lease row, so
            // the give-back below waits for it.
            s.placement.set(&held);
            conn.execute(GIVE_BACK, &[&s.me, &excess]).await?;
            tracing::info!(shards = excess.len(), share, "gave shards back");
            moved = true;
        } else if held.len() < share {
            let want = (share - held.len()) as i64;
            let taken = pairs(conn.query(TAKE, &[&s.me, &lease_ms, &want]).await?)?;
            if !taken.is_empty() {
                tracing::info!(shards = taken.len(), share, "took shards");
            }
            held.extend(taken);
            if held.len() < share {
                wait = wait.min(self.until_expiry(&mut conn).await?);
            }
        }
        s.placement.set(&held);
        if moved {
            tell_now(&mut conn, s, Channel::Leases).await?;
        }
        conn.execute(FORGET_DEAD, &[]).await?;
        Ok(wait.max(MARGIN))
    }

    /// How long until another replica's lease may be taken over.
    async fn until_expiry(&self, conn: &mut Conn) -> Result<Duration, StoreError> {
        let rows = conn.query(NEXT_EXPIRY, &[&self.shared.me]).await?;
        let next: Option<f64> = match rows.first() {
            Some(row) => get(row, 0)?,
            None => None,
        };
        Ok(next.map_or(self.lease / 4, |ms_left| ms(ms_left) + MARGIN))
    }

    /// Gives every lease back and leaves the live set.
    async fn leave(&self) -> Result<(), StoreError> {
        let s = &self.shared;
        s.placement.set(&[]);
        let mut conn = s.pool.get().await?;
        conn.execute(GIVE_ALL_BACK, &[&s.me]).await?;
        conn.execute(LEAVE, &[&s.me]).await?;
        tell_now(&mut conn, s, Channel::Leases).await
    }
}

/// `(shard, epoch)` rows.
fn pairs(rows: Vec<tokio_postgres::Row>) -> Result<Vec<(i32, i64)>, StoreError> {
    rows.iter()
        .map(|row| Ok((get(row, 0)?, get(row, 1)?)))
        .collect()
}

fn ms(ms: f64) -> Duration {
    Duration::from_millis(ms.max(0.0) as u64)
}

/// This replica's share of the shards: an even split among the live replicas, the first
/// ones by name taking one more while the division leaves some over.
fn fair_share(live: &[String], me: &str) -> usize {
    let mut owners: Vec<&str> = live.iter().map(String::as_str).collect();
    if !owners.contains(&me) {
        owners.push(me);
        owners.sort_unstable();
    }
    let index = owners.iter().position(|o| *o == me).unwrap_or(0);
    SHARDS / owners.len() + usize::from(index < SHARDS % owners.len())
}

#[async_trait]
impl Background for LeaseKeeper {
    fn name(&self) -> &'static str {
        "lease keeper"
    }

    async fn run(&self) {
        // Announce the newcomer, so the others give back shards now.
        match self.shared.pool.get().await {
            Ok(mut conn) => {
                if let Err(e) = tell_now(&mut conn, &self.shared, Channel::Leases).await {
                    tracing::warn!(error = %e, "announcing this replica failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "announcing this replica failed"),
        }
        loop {
            let wait = match self.round().await {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::warn!(error = %e, "renewing shard leases failed; retrying");
                    RETRY
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.shared.keeper_poke.notified() => {}
                _ = self.stop.cancelled() => break,
            }
        }
        match tokio::time::timeout(LEAVE_TIMEOUT, self.leave()).await {
            Ok(Ok(())) => tracing::info!("shard leases given back"),
            Ok(Err(e)) => tracing::warn!(error = %e, "giving shard leases back failed"),
            Err(_) => tracing::warn!("giving shard leases back timed out"),
        }
    }

    fn shutdown(&self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_every_shard() {
        for n in 1..=7 {
            let live: Vec<String> = (0..n).map(|i| format!("r{i}")).collect();
            let total: usize = live.iter().map(|me| fair_share(&live, me)).sum();
            assert_eq!(total, SHARDS, "{n} replicas");
        }
        assert_eq!(fair_share(&[], "me"), SHARDS);
        let two = ["a".to_string(), "c".to_string()];
        assert_eq!(
            fair_share(&two, "b"),
            43,
            "itself counted when its heartbeat is missing"
        );
    }
}
