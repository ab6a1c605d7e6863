//! Next fire times without DST: fields, steps, names, seconds, macros and sparse dates.

use super::{at, fire_dates, fires, sched, show, utc};

#[test]
fn fires_strictly_after_the_given_instant() {
    let s = sched("0 0 * * *", "UTC");
    let midnight = utc("2026-01-01T00:00:00Z");
    assert_eq!(s.next_after(midnight), Some(utc("2026-01-02T00:00:00Z")));
    assert_eq!(s.next_after(midnight - 1), Some(midnight));
    assert_eq!(s.next_after(midnight - 1000), Some(midnight));
}

#[test]
fn five_fields_fire_at_second_zero() {
    let s = sched("* * * * *", "UTC");
    assert_eq!(
        s.next_after(utc("2026-01-01T00:00:30Z")),
        Some(utc("2026-01-01T00:01:00Z"))
    );
    assert_eq!(
        s.next_after(utc("2026-01-01T00:00:59.999Z")),
        Some(utc("2026-01-01T00:01:00Z"))
    );
}

#[test]
fn six_fields_put_seconds_first() {
    assert_eq!(
        fires("*/15 * * * * *", "UTC", "2026-01-01T00:00:00", 4),
        [
            "2026-01-01T00:00:15+00:00",
            "2026-01-01T00:00:30+00:00",
            "2026-01-01T00:00:45+00:00",
            "2026-01-01T00:01:00+00:00"
        ]
    );
    assert_eq!(
        fires("30 15 10 * * *", "UTC", "2026-01-01T10:15:30", 2),
        ["2026-01-02T10:15:30+00:00", "2026-01-03T10:15:30+00:00"]
    );
    let s = sched("* * * * * *", "UTC");
    assert_eq!(
        s.next_after(utc("2026-01-01T00:00:00.250Z")),
        Some(utc("2026-01-01T00:00:01Z"))
    );
}

#[test]
fn ranges_lists_and_steps() {
    assert_eq!(
        fires("10-30/10 9,17 * * *", "UTC", "2026-01-01T00:00:00", 7),
        [
            "2026-01-01T09:10:00+00:00",
            "2026-01-01T09:20:00+00:00",
            "2026-01-01T09:30:00+00:00",
            "2026-01-01T17:10:00+00:00",
            "2026-01-01T17:20:00+00:00",
            "2026-01-01T17:30:00+00:00",
            "2026-01-02T09:10:00+00:00",
        ]
    );
    // `a/n` runs from a to the field's maximum.
    assert_eq!(
        fires("5/20 0 * * *", "UTC", "2026-01-01T00:00:00", 4),
        [
            "2026-01-01T00:05:00+00:00",
            "2026-01-01T00:25:00+00:00",
            "2026-01-01T00:45:00+00:00",
            "2026-01-02T00:05:00+00:00"
        ]
    );
    assert_eq!(
        fires("0 */6 * * *", "UTC", "2026-01-01T00:00:00", 4),
        [
            "2026-01-01T06:00:00+00:00",
            "2026-01-01T12:00:00+00:00",
            "2026-01-01T18:00:00+00:00",
            "2026-01-02T00:00:00+00:00"
        ]
    );
}

#[test]
fn month_and_weekday_names() {
    // 2026-01-01 is a Thursday.
    assert_eq!(
        fire_dates("0 9 * JAN,jul Mon-Wed", "UTC", "2026-01-01T00:00:00", 4),
        ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-12"]
    );
    assert_eq!(
        fire_dates("0 0 1 feb-apr/2 *", "UTC", "2026-01-01T00:00:00", 3),
        ["2026-02-01", "2026-04-01", "2027-02-01"]
    );
    assert_eq!(
        fire_dates("0 0 * * SAT/7", "UTC", "2026-01-01T00:00:00", 2),
        ["2026-01-03", "2026-01-10"]
    );
}

#[test]
fn seven_and_zero_are_both_sunday() {
    let sundays = ["2026-01-04", "2026-01-11", "2026-01-18"];
    assert_eq!(
        fire_dates("0 0 * * 7", "UTC", "2026-01-01T00:00:00", 3),
        sundays
    );
    assert_eq!(
        fire_dates("0 0 * * 0", "UTC", "2026-01-01T00:00:00", 3),
        sundays
    );
    assert_eq!(
        fire_dates("0 0 * * SUN", "UTC", "2026-01-01T00:00:00", 3),
        sundays
    );
    // 5-7 is Friday, Saturday and Sunday.
    assert_eq!(
        fire_dates("0 0 * * 5-7", "UTC", "2026-01-01T00:00:00", 4),
        ["2026-01-02", "2026-01-03", "2026-01-04", "2026-01-09"]
    );
}

#[test]
fn year_rolls_over() {
    let s = sched("0 0 1 1 *", "UTC");
    assert_eq!(
        s.next_after(utc("2026-12-31T23:59:59Z")),
        Some(utc("2027-01-01T00:00:00Z"))
    );
    let s = sched("59 23 31 12 *", "UTC");
    assert_eq!(
        s.next_after(utc("2026-12-31T23:59:00Z")),
        Some(utc("2027-12-31T23:59:00Z"))
    );
}

#[test]
fn february_29th_waits_for_a_leap_year() {
    assert_eq!(
        fires("0 0 29 2 *", "UTC", "2026-01-01T00:00:00", 3),
        [
            "2028-02-29T00:00:00+00:00",
            "2032-02-29T00:00:00+00:00",
            "2036-02-29T00:00:00+00:00"
        ]
    );
    // 2100 is not a leap year.
    assert_eq!(
        fire_dates("0 0 29 2 *", "UTC", "2097-01-01T00:00:00", 1),
        ["2104-02-29"]
    );
}

#[test]
fn sparse_expressions_are_found_far_ahead_and_fast() {
    // A fifth Monday in February needs February 29th on a Monday: 2044, then 2072.
    assert_eq!(
        fire_dates("0 0 * 2 1#5", "UTC", "2026-01-01T00:00:00", 2),
        ["2044-02-29", "2072-02-29"]
    );
    // The same across dozens of DST transitions.
    assert_eq!(
        fires("0 0 * 2 MON#5", "Europe/Berlin", "2026-01-01T00:00:00", 1),
        ["2044-02-29T00:00:00+01:00"]
    );
    // February 29th on a Sunday: 40 years apart across the non-leap 2100.
    assert_eq!(
        fire_dates("0 0 29 2 */7", "UTC", "2090-01-01T00:00:00", 2),
        ["2128-02-29", "2156-02-29"]
    );
    let s = sched("0 0 29 2 ?", "America/New_York");
    let mut t = at("2026-01-01T00:00:00", "America/New_York");
    for _ in 0..1000 {
        t = s.next_after(t).expect("fires");
    }
    assert_eq!(show(t, "America/New_York"), "6148-02-29T00:00:00-05:00");
}

#[test]
fn macros_expand_to_their_fields() {
    let from = "2026-03-01T12:00:00"; // a Sunday
    assert_eq!(
        fires("@yearly", "UTC", from, 1),
        ["2027-01-01T00:00:00+00:00"]
    );
    assert_eq!(
        fires("@annually", "UTC", from, 1),
        ["2027-01-01T00:00:00+00:00"]
    );
    assert_eq!(
        fires("@monthly", "UTC", from, 1),
        ["2026-04-01T00:00:00+00:00"]
    );
    assert_eq!(
        fires("@weekly", "UTC", from, 1),
        ["2026-03-08T00:00:00+00:00"]
    );
    assert_eq!(
        fires("@daily", "UTC", from, 1),
        ["2026-03-02T00:00:00+00:00"]
    );
    assert_eq!(
        fires("@midnight", "UTC", from, 1),
        ["2026-03-02T00:00:00+00:00"]
    );
    assert_eq!(
        fires("@hourly", "UTC", from, 2),
        ["2026-03-01T13:00:00+00:00", "2026-03-01T14:00:00+00:00"]
    );
}

#[test]
fn matching_uses_local_time_of_the_zone() {
    assert_eq!(
        fires("0 9 * * *", "Asia/Tokyo", "2026-01-01T10:00:00", 1),
        ["2026-01-02T09:00:00+09:00"]
    );
    let s = sched("CRON_TZ=Asia/Kolkata 30 9 * * *", "UTC");
    assert_eq!(
        s.next_after(utc("2026-01-01T00:00:00Z")),
        Some(utc("2026-01-01T04:00:00Z"))
    );
}

#[test]
fn extreme_instants_do_not_panic() {
    let s = sched("* * * * * *", "Europe/Berlin");
    assert_eq!(s.next_after(i64::MAX), None);
    assert_eq!(s.next_after(i64::MIN), None);
}
