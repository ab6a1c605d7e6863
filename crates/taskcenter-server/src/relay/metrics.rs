//! What the relay counts for `/metrics`: publishes and publish errors of its broker, and
//! how long the broker took to confirm.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::telemetry::Histogram;

/// The relay's counters, named by its broker in every series.
#[derive(Debug, Default)]
pub struct RelayMetrics {
    /// Messages the broker confirmed.
    pub published: AtomicU64,
    /// Messages the broker did not confirm (each try counts).
    pub errors: AtomicU64,
    /// One batch, from sending it to the broker's last answer.
    pub latency: Histogram,
}

impl RelayMetrics {
    /// Appends the series, with the outbox's depth and the age of its oldest message
    /// waiting past its time (0 when none is late).
    pub fn render(&self, broker: &str, depth: i64, oldest_ms: i64, out: &mut String) {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP taskcenter_outbox_depth Messages waiting to be published to the broker.\n\
             # TYPE taskcenter_outbox_depth gauge\ntaskcenter_outbox_depth {depth}\n\
             # HELP taskcenter_outbox_oldest_pending_seconds How long the oldest message due has waited.\n\
             # TYPE taskcenter_outbox_oldest_pending_seconds gauge\n\
             taskcenter_outbox_oldest_pending_seconds {}.{:03}\n\
             # HELP taskcenter_broker_publishes_total Messages the broker confirmed.\n\
             # TYPE taskcenter_broker_publishes_total counter\n\
             taskcenter_broker_publishes_total{{broker=\"{broker}\"}} {}\n\
             # HELP taskcenter_broker_publish_errors_total Publishes the broker did not confirm (tried again).\n\
             # TYPE taskcenter_broker_publish_errors_total counter\n\
             taskcenter_broker_publish_errors_total{{broker=\"{broker}\"}} {}",
            oldest_ms / 1000,
            oldest_ms % 1000,
            load(&self.published),
            load(&self.errors),
        );
        self.latency.render(
            "taskcenter_broker_publish_duration_seconds",
            "One batch published: sent to the broker's last confirmation.",
            out,
        );
    }
}
