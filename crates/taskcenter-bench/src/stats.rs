//! Clock reading, percentiles and the deterministic "random" due times of the workloads.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// Wall-clock now, unix milliseconds (what lateness is measured against).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `{count, min, p50, p90, p99, max, mean}` of samples in milliseconds.
pub fn summary(samples: &[i64]) -> Value {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let mean = if sorted.is_empty() {
        0.0
    } else {
        sorted.iter().map(|&x| x as f64).sum::<f64>() / sorted.len() as f64
    };
    json!({
        "count": sorted.len(),
        "min": sorted.first().copied().unwrap_or(0),
        "p50": percentile(&sorted, 50.0),
        "p90": percentile(&sorted, 90.0),
        "p99": percentile(&sorted, 99.0),
        "max": sorted.last().copied().unwrap_or(0),
        "mean": round3(mean),
    })
}

/// Rounds to three decimals, for readable JSON.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `n / secs`, rounded, or 0 when no time passed.
pub fn rate(n: usize, secs: f64) -> f64 {
    if secs > 0.0 {
        (n as f64 / secs).round()
    } else {
        0.0
    }
}

/// A well-mixed 64-bit value for `i` (splitmix64), so due times look random yet every
/// run uses the same ones.
pub fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A value in `lo..hi` picked by `mix(i)`.
pub fn pick(i: u64, lo: i64, hi: i64) -> i64 {
    lo + (mix(i) % (hi - lo).max(1) as u64) as i64
}

/// Writes samples one per line, for the chart script.
pub fn write_samples(path: &Path, samples: &[i64]) -> anyhow::Result<()> {
    let mut text = String::with_capacity(samples.len() * 6);
    for s in samples {
        text.push_str(&s.to_string());
        text.push('\n');
    }
    std::fs::write(path, text)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn picks_stay_in_range() {
        for i in 0..10_000 {
            let x = pick(i, 60, 3600);
            assert!((60..3600).contains(&x));
        }
    }
}
