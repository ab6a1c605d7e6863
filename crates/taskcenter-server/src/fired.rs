//! What follows a committed fire, wherever it was made (the engine on schedule, or a
//! trigger by hand): one listener, built once, so every fire is counted, checked against
//! the alert thresholds and announced to waiting consumers the same way.

use std::sync::Arc;

use taskcenter_core::{Clock, Task};
use taskcenter_store::FireRef;

use crate::alerts::AlertSink;
use crate::queue::Queue;
use crate::series::Event;
use crate::stats::MinuteStats;
use crate::telemetry::Telemetry;

/// Hears every fire once it is durable.
pub trait FireListener: Send + Sync {
    /// `fires` of `task` (as it was before firing) committed; never called with none.
    fn fired(&self, task: &Task, fires: &[FireRef]);
}

/// The service's listener: the fire counter, the per-minute counters with their alerts,
/// and a wake-up of the long-polls that may now have messages.
pub struct FireEffects {
    pub(crate) telemetry: Arc<Telemetry>,
    pub(crate) stats: Arc<MinuteStats>,
    pub(crate) alerts: Arc<AlertSink>,
    pub(crate) queue: Arc<Queue>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl FireListener for FireEffects {
    fn fired(&self, task: &Task, fires: &[FireRef]) {
        let n = fires.len();
        Telemetry::add(&self.telemetry.fires, n as u64);
        self.queue
            .series()
            .record(Event::Fired(n as u64), self.clock.now_ms());
        for alert in self.stats.record(&task.name, n as i64, self.clock.now_ms()) {
            self.alerts.raise(alert);
        }
        self.queue.notify();
    }
}
