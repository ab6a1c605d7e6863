//! Unit tests for the crontab module, on fixed instants only (never the wall clock).

mod brute;
mod days;
mod dst;
mod next;
mod parse;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::{CronExpr, CronSchedule};

/// Parses a calendar expression or fails the test.
fn sched(expr: &str, zone: &str) -> CronSchedule {
    match CronExpr::parse(expr, zone) {
        Ok(CronExpr::Calendar(s)) => s,
        other => panic!("{expr:?} in {zone}: expected a calendar schedule, got {other:?}"),
    }
}

/// The error message for `expr` (in UTC), failing the test if it parses.
fn err(expr: &str) -> String {
    match CronExpr::parse(expr, "UTC") {
        Err(e) => e.0,
        Ok(other) => panic!("{expr:?} should be refused, got {other:?}"),
    }
}

/// Unix ms of a local wall-clock time like "2026-03-08T02:30:00" in `zone` (earlier
/// instant when ambiguous).
fn at(local: &str, zone: &str) -> i64 {
    let dt: DateTime = local.parse().expect("civil datetime");
    let tz = TimeZone::get(zone).expect("zone");
    tz.to_ambiguous_timestamp(dt)
        .earlier()
        .expect("instant")
        .as_millisecond()
}

/// Unix ms of an RFC 3339 instant like "2026-12-31T23:59:59Z".
fn utc(instant: &str) -> i64 {
    instant
        .parse::<Timestamp>()
        .expect("instant")
        .as_millisecond()
}

/// `ms` rendered as local time with offset in `zone`, e.g. "2026-11-01T01:30:00-04:00".
fn show(ms: i64, zone: &str) -> String {
    let tz = TimeZone::get(zone).expect("zone");
    let zoned = Timestamp::from_millisecond(ms)
        .expect("instant")
        .to_zoned_datetime(tz);
    zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The next `n` fire times of `expr` in `zone` after local time `from`, shown in `zone`.
fn fires(expr: &str, zone: &str, from: &str, n: usize) -> Vec<String> {
    let schedule = sched(expr, zone);
    let mut t = at(from, zone);
    let mut out = Vec::new();
    for _ in 0..n {
        let Some(next) = schedule.next_after(t) else {
            break;
        };
        assert!(next > t, "{expr}: {next} not after {t}");
        out.push(show(next, zone));
        t = next;
    }
    out
}

/// Like [`fires`] but only the local dates ("YYYY-MM-DD") of the fire times.
fn fire_dates(expr: &str, zone: &str, from: &str, n: usize) -> Vec<String> {
    fires(expr, zone, from, n)
        .into_iter()
        .map(|s| s[..10].to_owned())
        .collect()
}
