//! Turning the injected clock's milliseconds into tokio sleeps.

use std::time::Duration;

use taskcenter_core::Clock;
use tokio::time::Instant;

/// The tokio instant at which `clock` will read `at_ms`, assuming it runs at real speed.
pub fn instant_at(clock: &dyn Clock, at_ms: i64) -> Instant {
    let now_ms = clock.now_ms();
    let now = Instant::now();
    if at_ms <= now_ms {
        now
    } else {
        now + Duration::from_millis((at_ms - now_ms) as u64)
    }
}
