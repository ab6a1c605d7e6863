//! The loop every broker transport shares: connect (again, with backoff, whenever the
//! broker fails), fetch as many messages as there are free handler slots, run the matching
//! handlers, and settle each message by what they came to:
//!
//! - success, or no handler for the tag (the broker could not filter it): ack — after
//!   acking the fire to the server when [`Config::ack_fires`] is on;
//! - failure (an error or a panic) on delivery `n` of a ladder of `k` delays: retry after
//!   `ladder[n-1]` while `n <= k`, else the dead-letter place;
//! - a fire the dedup set saw already: ack without running the handlers.
//!
//! Shutdown: stop fetching, wait for running handlers up to the shutdown timeout, then stop
//! the rest and give their messages back to the broker at once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Delivery, Plan, Session, connect};
use crate::api::ApiClient;
use crate::consumer::backoff::Backoff;
use crate::consumer::config::Config;
use crate::consumer::handlers::{Outcome, run_handlers};
use crate::consumer::routes::Route;
use crate::consumer::slots::free_slots;

/// Everything the loop and its handler tasks share.
pub(crate) struct BrokerRunner {
    pub api: ApiClient,
    pub config: Config,
    pub plan: Plan,
    pub routes: Vec<Route>,
    /// Cancelled at the shutdown deadline: handlers still running stop.
    pub abort: CancellationToken,
}

/// How long a shutdown waits for stopped handlers' messages to be given back.
const GIVE_BACK_WAIT: Duration = Duration::from_secs(5);

impl BrokerRunner {
    /// Consumes until `stop` is cancelled, then shuts down as described above.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let slots = Arc::new(Semaphore::new(self.plan.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let mut backoff = Backoff::new(self.config.min_backoff, self.config.max_backoff);
        let mut session: Option<Box<dyn Session>> = None;
        let broker = self.config.transport.kind();
        tracing::info!(broker, topic = %self.plan.topic, group = %self.plan.group,
            tags = ?self.plan.tags, "consumer started");
        loop {
            while tasks.try_join_next().is_some() {}
            let open = match session.as_mut() {
                Some(s) => s,
                None => {
                    let connecting = tokio::select! {
                        biased;
                        _ = stop.cancelled() => break,
                        r = connect(&self.config.transport, &self.plan) => r,
                    };
                    match connecting {
                        Ok(s) => {
                            tracing::info!(broker, group = %self.plan.group, "connected");
                            session.insert(s)
                        }
                        Err(e) => {
                            let pause = backoff.next_delay();
                            tracing::warn!(broker, error = %e, ?pause, "cannot connect; retrying");
                            if sleep_or_stop(pause, &stop).await {
                                break;
                            }
                            continue;
                        }
                    }
                }
            };
            let Some(mut permits) = free_slots(&slots, &stop).await else {
                break;
            };
            let fetched = tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                r = fetch_within(open.as_mut(), permits.len(), self.config.poll_wait) => r,
            };
            match fetched {
                Ok(deliveries) => {
                    backoff.reset();
                    for d in deliveries {
                        let permit = permits.pop();
                        tasks.spawn(self.clone().handle(d, permit));
                    }
                }
                Err(e) => {
                    session = None;
                    let pause = backoff.next_delay();
                    tracing::warn!(broker, error = %e, ?pause, "broker failed; reconnecting");
                    if sleep_or_stop(pause, &stop).await {
                        break;
                    }
                }
            }
        }
        self.drain(tasks).await;
        drop(session);
        tracing::info!(broker, group = %self.plan.group, "consumer stopped");
    }

    /// Runs the handlers of one delivery and settles it.
    async fn handle(self: Arc<Self>, d: Delivery, permit: Option<OwnedSemaphorePermit>) {
        let Delivery {
            message: m,
            deliveries,
            settle,
        } = d;
        if let Some(seen) = &self.config.dedup
            && !m.fire_id.is_empty()
            && seen.seen(&m.fire_id)
        {
            tracing::debug!(fire_id = %m.fire_id, "fire handled already; acked without running");
            log_settle("ack", &m.msgid, settle.ack().await);
            return;
        }
        if deliveries > self.plan.max_deliveries() {
            // Its last delivery never settled (the consumer died): no more tries.
            let reason = format!("delivered {deliveries} times without a result");
            log_settle("dead-letter", &m.msgid, settle.dead(&reason).await);
            return;
        }
        let outcome = tokio::select! {
            o = run_handlers(&self.routes, &m) => o,
            _ = self.abort.cancelled() => {
                log_settle("give back", &m.msgid, settle.release().await);
                return;
            }
        };
        drop(permit);
        match outcome {
            Outcome::Unmatched => log_settle("ack", &m.msgid, settle.ack().await),
            Outcome::Done => {
                if self.config.ack_fires && !m.fire_id.is_empty() {
                    self.ack_fire(&m.fire_id).await;
                }
                if let Some(seen) = &self.config.dedup {
                    seen.remember(&m.fire_id);
                }
                log_settle("ack", &m.msgid, settle.ack().await);
            }
            Outcome::Failed(reason) => {
                let next = usize::try_from(deliveries).unwrap_or(usize::MAX);
                match self.plan.ladder.get(next.saturating_sub(1)) {
                    Some(delay) if deliveries >= 1 => {
                        log_settle("retry", &m.msgid, settle.retry(*delay).await);
                    }
                    _ => {
                        tracing::warn!(msgid = %m.msgid, fire_id = %m.fire_id, deliveries,
                            "last retry failed; the message goes to the dead letters");
                        log_settle("dead-letter", &m.msgid, settle.dead(&reason).await);
                    }
                }
            }
        }
    }

    /// Acks the fire end to end, a few tries; if it never gets through, the server
    /// publishes an `ack` task's fire again after its `max_runtime`.
    async fn ack_fire(&self, fire_id: &str) {
        let mut backoff = Backoff::new(self.config.min_backoff, self.config.max_backoff);
        for _ in 0..3 {
            match self.api.ack_fires(vec![fire_id.to_string()]).await {
                Ok(_) => return,
                Err(e) if e.is_retryable() => {
                    let pause = backoff.next_delay();
                    tracing::warn!(fire_id, error = %e, ?pause, "cannot ack the fire to the server; retrying");
                    tokio::time::sleep(pause).await;
                }
                Err(e) => {
                    tracing::error!(fire_id, error = %e, "the server refused the fire's ack");
                    return;
                }
            }
        }
    }

    async fn drain(&self, mut tasks: JoinSet<()>) {
        let all_done = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(self.config.shutdown_timeout, all_done)
            .await
            .is_err()
        {
            tracing::warn!(
                running = tasks.len(),
                "handlers still running at the shutdown deadline are stopped; their messages go back to the broker"
            );
            self.abort.cancel();
            let given_back = async { while tasks.join_next().await.is_some() {} };
            if tokio::time::timeout(GIVE_BACK_WAIT, given_back)
                .await
                .is_err()
            {
                tasks.shutdown().await;
            }
        }
    }
}

/// How much longer than the poll wait a fetch may take before the connection counts as
/// broken (a request lost with a connection that dropped gets no answer).
const FETCH_GRACE: Duration = Duration::from_secs(10);

async fn fetch_within(
    session: &mut dyn Session,
    max: usize,
    wait: Duration,
) -> Result<Vec<super::Delivery>, super::BrokerError> {
    match tokio::time::timeout(wait + FETCH_GRACE, session.fetch(max, wait)).await {
        Ok(r) => r,
        Err(_) => Err(super::BrokerError("fetch got no answer in time".into())),
    }
}

/// Sleeps for `pause`; true if `stop` came first.
async fn sleep_or_stop(pause: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        _ = stop.cancelled() => true,
        _ = tokio::time::sleep(pause) => false,
    }
}

fn log_settle(verb: &str, msgid: &str, result: Result<(), super::BrokerError>) {
    if let Err(e) = result {
        tracing::warn!(verb, msgid, error = %e, "cannot settle the message; the broker delivers it again");
    }
}
