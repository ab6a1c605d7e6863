//! Holding messages whose handlers outlast their lease. The built-in queue leases each
//! message it hands out for a while (the server's lease); a handler still running when
//! that runs out would see its message retried, perhaps by another consumer of the group.
//! So while a handler runs, its message's lease is extended by as much again each time
//! two thirds of it have passed. An `ack` task's lease is its `max_runtime` and is not
//! extended: such a message is retried when that runs out, as the task asks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use taskcenter_api::{ExtendRequest, Message};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::api::ApiClient;

/// How often the keeper looks for leases to extend.
const TICK: Duration = Duration::from_millis(100);

/// Shortest lease the keeper plans with: a server answering with less (or a clock
/// running ahead of the server's) is extended as if the lease were this long.
const MIN_LEASE_MS: i64 = 300;

/// Longest extension the server grants at once.
const MAX_LEASE_MS: i64 = 3_600_000;

/// Pause before extending again after the server could not be reached.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// A running handler's message: which delivery, how long its lease is, when to extend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Held {
    attempt: i64,
    lease_ms: i64,
    /// `None` once the server said it cannot be extended.
    extend_at: Option<Instant>,
}

impl Held {
    /// A message just received: its lease is what is left of it now.
    pub fn of(m: &Message) -> Held {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let lease_ms = (m.lease_until - now_ms).clamp(MIN_LEASE_MS, MAX_LEASE_MS);
        Held {
            attempt: m.attempt,
            lease_ms,
            extend_at: Some(Instant::now() + two_thirds(lease_ms)),
        }
    }
}

fn two_thirds(lease_ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(lease_ms * 2 / 3).unwrap_or(0))
}

/// Messages whose handlers run now, by msgid.
pub(crate) type Running = Arc<Mutex<HashMap<String, Held>>>;

fn lock(running: &Running) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
    running.lock().unwrap_or_else(|p| p.into_inner())
}

/// Extends the leases of `running` messages as they come due, until `stop`.
pub(crate) async fn keep(api: ApiClient, group: String, running: Running, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(TICK) => {}
        }
        let now = Instant::now();
        let mut due: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
        for (msgid, held) in lock(&running).iter() {
            if held.extend_at.is_some_and(|at| at <= now) {
                due.entry(held.lease_ms)
                    .or_default()
                    .push((msgid.clone(), held.attempt));
            }
        }
        for (lease_ms, messages) in due {
            extend(&api, &group, &running, lease_ms, messages).await;
        }
    }
}

/// What an extension call came to.
enum Answer {
    /// These msgids are held for the lease asked.
    Held(Vec<String>),
    /// The server could not be reached, or failed: try again soon.
    Unreached,
    /// The server refused the call (it has no extensions): do not ask again.
    Refused,
}

/// One extension call for messages of the same lease length. A call the server could not
/// take is tried again a moment later; one it refused (a server without extensions) is
/// not tried again for these messages.
async fn extend(
    api: &ApiClient,
    group: &str,
    running: &Running,
    lease_ms: i64,
    messages: Vec<(String, i64)>,
) {
    let asked_at = Instant::now();
    let (msgids, attempts): (Vec<String>, Vec<i64>) = messages.into_iter().unzip();
    let req = ExtendRequest {
        group: Some(group.into()),
        msgids: msgids.clone(),
        attempts: Some(attempts),
        lease_ms: Some(lease_ms),
    };
    let answer = match api.extend(&req).await {
        Ok(resp) => Answer::Held(resp.msgids),
        Err(e) if e.is_retryable() => {
            tracing::warn!(error = %e, count = msgids.len(), "extending leases failed; retrying");
            Answer::Unreached
        }
        Err(e) => {
            tracing::warn!(error = %e, count = msgids.len(), "the server refused to extend leases");
            Answer::Refused
        }
    };
    let mut running = lock(running);
    for msgid in msgids {
        // A message whose handler finished meanwhile is gone.
        if let Some(entry) = running.get_mut(&msgid) {
            entry.extend_at = match &answer {
                Answer::Held(held) if held.contains(&msgid) => {
                    Some(asked_at + two_thirds(lease_ms))
                }
                Answer::Held(_) => {
                    tracing::debug!(%msgid, "lease not extended (an ack task's, or it ran out)");
                    None
                }
                Answer::Unreached => Some(Instant::now() + RETRY_PAUSE),
                Answer::Refused => None,
            };
        }
    }
}
