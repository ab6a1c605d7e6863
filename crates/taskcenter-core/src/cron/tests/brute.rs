//! Cross-checks `next_after` against a minute-by-minute scan of instants, for schedules
//! whose DST behaviour is exactly "fire when the local time matches" (wildcard jobs, or
//! any job away from transitions).

use jiff::Timestamp;

use super::{sched, utc};
use crate::cron::CronSchedule;

/// Whether the local wall-clock time of instant `ms` matches every field.
fn matches_at(s: &CronSchedule, ms: i64) -> bool {
    let Ok(ts) = Timestamp::from_millisecond(ms) else {
        return false;
    };
    let dt = ts.to_zoned_datetime(s.tz.clone()).datetime();
    let bit = |set: u64, v: i8| u8::try_from(v).is_ok_and(|v| set & 1 << v != 0);
    let f = &s.fields;
    let (year, month) = (i64::from(dt.year()), dt.month().unsigned_abs());
    bit(f.seconds, dt.second())
        && bit(f.minutes, dt.minute())
        && bit(f.hours, dt.hour())
        && bit(f.months, dt.month())
        && f.days.days_in(year, u32::from(month)) & 1 << dt.day() != 0
}

/// Compares the fire times in `[from, to)` found both ways.
fn check(expr: &str, zone: &str, from: i64, to: i64) {
    let s = sched(expr, zone);
    let scanned: Vec<i64> = (from / 60_000..to / 60_000)
        .map(|m| m * 60_000)
        .filter(|&ms| ms > from && matches_at(&s, ms))
        .collect();
    let mut found = Vec::new();
    let mut t = from;
    while let Some(next) = s.next_after(t).filter(|&n| n < to) {
        found.push(next);
        t = next;
    }
    assert_eq!(found, scanned, "{expr} in {zone}");
}

#[test]
fn wildcard_jobs_match_a_brute_force_scan_around_transitions() {
    let exprs = [
        "*/7 * * * *",
        "* */5 * * *",
        "*/13 1-3 * * *",
        "0 * * * 0",
        "*/30 * 25-31 3,10 *",
        "* 2 * * *",
    ];
    let windows = [
        (
            "America/New_York",
            "2026-03-07T12:00:00Z",
            "2026-03-09T12:00:00Z",
        ),
        (
            "America/New_York",
            "2026-10-31T12:00:00Z",
            "2026-11-02T12:00:00Z",
        ),
        (
            "Europe/Berlin",
            "2026-03-28T12:00:00Z",
            "2026-03-30T12:00:00Z",
        ),
        (
            "Europe/Berlin",
            "2026-10-24T12:00:00Z",
            "2026-10-26T12:00:00Z",
        ),
        (
            "Australia/Lord_Howe",
            "2026-04-04T00:00:00Z",
            "2026-04-06T00:00:00Z",
        ),
        (
            "Australia/Lord_Howe",
            "2026-10-03T00:00:00Z",
            "2026-10-05T00:00:00Z",
        ),
    ];
    for (zone, from, to) in windows {
        for expr in exprs {
            check(expr, zone, utc(from), utc(to));
        }
    }
}

#[test]
fn day_rules_match_a_brute_force_scan_over_months() {
    let exprs = [
        "0 0 13 * 5",
        "30 12 L * *",
        "0 9 15W * *",
        "0 0 * * 5L",
        "0 6 */2 * 1-5",
        "0 0 1W,LW * *",
        "45 23 * * 0#2,3#4",
    ];
    for expr in exprs {
        check(
            expr,
            "UTC",
            utc("2026-01-01T00:00:00Z"),
            utc("2026-07-01T00:00:00Z"),
        );
    }
}
