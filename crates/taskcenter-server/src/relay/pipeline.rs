//! The relay's loop: while one batch is out at the broker, the store settles the batch
//! before it and leases the batch after it, so broker and store work overlap. The broker
//! still gets one batch at a time, in lease order: a batch is published only once the one
//! before it was confirmed, and settled (marked sent) only after that confirmation.

use std::mem::take;

use taskcenter_store::{Delivery, OutboxSettle};

use super::{IDLE, Relay, STORE_RETRY};

impl Relay {
    /// Publishes the outbox until shut down.
    pub(super) async fn pipeline(&self) {
        let mut failures = 0;
        // Leased and not yet published.
        let mut ahead: Vec<Delivery> = Vec::new();
        // Decided from the broker's answers and not yet written.
        let mut unsettled: Vec<OutboxSettle> = Vec::new();
        while !self.stop.is_cancelled() {
            let arrivals = self.queue.arrivals().notified();
            tokio::pin!(arrivals);
            arrivals.as_mut().enable();
            if ahead.is_empty() {
                let (settled, leased) =
                    tokio::join!(self.settle(take(&mut unsettled)), self.lease_batch());
                let mut store_ok = self.store_ok(settled);
                match leased {
                    Ok(batch) if !batch.is_empty() => ahead = batch,
                    Ok(_) => {
                        let wait = self.idle_wait().await.min(IDLE);
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = &mut arrivals => {}
                            _ = self.stop.cancelled() => {}
                        }
                    }
                    Err(e) => store_ok = self.store_ok(Err(e)),
                }
                if !store_ok {
                    self.pause(STORE_RETRY).await;
                }
                continue;
            }
            let batch = take(&mut ahead);
            let (published, settled, leased) = tokio::join!(
                self.publish(&batch, &mut failures),
                self.settle(take(&mut unsettled)),
                self.lease_batch(),
            );
            unsettled = published.settles;
            let store_ok = self.store_ok(settled);
            match leased {
                // The broker failed: what was leased meanwhile waits out the same pause.
                Ok(next) if !published.pause.is_zero() => {
                    let at = self.clock.now_ms()
                        + i64::try_from(published.pause.as_millis()).unwrap_or(i64::MAX);
                    unsettled.extend(Self::release(&next, at));
                }
                Ok(next) => ahead = next,
                // Leased again on the next turn.
                Err(e) => {
                    self.store_ok(Err(e));
                }
            }
            if !published.pause.is_zero() {
                // Mark what was decided before waiting, so the history shows it.
                let settled = self.settle(take(&mut unsettled)).await;
                self.store_ok(settled);
                self.pause(published.pause).await;
            } else if !store_ok {
                self.pause(STORE_RETRY).await;
            }
        }
        // Shutting down: write what the broker confirmed, hand back what was not sent.
        let now = self.clock.now_ms();
        unsettled.extend(Self::release(&ahead, now));
        let settled = self.settle(unsettled).await;
        self.store_ok(settled);
    }

    /// Logs a store failure; whether the store step went through.
    fn store_ok(&self, result: Result<(), taskcenter_store::StoreError>) -> bool {
        match result {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "outbox store step failed; retrying");
                false
            }
        }
    }
}
