//! What happened since start, for `/metrics`: fires, delivery lateness, retries, nacks,
//! failed firing rounds and API latency. The store answers "how many are there now";
//! these answer "how many happened, and how fast". Lock-free: every request and fire
//! records here.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bucket bounds in microseconds, from 0.1 ms to a minute.
const BOUNDS_US: &[u64] = &[
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000,
];

/// A Prometheus histogram with fixed buckets, in seconds.
#[derive(Debug)]
pub struct Histogram {
    /// Observations per bucket (not cumulative), the last one above every bound.
    buckets: [AtomicU64; BOUNDS_US.len() + 1],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    /// Records one observation of `us` microseconds (negative counts as 0).
    pub fn observe_us(&self, us: i64) {
        let us = u64::try_from(us).unwrap_or(0);
        let bucket = BOUNDS_US.partition_point(|bound| *bound < us);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// Records one observation of `ms` milliseconds.
    pub fn observe_ms(&self, ms: i64) {
        self.observe_us(ms.saturating_mul(1_000));
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Appends the histogram's series in the Prometheus text format.
    pub fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            cumulative += bucket.load(Ordering::Relaxed);
            let le = BOUNDS_US
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |us| seconds(*us));
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let sum = seconds(self.sum_us.load(Ordering::Relaxed));
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {}", self.count());
    }
}

/// Microseconds as decimal seconds, exactly.
fn seconds(us: u64) -> String {
    let text = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The server's event counters.
#[derive(Debug, Default)]
pub struct Telemetry {
    /// Fires committed.
    pub fires: AtomicU64,
    /// Messages handed to consumers (every attempt).
    pub deliveries: AtomicU64,
    /// Messages handed out again: retries after a nack or an expired lease.
    pub redeliveries: AtomicU64,
    /// Messages consumers gave back.
    pub nacks: AtomicU64,
    /// First delivery of a fire: when it was handed out minus its fire time.
    pub lateness: Histogram,
    /// API requests, from the request's arrival to its answer; consume long-polls are
    /// left out, as they wait on purpose.
    pub api_latency: Histogram,
}

impl Telemetry {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Appends every series in the Prometheus text format; `failed_rounds` is the
    /// engine's count of firing rounds the store refused.
    pub fn render(&self, failed_rounds: u64, out: &mut String) {
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        counter(
            "taskcenter_fires_total",
            "Fires committed since start.",
            load(&self.fires),
        );
        counter(
            "taskcenter_publish_errors_total",
            "Firing rounds the store failed (retried; no fire is lost).",
            failed_rounds,
        );
        counter(
            "taskcenter_deliveries_total",
            "Messages handed to consumers, every attempt.",
            load(&self.deliveries),
        );
        counter(
            "taskcenter_retries_total",
            "Messages handed out again after a nack or an expired lease.",
            load(&self.redeliveries),
        );
        counter(
            "taskcenter_nacks_total",
            "Messages consumers gave back.",
            load(&self.nacks),
        );
        self.lateness.render(
            "taskcenter_delivery_lateness_seconds",
            "First delivery of a fire: handed out minus fire time.",
            out,
        );
        self.api_latency.render(
            "taskcenter_api_request_duration_seconds",
            "API requests, arrival to answer (consume long-polls left out).",
            out,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_in_seconds() {
        let h = Histogram::default();
        h.observe_us(80);
        h.observe_ms(3);
        h.observe_ms(3);
        h.observe_ms(120_000);
        let mut out = String::new();
        h.render("x", "help", &mut out);
        assert!(out.contains("x_bucket{le=\"0.0001\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.0025\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.005\"} 3\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"60\"} 3\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 4\n"), "{out}");
        assert!(out.contains("x_sum 120.00608\nx_count 4\n"), "{out}");
    }

    #[test]
    fn a_negative_duration_counts_as_zero() {
        let h = Histogram::default();
        h.observe_ms(-5);
        let mut out = String::new();
        h.render("x", "help", &mut out);
        assert!(out.contains("x_bucket{le=\"0.0001\"} 1\n"), "{out}");
        assert!(out.contains("x_sum 0\n"), "{out}");
    }
}
