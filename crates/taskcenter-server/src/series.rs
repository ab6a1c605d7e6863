//! The last hour, minute by minute, kept in memory for the dashboard's graphs: fires,
//! acks, retries, deaths and the lateness of first deliveries. A ring of 60 minutes; no
//! external service, and nothing survives a restart.

use std::collections::VecDeque;
use std::sync::Mutex;

use taskcenter_api::MinutePoint;

/// Minutes kept, the current one included.
pub const MINUTES: usize = 60;

/// Most lateness samples kept per minute; past it new samples overwrite old ones in
/// turn, so the percentiles stay those of a spread of the minute at bounded memory.
const SAMPLES: usize = 4096;

#[derive(Debug, Default)]
struct Bucket {
    minute: i64,
    fires: u64,
    acked: u64,
    retried: u64,
    dead: u64,
    lateness: Vec<i64>,
    seen: usize,
}

/// Per-minute activity of the last hour.
#[derive(Debug, Default)]
pub struct Series {
    ring: Mutex<VecDeque<Bucket>>,
}

/// What one event adds to its minute.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// Fires committed.
    Fired(u64),
    /// Messages acked.
    Acked(u64),
    /// Messages handed out again.
    Retried(u64),
    /// Messages turned dead letters.
    Died(u64),
    /// A first delivery this many ms after its fire time.
    Late(i64),
}

fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

impl Series {
    /// Records `event` at `now_ms`.
    pub fn record(&self, event: Event, now_ms: i64) {
        let minute = now_ms.div_euclid(60_000) * 60_000;
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if ring.back().is_none_or(|b| b.minute < minute) {
            ring.push_back(Bucket {
                minute,
                ..Bucket::default()
            });
            while ring.len() > MINUTES {
                ring.pop_front();
            }
        }
        // A clock that stepped back lands in the newest minute.
        let Some(bucket) = ring.back_mut() else {
            return;
        };
        match event {
            Event::Fired(n) => bucket.fires += n,
            Event::Acked(n) => bucket.acked += n,
            Event::Retried(n) => bucket.retried += n,
            Event::Died(n) => bucket.dead += n,
            Event::Late(ms) => {
                if bucket.lateness.len() < SAMPLES {
                    bucket.lateness.push(ms.max(0));
                } else {
                    let slot = bucket.seen % SAMPLES;
                    bucket.lateness[slot] = ms.max(0);
                }
                bucket.seen += 1;
            }
        }
    }

    /// The 60 minutes up to the one holding `now_ms`, oldest first, quiet ones as zeros.
    pub fn snapshot(&self, now_ms: i64) -> Vec<MinutePoint> {
        let current = now_ms.div_euclid(60_000) * 60_000;
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        (0..MINUTES as i64)
            .rev()
            .map(|back| {
                let minute = current - back * 60_000;
                let Some(b) = ring.iter().find(|b| b.minute == minute) else {
                    return MinutePoint {
                        minute,
                        ..MinutePoint::default()
                    };
                };
                let mut late = b.lateness.clone();
                late.sort_unstable();
                MinutePoint {
                    minute,
                    fires: b.fires,
                    acked: b.acked,
                    retried: b.retried,
                    dead: b.dead,
                    lateness_p50_ms: percentile(&late, 50),
                    lateness_p99_ms: percentile(&late, 99),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_795_473_060_000;

    #[test]
    fn counts_land_in_their_minute_and_quiet_minutes_are_zero() {
        let s = Series::default();
        s.record(Event::Fired(3), T + 5);
        s.record(Event::Acked(2), T + 59_999);
        s.record(Event::Retried(1), T + 120_000);
        s.record(Event::Died(1), T + 120_001);
        let points = s.snapshot(T + 130_000);
        assert_eq!(points.len(), MINUTES);
        let last = &points[MINUTES - 1];
        assert_eq!((last.minute, last.retried, last.dead), (T + 120_000, 1, 1));
        let quiet = &points[MINUTES - 2];
        assert_eq!((quiet.minute, quiet.fires, quiet.acked), (T + 60_000, 0, 0));
        let first = &points[MINUTES - 3];
        assert_eq!((first.minute, first.fires, first.acked), (T, 3, 2));
        assert_eq!(first.lateness_p50_ms, None);
    }

    #[test]
    fn an_hour_later_the_old_minutes_are_gone() {
        let s = Series::default();
        s.record(Event::Fired(1), T);
        for m in 1..=MINUTES as i64 {
            s.record(Event::Fired(1), T + m * 60_000);
        }
        let points = s.snapshot(T + MINUTES as i64 * 60_000);
        assert_eq!(points[0].minute, T + 60_000);
        assert!(points.iter().all(|p| p.fires == 1));
        assert_eq!(s.ring.lock().map(|r| r.len()).unwrap_or(0), MINUTES);
    }

    #[test]
    fn lateness_percentiles_of_the_minute() {
        let s = Series::default();
        for ms in 1..=100 {
            s.record(Event::Late(ms), T + ms);
        }
        s.record(Event::Late(-4), T + 1);
        let point = &s.snapshot(T)[MINUTES - 1];
        assert_eq!(point.lateness_p50_ms, Some(50));
        assert_eq!(point.lateness_p99_ms, Some(99));
    }
}
