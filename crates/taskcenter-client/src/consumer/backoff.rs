//! Exponential backoff with jitter, for calls to a server that is down or restarting.

use std::time::Duration;

/// Pauses that double from `min` to `max`, each drawn from its upper half so that many
/// consumers restarting together do not knock in step.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            next: min,
        }
    }

    /// The pause to take now; the following one is twice as long, up to `max`.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        let half = base / 2;
        half + half.mul_f64(fastrand::f64())
    }

    /// Back to the shortest pause, after a success.
    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_max_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(400));
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        b.next_delay();
        for _ in 0..5 {
            assert!(b.next_delay() <= Duration::from_millis(400));
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
