//! The per-minute fire counters (`/task/stat`) and the alert thresholds on them.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use taskcenter_api::StatResponse;

/// What crossed a threshold, to be reported once per minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    /// One name fired more than `name_alert_count` times this minute.
    NameTooManyTask {
        /// The name.
        name: String,
        /// Fires so far this minute.
        count: i64,
        /// The minute.
        minute: String,
    },
    /// All names together fired more than `total_alert_count` times this minute.
    TotalTooManyTask {
        /// Fires so far this minute.
        count: i64,
        /// The minute.
        minute: String,
    },
}

#[derive(Debug, Default)]
struct Minute {
    key: i64,
    total: i64,
    names: BTreeMap<String, i64>,
    alerted_names: HashSet<String>,
    alerted_total: bool,
}

/// Fire counters of the current calendar minute (UTC).
#[derive(Debug)]
pub struct MinuteStats {
    name_limit: i64,
    total_limit: i64,
    current: Mutex<Minute>,
}

fn minute_label(minute: i64) -> String {
    jiff_label(minute * 60)
}

fn jiff_label(secs: i64) -> String {
    // Civil-from-days (Howard Hinnant's algorithm): no time crate needed for a label.
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60
    )
}

impl MinuteStats {
    /// Counters with the `name_alert_count` / `total_alert_count` thresholds; 0 turns a threshold off.
    pub fn new(name_alert_count: i64, total_alert_count: i64) -> Self {
        Self {
            name_limit: name_alert_count,
            total_limit: total_alert_count,
            current: Mutex::new(Minute::default()),
        }
    }

    fn minute_at(guard: &mut Minute, now_ms: i64) {
        let key = now_ms.div_euclid(60_000);
        if guard.key != key {
            *guard = Minute {
                key,
                ..Minute::default()
            };
        }
    }

    /// Counts `n` fires of `name` at `now_ms`; returns alerts newly crossed.
    pub fn record(&self, name: &str, n: i64, now_ms: i64) -> Vec<Alert> {
        let mut m = self.current.lock().unwrap_or_else(|p| p.into_inner());
        Self::minute_at(&mut m, now_ms);
        m.total += n;
        let count = {
            let c = m.names.entry(name.to_string()).or_insert(0);
            *c += n;
            *c
        };
        let mut alerts = Vec::new();
        if self.name_limit > 0 && count > self.name_limit && m.alerted_names.insert(name.into()) {
            alerts.push(Alert::NameTooManyTask {
                name: name.into(),
                count,
                minute: minute_label(m.key),
            });
        }
        if self.total_limit > 0 && m.total > self.total_limit && !m.alerted_total {
            m.alerted_total = true;
            alerts.push(Alert::TotalTooManyTask {
                count: m.total,
                minute: minute_label(m.key),
            });
        }
        alerts
    }

    /// The counters of the minute containing `now_ms`.
    pub fn snapshot(&self, now_ms: i64) -> StatResponse {
        let mut m = self.current.lock().unwrap_or_else(|p| p.into_inner());
        Self::minute_at(&mut m, now_ms);
        StatResponse {
            minute: minute_label(m.key),
            total: m.total,
            names: m.names.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_utc_minutes() {
        assert_eq!(minute_label(0), "1970-01-01T00:00");
        // 2026-11-23T22:31:00Z
        assert_eq!(jiff_label(1_795_473_060), "2026-11-23T22:31");
        assert_eq!(jiff_label(951_782_400), "2000-02-29T00:00");
    }

    #[test]
    fn counts_reset_each_minute_and_alert_once() {
        let s = MinuteStats::new(2, 4);
        let t = 1_795_473_060_000;
        assert!(s.record("a", 2, t).is_empty());
        let alerts = s.record("a", 1, t + 1);
        assert!(matches!(
            &alerts[..],
            [Alert::NameTooManyTask { count: 3, .. }]
        ));
        assert!(s.record("a", 1, t + 2).is_empty());
        let alerts = s.record("b", 1, t + 3);
        assert!(matches!(
            &alerts[..],
            [Alert::TotalTooManyTask { count: 5, .. }]
        ));
        let snap = s.snapshot(t + 4);
        assert_eq!(snap.total, 5);
        assert_eq!(snap.names.get("a"), Some(&4));
        let next = s.snapshot(t + 60_000);
        assert_eq!(next.total, 0);
        assert_eq!(next.minute, "2026-11-23T22:32");
    }
}
