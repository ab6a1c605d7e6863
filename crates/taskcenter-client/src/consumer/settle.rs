//! The settler: sends the acks and nacks of finished handlers in batches, retrying with
//! backoff while the server is unreachable.
//!
//! A message stays in the consumer's in-flight set until its ack or nack has reached the
//! server, so a redelivery that races a slow ack is not handled a second time.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::backoff::Backoff;
use super::config::Config;
use crate::api::ApiClient;

/// How a handled message is settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Settle {
    /// The handlers succeeded.
    Ack(String),
    /// A handler failed: retry after the server's ladder delay (`None`) or this many ms.
    Nack(String, Option<i64>),
}

/// Most msgids in one ack or nack call.
const MAX_BATCH: usize = 500;

/// Runs until every sender is gone and the channel is drained.
pub(crate) async fn run(
    api: ApiClient,
    config: Config,
    in_flight: Arc<Mutex<HashSet<String>>>,
    mut rx: mpsc::UnboundedReceiver<Settle>,
) {
    let mut backoff = Backoff::new(config.min_backoff, config.max_backoff);
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(s) => batch.push(s),
                Err(_) => break,
            }
        }
        let mut acks = Vec::new();
        let mut nacks: Vec<(Option<i64>, Vec<String>)> = Vec::new();
        for s in batch {
            match s {
                Settle::Ack(id) => acks.push(id),
                Settle::Nack(id, delay) => match nacks.iter_mut().find(|(d, _)| *d == delay) {
                    Some((_, ids)) => ids.push(id),
                    None => nacks.push((delay, vec![id])),
                },
            }
        }
        if !acks.is_empty() {
            send(&api, &config, &mut backoff, &acks, None).await;
            forget(&in_flight, &acks);
        }
        for (delay, ids) in nacks {
            send(&api, &config, &mut backoff, &ids, Some(delay)).await;
            forget(&in_flight, &ids);
        }
    }
}

/// Acks (`nack` is `None`) or nacks `ids` until the server takes the call or refuses it
/// for good.
async fn send(
    api: &ApiClient,
    config: &Config,
    backoff: &mut Backoff,
    ids: &[String],
    nack: Option<Option<i64>>,
) {
    let verb = if nack.is_some() { "nack" } else { "ack" };
    loop {
        let result = match nack {
            None => api.ack(&config.group, ids.to_vec()).await,
            Some(delay) => api.nack(&config.group, ids.to_vec(), delay).await,
        };
        match result {
            Ok(resp) => {
                backoff.reset();
                if resp.msgids.len() < ids.len() {
                    // The lease ran out and the message went on without us (redelivered,
                    // acked by another consumer, or dead): nothing more to do here.
                    tracing::debug!(
                        verb,
                        sent = ids.len(),
                        applied = resp.msgids.len(),
                        "some messages were no longer leased"
                    );
                }
                return;
            }
            Err(e) if e.is_retryable() => {
                let pause = backoff.next_delay();
                tracing::warn!(verb, error = %e, ?pause, "cannot settle messages; retrying");
                tokio::time::sleep(pause).await;
            }
            Err(e) => {
                tracing::error!(verb, error = %e, msgids = ?ids, "server refused to settle messages");
                return;
            }
        }
    }
}

fn forget(in_flight: &Mutex<HashSet<String>>, ids: &[String]) {
    let mut set = in_flight.lock().unwrap_or_else(|p| p.into_inner());
    for id in ids {
        set.remove(id);
    }
}
