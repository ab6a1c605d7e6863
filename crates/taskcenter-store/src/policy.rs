//! The rules of the built-in queue's deliveries, in one place for every backend: how long
//! a lease lasts, when a failed delivery is visible again, when a message is dead.
//!
//! Pure functions over plain values; the backends only store what these decide.
//!
//! The ladder costs no sweeper for correctness: leasing attempt `i` (of at most `n + 1`)
//! sets `visible_at = lease_until + delays[i-1]`, so an expired lease becomes visible
//! again by itself exactly when its retry is due. The last attempt's lease has
//! `visible_at = lease_until` and turns dead once expired. Sweeping expired leases
//! ([`DeliveryPolicy::plan_expiry`]) only makes states and counts show it on time.

/// Retry ladder and leases of the built-in queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Delay after the i-th failed delivery is `retry_delays_ms[i-1]`; a message is
    /// delivered at most `len + 1` times, then becomes a dead letter.
    pub retry_delays_ms: Vec<i64>,
    /// Lease of a pulled message of a non-`ack` task.
    pub default_lease_ms: i64,
}

impl Default for DeliveryPolicy {
    /// The RocketMQ ladder (16 retries from 10 s to 2 h) and 30 s leases.
    fn default() -> Self {
        const S: i64 = 1000;
        const M: i64 = 60 * S;
        Self {
            retry_delays_ms: [
                10 * S,
                30 * S,
                M,
                2 * M,
                3 * M,
                4 * M,
                5 * M,
                6 * M,
                7 * M,
                8 * M,
                9 * M,
                10 * M,
                20 * M,
                30 * M,
                60 * M,
                120 * M,
            ]
            .to_vec(),
            default_lease_ms: 30 * S,
        }
    }
}

/// What leasing one message does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeasePlan {
    /// Lease it as delivery number `attempt`.
    Lease {
        /// 1 on the first delivery.
        attempt: i64,
        /// Until when the consumer holds it.
        lease_until: i64,
        /// When it is deliverable again if nobody acks it: `lease_until` plus the retry
        /// delay, or `lease_until` itself for the last attempt.
        visible_at: i64,
        /// No retry is left after this delivery: once expired, it is dead.
        last: bool,
    },
    /// Its attempts are spent (the ladder was shortened since it was last leased): it
    /// is dead now.
    Dead,
}

/// What a failed delivery (a nack, or a lease that ran out) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryPlan {
    /// Deliverable again at `visible_at`.
    Retry {
        /// When the retry is due.
        visible_at: i64,
    },
    /// Out of retries: a dead letter dated `at`.
    Dead {
        /// When it died.
        at: i64,
    },
}

impl DeliveryPolicy {
    /// Most deliveries of one message: the first plus one per ladder step.
    pub fn max_attempts(&self) -> i64 {
        i64::try_from(self.retry_delays_ms.len())
            .unwrap_or(i64::MAX)
            .saturating_add(1)
    }

    /// The delay before the next delivery after delivery `attempt` failed; `None` when
    /// `attempt` was the last.
    pub fn retry_delay(&self, attempt: i64) -> Option<i64> {
        let step = usize::try_from(attempt.checked_sub(1)?).ok()?;
        self.retry_delays_ms.get(step).map(|d| (*d).max(0))
    }

    /// How long a consumer holds a message: an `ack` task's `max_runtime` (seconds),
    /// the default lease otherwise.
    pub fn lease_ms(&self, ack: bool, max_runtime_s: i64) -> i64 {
        if ack && max_runtime_s > 0 {
            max_runtime_s.saturating_mul(1000)
        } else {
            self.default_lease_ms
        }
    }

    /// Leasing a message delivered `prev_attempt` times so far, at `now_ms`.
    pub fn plan_lease(
        &self,
        prev_attempt: i64,
        ack: bool,
        max_runtime_s: i64,
        now_ms: i64,
    ) -> LeasePlan {
        let attempt = prev_attempt.saturating_add(1);
        if attempt > self.max_attempts() {
            return LeasePlan::Dead;
        }
        let lease_until = now_ms.saturating_add(self.lease_ms(ack, max_runtime_s));
        let delay = self.retry_delay(attempt);
        LeasePlan::Lease {
            attempt,
            lease_until,
            visible_at: lease_until.saturating_add(delay.unwrap_or(0)),
            last: delay.is_none(),
        }
    }

    /// A consumer gave delivery `attempt` back at `now_ms`, asking for `delay_ms` (the
    /// ladder's delay when `None`; a negative delay counts as none).
    pub fn plan_nack(&self, attempt: i64, delay_ms: Option<i64>, now_ms: i64) -> RetryPlan {
        match self.retry_delay(attempt) {
            Some(ladder) => RetryPlan::Retry {
                visible_at: now_ms.saturating_add(delay_ms.unwrap_or(ladder).max(0)),
            },
            None => RetryPlan::Dead { at: now_ms },
        }
    }

    /// The lease of delivery `attempt` ran out at `lease_until` without an ack: the same
    /// as a nack at that instant with the ladder's delay.
    pub fn plan_expiry(&self, attempt: i64, lease_until: i64) -> RetryPlan {
        self.plan_nack(attempt, None, lease_until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(delays: &[i64]) -> DeliveryPolicy {
        DeliveryPolicy {
            retry_delays_ms: delays.to_vec(),
            default_lease_ms: 5_000,
        }
    }

    #[test]
    fn a_ladder_of_n_delivers_at_most_n_plus_one_times() {
        let p = policy(&[10, 20]);
        assert_eq!(p.max_attempts(), 3);
        assert_eq!(
            p.plan_lease(0, false, 60, 1_000),
            LeasePlan::Lease {
                attempt: 1,
                lease_until: 6_000,
                visible_at: 6_010,
                last: false
            }
        );
        assert_eq!(
            p.plan_lease(1, false, 60, 1_000),
            LeasePlan::Lease {
                attempt: 2,
                lease_until: 6_000,
                visible_at: 6_020,
                last: false
            }
        );
        assert_eq!(
            p.plan_lease(2, false, 60, 1_000),
            LeasePlan::Lease {
                attempt: 3,
                lease_until: 6_000,
                visible_at: 6_000,
                last: true
            }
        );
        assert_eq!(p.plan_lease(3, false, 60, 1_000), LeasePlan::Dead);
    }

    #[test]
    fn ack_tasks_hold_their_lease_for_max_runtime() {
        let p = policy(&[]);
        assert_eq!(p.lease_ms(true, 7), 7_000);
        assert_eq!(p.lease_ms(true, 0), 5_000, "no max_runtime: the default");
        assert_eq!(p.lease_ms(false, 7), 5_000);
        assert!(matches!(
            p.plan_lease(0, true, 7, 0),
            LeasePlan::Lease {
                lease_until: 7_000,
                last: true,
                ..
            }
        ));
    }

    #[test]
    fn nack_waits_the_ladder_or_the_asked_delay_then_dies() {
        let p = policy(&[10, 20]);
        assert_eq!(
            p.plan_nack(1, None, 100),
            RetryPlan::Retry { visible_at: 110 }
        );
        assert_eq!(
            p.plan_nack(2, None, 100),
            RetryPlan::Retry { visible_at: 120 }
        );
        assert_eq!(
            p.plan_nack(2, Some(5), 100),
            RetryPlan::Retry { visible_at: 105 }
        );
        assert_eq!(
            p.plan_nack(1, Some(-5), 100),
            RetryPlan::Retry { visible_at: 100 }
        );
        assert_eq!(p.plan_nack(3, Some(5), 100), RetryPlan::Dead { at: 100 });
        assert_eq!(
            p.plan_nack(0, None, 100),
            RetryPlan::Dead { at: 100 },
            "never leased"
        );
    }

    #[test]
    fn an_expired_lease_retries_from_its_end() {
        let p = policy(&[10]);
        assert_eq!(
            p.plan_expiry(1, 6_000),
            RetryPlan::Retry { visible_at: 6_010 }
        );
        assert_eq!(p.plan_expiry(2, 6_000), RetryPlan::Dead { at: 6_000 });
    }

    #[test]
    fn huge_values_saturate() {
        let p = DeliveryPolicy {
            retry_delays_ms: vec![i64::MAX],
            default_lease_ms: i64::MAX,
        };
        assert!(matches!(
            p.plan_lease(0, false, 0, i64::MAX - 1),
            LeasePlan::Lease {
                lease_until: i64::MAX,
                visible_at: i64::MAX,
                ..
            }
        ));
        assert_eq!(p.plan_lease(i64::MAX, false, 0, 0), LeasePlan::Dead);
    }
}
