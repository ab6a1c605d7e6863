//! The consumer's loop: pull as many messages as there are free handler slots, run the
//! matching handlers, settle each message; on shutdown stop pulling and drain.
//!
//! Shutdown order: stop pulling (an open long-poll is dropped; the server drops it too),
//! wait for running handlers up to the deadline, abort the rest and nack their messages
//! with no delay so another consumer takes them at once, then flush the settler.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use taskcenter_api::{ConsumeRequest, Message};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::config::Config;
use super::handlers::{Outcome, run_handlers};
use super::keep_alive::{self, Held, Running};
use super::routes::{Route, union};
use super::settle::{self, Settle};
use super::slots::free_slots;
use crate::api::ApiClient;

/// Everything the loop and its handler tasks share.
pub(crate) struct Runner {
    pub api: ApiClient,
    pub config: Config,
    pub routes: Vec<Route>,
    /// Messages handled or awaiting their ack/nack: a redelivery of one is not run again.
    pub in_flight: Arc<Mutex<HashSet<String>>>,
    /// Messages whose handlers are running now, their leases kept.
    pub running: Running,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Runner {
    /// Pulls and handles until `stop` is cancelled, then shuts down as described above.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut settler = tokio::spawn(settle::run(
            self.api.clone(),
            self.config.clone(),
            self.in_flight.clone(),
            rx,
        ));
        // Leases are kept while handlers run, through the drain too.
        let keeper_stop = CancellationToken::new();
        let keeper = tokio::spawn(keep_alive::keep(
            self.api.clone(),
            self.config.group.clone(),
            self.running.clone(),
            keeper_stop.clone(),
        ));
        let slots = Arc::new(Semaphore::new(self.config.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let mut backoff = Backoff::new(self.config.min_backoff, self.config.max_backoff);
        let tags = union(&self.routes);
        tracing::info!(group = %self.config.group, %tags, server = %self.api.base_url(), "consumer started");
        loop {
            while tasks.try_join_next().is_some() {}
            let Some(mut permits) = free_slots(&slots, &stop).await else {
                break;
            };
            let req = ConsumeRequest {
                group: Some(self.config.group.clone()),
                tags: Some(tags.clone()),
                max: Some(permits.len().min(1000) as i64),
                wait_ms: Some(self.config.poll_wait.as_millis().min(60_000) as i64),
            };
            let result = tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                r = self.api.consume(&req) => r,
            };
            match result {
                Ok(resp) => {
                    backoff.reset();
                    for m in resp.messages {
                        self.dispatch(m, &mut permits, &mut tasks, &tx);
                    }
                }
                Err(e) => {
                    let pause = backoff.next_delay();
                    if e.is_retryable() {
                        tracing::warn!(error = %e, ?pause, "consume failed; retrying");
                    } else {
                        tracing::error!(error = %e, ?pause, "server refused consume; retrying");
                    }
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
        self.drain(tasks, tx, &mut settler).await;
        keeper_stop.cancel();
        let _ = keeper.await;
    }

    /// Starts the handlers of one message, unless it is already being handled.
    fn dispatch(
        self: &Arc<Self>,
        m: Message,
        permits: &mut Vec<OwnedSemaphorePermit>,
        tasks: &mut JoinSet<()>,
        tx: &mpsc::UnboundedSender<Settle>,
    ) {
        if !lock(&self.in_flight).insert(m.msgid.clone()) {
            // Its lease ran out while we still work on it; our ack will cover it.
            tracing::debug!(msgid = %m.msgid, "redelivery of a message in hand; skipped");
            return;
        }
        lock(&self.running).insert(m.msgid.clone(), Held::of(&m));
        let permit = permits.pop();
        let (runner, tx) = (self.clone(), tx.clone());
        tasks.spawn(async move {
            let settle = runner.handle(&m).await;
            lock(&runner.running).remove(&m.msgid);
            drop(permit);
            let _ = tx.send(settle);
        });
    }

    /// Runs every handler matching the message's tag; acks if all succeed.
    async fn handle(&self, m: &Message) -> Settle {
        match run_handlers(&self.routes, m).await {
            Outcome::Failed(_) => Settle::Nack(m.msgid.clone(), None),
            Outcome::Done | Outcome::Unmatched => Settle::Ack(m.msgid.clone()),
        }
    }

    async fn drain(
        &self,
        mut tasks: JoinSet<()>,
        tx: mpsc::UnboundedSender<Settle>,
        settler: &mut JoinHandle<()>,
    ) {
        let deadline = Instant::now() + self.config.shutdown_timeout;
        let finished = tokio::time::timeout_at(deadline, async {
            while tasks.join_next().await.is_some() {}
        })
        .await
        .is_ok();
        if !finished {
            tasks.shutdown().await;
            let abandoned: Vec<String> = lock(&self.running).drain().map(|(m, _)| m).collect();
            tracing::warn!(
                count = abandoned.len(),
                "handlers still running at the shutdown deadline were stopped; their messages go back to the queue"
            );
            for msgid in abandoned {
                let _ = tx.send(Settle::Nack(msgid, Some(0)));
            }
        }
        drop(tx);
        // Settling gets what is left of the deadline, and a few seconds at least.
        let flush = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(3));
        if tokio::time::timeout(flush, &mut *settler).await.is_err() {
            settler.abort();
            let left = lock(&self.in_flight).len();
            tracing::warn!(
                unsettled = left,
                "server unreachable at shutdown; unsettled messages will be redelivered"
            );
        }
        tracing::info!(group = %self.config.group, "consumer stopped");
    }
}
