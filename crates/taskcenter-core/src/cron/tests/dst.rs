//! DST as cronie does it: fixed-time jobs fire once (after a gap, in the first pass of a
//! fold); wildcard jobs skip nonexistent times and fire in both passes of a repeated hour.

use super::{at, fires, sched, show, utc};

const NY: &str = "America/New_York";
const BERLIN: &str = "Europe/Berlin";

#[test]
fn new_york_spring_forward_fixed_job_fires_when_the_gap_ends() {
    // 02:00 EST jumps to 03:00 EDT on 2026-03-08; 02:30 does not exist that day.
    assert_eq!(
        fires("30 2 * * *", NY, "2026-03-07T03:00:00", 3),
        [
            "2026-03-08T03:00:00-04:00",
            "2026-03-09T02:30:00-04:00",
            "2026-03-10T02:30:00-04:00"
        ]
    );
    let s = sched("30 2 * * *", NY);
    assert_eq!(
        s.next_after(utc("2026-03-08T06:00:00Z")),
        Some(utc("2026-03-08T07:00:00Z"))
    );
    // Asked exactly one second before the transition.
    assert_eq!(
        s.next_after(utc("2026-03-08T06:59:59Z")),
        Some(utc("2026-03-08T07:00:00Z"))
    );
    assert_eq!(
        s.next_after(utc("2026-03-08T07:00:00Z")),
        Some(at("2026-03-09T02:30:00", NY))
    );
}

#[test]
fn new_york_spring_forward_collapses_candidates_into_one_fire() {
    // 02:00 and 02:30 both map to 03:00 EDT, which 03:00 itself also is: one fire.
    assert_eq!(
        fires("0,30 2,3 * * *", NY, "2026-03-08T00:00:00", 3),
        [
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T03:30:00-04:00",
            "2026-03-09T02:00:00-04:00"
        ]
    );
}

#[test]
fn new_york_spring_forward_wildcard_job_skips_the_gap() {
    assert_eq!(
        fires("*/30 * * * *", NY, "2026-03-08T01:15:00", 3),
        [
            "2026-03-08T01:30:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T03:30:00-04:00"
        ]
    );
    // Minute wildcard, fixed hour 2: nothing on the gap day.
    assert_eq!(
        fires("* 2 * * *", NY, "2026-03-08T00:00:00", 1),
        ["2026-03-09T02:00:00-04:00"]
    );
    assert_eq!(
        fires("0 * * * *", NY, "2026-03-08T00:30:00", 2),
        ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"]
    );
}

#[test]
fn new_york_fall_back_fixed_job_fires_in_the_first_pass_only() {
    // 02:00 EDT falls back to 01:00 EST on 2026-11-01; 01:30 happens twice.
    assert_eq!(
        fires("30 1 * * *", NY, "2026-10-31T12:00:00", 2),
        ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
    );
    let s = sched("30 1 * * *", NY);
    assert_eq!(
        s.next_after(utc("2026-11-01T00:00:00Z")),
        Some(utc("2026-11-01T05:30:00Z"))
    );
    // Asked during the second pass (01:10 EST): the repeated 01:30 is not a new fire.
    assert_eq!(
        s.next_after(utc("2026-11-01T06:10:00Z")),
        Some(at("2026-11-02T01:30:00", NY))
    );
    assert_eq!(
        fires("0 1 * * *", NY, "2026-11-01T00:00:00", 2),
        ["2026-11-01T01:00:00-04:00", "2026-11-02T01:00:00-05:00"]
    );
}

#[test]
fn new_york_fall_back_wildcard_job_fires_in_both_passes() {
    assert_eq!(
        fires("*/30 * * * *", NY, "2026-11-01T00:45:00", 5),
        [
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T01:30:00-05:00",
            "2026-11-01T02:00:00-05:00",
        ]
    );
    let s = sched("*/30 * * * *", NY);
    let expected =
        ["05:00", "05:30", "06:00", "06:30", "07:00"].map(|t| utc(&format!("2026-11-01T{t}:00Z")));
    let mut t = utc("2026-11-01T04:45:00Z");
    for want in expected {
        t = s.next_after(t).expect("fires");
        assert_eq!(t, want, "got {}", show(t, "UTC"));
    }
    // Asked at 01:50 EDT: the next instant is 01:00 EST, earlier on the wall clock.
    assert_eq!(
        s.next_after(utc("2026-11-01T05:50:00Z")),
        Some(utc("2026-11-01T06:00:00Z"))
    );
}

#[test]
fn berlin_spring_forward() {
    // 02:00 CET jumps to 03:00 CEST on 2026-03-29.
    assert_eq!(
        fires("30 2 * * *", BERLIN, "2026-03-28T12:00:00", 2),
        ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]
    );
    assert_eq!(
        fires("15 * * * *", BERLIN, "2026-03-29T00:30:00", 3),
        [
            "2026-03-29T01:15:00+01:00",
            "2026-03-29T03:15:00+02:00",
            "2026-03-29T04:15:00+02:00"
        ]
    );
    assert_eq!(
        fires("0 30 2 * * *", BERLIN, "2026-03-29T00:00:00", 1),
        ["2026-03-29T03:00:00+02:00"]
    );
}

#[test]
fn berlin_fall_back() {
    // 03:00 CEST falls back to 02:00 CET on 2026-10-25; 02:xx happens twice.
    assert_eq!(
        fires("30 2 * * *", BERLIN, "2026-10-24T12:00:00", 2),
        ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
    );
    assert_eq!(
        fires("15 * * * *", BERLIN, "2026-10-25T00:30:00", 4),
        [
            "2026-10-25T01:15:00+02:00",
            "2026-10-25T02:15:00+02:00",
            "2026-10-25T02:15:00+01:00",
            "2026-10-25T03:15:00+01:00",
        ]
    );
    assert_eq!(
        fires("*/20 2 * * *", BERLIN, "2026-10-25T00:00:00", 7),
        [
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T02:20:00+02:00",
            "2026-10-25T02:40:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T02:20:00+01:00",
            "2026-10-25T02:40:00+01:00",
            "2026-10-26T02:00:00+01:00",
        ]
    );
}

#[test]
fn daily_macro_is_fixed_time_across_transitions() {
    // Midnight is never skipped in Berlin; the day after each change fires normally.
    assert_eq!(
        fires("@daily", BERLIN, "2026-03-28T12:00:00", 2),
        ["2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"]
    );
    // Havana springs forward at midnight (00:00 -> 01:00) on 2026-03-08.
    assert_eq!(
        fires("@daily", "America/Havana", "2026-03-07T12:00:00", 2),
        ["2026-03-08T01:00:00-04:00", "2026-03-09T00:00:00-04:00"]
    );
}

#[test]
fn half_hour_dst_shift() {
    // Lord Howe Island moves from +10:30 to +11:00 at 02:00 on 2026-10-04.
    let zone = "Australia/Lord_Howe";
    assert_eq!(
        fires("15 2 * * *", zone, "2026-10-03T12:00:00", 2),
        ["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"]
    );
    assert_eq!(
        fires("*/15 2 * * *", zone, "2026-10-04T00:00:00", 2),
        ["2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00"]
    );
}

#[test]
fn cron_tz_prefix_overrides_the_default_zone() {
    let s = sched("CRON_TZ=America/New_York 30 2 * * *", "UTC");
    assert_eq!(
        s.next_after(utc("2026-03-08T00:00:00Z")),
        Some(utc("2026-03-08T07:00:00Z"))
    );
    let s = sched("CRON_TZ=UTC 30 2 * * *", NY);
    assert_eq!(
        s.next_after(utc("2026-03-08T00:00:00Z")),
        Some(utc("2026-03-08T02:30:00Z"))
    );
}
