//! Wall-clock helpers: now, polling with a deadline, and UTC calendar arithmetic.

use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

pub fn now_s() -> i64 {
    now_ms() / 1000
}

/// Polls `check` every 50 ms until it holds; panics with `what` after `within`.
pub fn wait_for(within: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// Sleeps until the wall clock reaches `unix_ms`.
pub fn sleep_until_ms(unix_ms: i64) {
    let left = unix_ms - now_ms();
    if left > 0 {
        thread::sleep(Duration::from_millis(left as u64));
    }
}

/// Unix seconds of a UTC civil time (proleptic Gregorian).
pub fn unix_utc(y: i64, m: i64, d: i64, h: i64, mi: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400 + h * 3600 + mi * 60
}

/// `"YYYY-MM-DDTHH:MM"` of a unix time, in UTC.
pub fn utc_minute(unix_s: i64) -> String {
    let z = unix_s.div_euclid(86_400) + 719_468;
    let secs = unix_s.rem_euclid(86_400);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}
