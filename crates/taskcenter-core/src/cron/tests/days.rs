//! The day fields: cronie's OR/AND rule, `?`, and Quartz's `L`, `L-n`, `LW`, `nW`, `dL`, `d#k`.

use super::{fire_dates, sched};

const JAN_1: &str = "2026-01-01T00:00:00";

#[test]
fn both_day_fields_restricted_means_either_matches() {
    // Every 13th and every Friday (2026-01-13 is a Tuesday).
    assert_eq!(
        fire_dates("0 0 13 * 5", "UTC", JAN_1, 6),
        [
            "2026-01-02",
            "2026-01-09",
            "2026-01-13",
            "2026-01-16",
            "2026-01-23",
            "2026-01-30"
        ]
    );
    // The classic surprise: days 1-3 or any Monday.
    assert_eq!(
        fire_dates("0 0 1-3 * MON", "UTC", JAN_1, 5),
        [
            "2026-01-02",
            "2026-01-03",
            "2026-01-05",
            "2026-01-12",
            "2026-01-19"
        ]
    );
}

#[test]
fn a_star_day_field_means_both_must_match() {
    // `*/2` counts as unrestricted: odd days that are also Fridays.
    assert_eq!(
        fire_dates("0 0 */2 * 5", "UTC", JAN_1, 4),
        ["2026-01-09", "2026-01-23", "2026-02-13", "2026-02-27"]
    );
    // Plain `*` in one field: the other field alone decides.
    assert_eq!(
        fire_dates("0 0 * * 5", "UTC", JAN_1, 2),
        ["2026-01-02", "2026-01-09"]
    );
    assert_eq!(
        fire_dates("0 0 13 * *", "UTC", JAN_1, 2),
        ["2026-01-13", "2026-02-13"]
    );
    // A weekday step starting with `*` also counts as unrestricted.
    assert_eq!(fire_dates("0 0 13 * */7", "UTC", JAN_1, 1), ["2026-09-13"]);
}

#[test]
fn question_mark_means_star() {
    assert_eq!(
        fire_dates("0 0 ? * MON", "UTC", JAN_1, 2),
        ["2026-01-05", "2026-01-12"]
    );
    assert_eq!(
        fire_dates("0 0 13 * ?", "UTC", JAN_1, 2),
        ["2026-01-13", "2026-02-13"]
    );
}

#[test]
fn l_is_the_last_day_of_the_month() {
    assert_eq!(
        fire_dates("0 0 L * *", "UTC", JAN_1, 4),
        ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]
    );
    assert_eq!(
        fire_dates("0 0 L 2 *", "UTC", "2027-06-01T00:00:00", 2),
        ["2028-02-29", "2029-02-28"]
    );
}

#[test]
fn l_minus_n_counts_back_from_the_last_day() {
    assert_eq!(
        fire_dates("0 0 L-2 * *", "UTC", JAN_1, 3),
        ["2026-01-29", "2026-02-26", "2026-03-29"]
    );
    assert_eq!(
        fire_dates("0 0 L-0,1 * *", "UTC", JAN_1, 3),
        ["2026-01-31", "2026-02-01", "2026-02-28"]
    );
}

#[test]
fn lw_is_the_last_weekday_of_the_month() {
    // Jan 31 is a Saturday, Feb 28 a Saturday, Mar 31 a Tuesday, May 31 a Sunday.
    assert_eq!(
        fire_dates("0 0 LW * *", "UTC", JAN_1, 5),
        [
            "2026-01-30",
            "2026-02-27",
            "2026-03-31",
            "2026-04-30",
            "2026-05-29"
        ]
    );
}

#[test]
fn nearest_weekday_to_the_15th() {
    // Jan 15 Thu, Feb 15 Sun -> Mon 16, Mar 15 Sun -> Mon 16, Apr 15 Wed, May 15 Fri,
    // Jun 15 Mon, Jul 15 Wed, Aug 15 Sat -> Fri 14.
    assert_eq!(
        fire_dates("0 0 15W * *", "UTC", JAN_1, 8),
        [
            "2026-01-15",
            "2026-02-16",
            "2026-03-16",
            "2026-04-15",
            "2026-05-15",
            "2026-06-15",
            "2026-07-15",
            "2026-08-14",
        ]
    );
}

#[test]
fn nearest_weekday_never_leaves_the_month() {
    // Aug 1 2026 is a Saturday: 1W is Monday the 3rd, not Friday July 31st.
    assert_eq!(fire_dates("0 0 1W 8 *", "UTC", JAN_1, 1), ["2026-08-03"]);
    // Feb 1 2026 is a Sunday: Monday the 2nd.
    assert_eq!(fire_dates("0 0 1W 2 *", "UTC", JAN_1, 1), ["2026-02-02"]);
    // May 31 2026 is a Sunday and the last day: back to Friday the 29th.
    assert_eq!(fire_dates("0 0 31W 5 *", "UTC", JAN_1, 1), ["2026-05-29"]);
    // Oct 31 2026 is a Saturday: Friday the 30th.
    assert_eq!(fire_dates("0 0 31W 10 *", "UTC", JAN_1, 1), ["2026-10-30"]);
}

#[test]
fn nearest_weekday_beyond_a_short_month_is_clamped_to_its_last_day() {
    // 30W: Feb 28 2026 is a Saturday -> Fri 27; Feb 28 2027 a Sunday -> Fri 26;
    // Feb 29 2028 a Tuesday.
    assert_eq!(
        fire_dates("0 0 30W 2 *", "UTC", JAN_1, 3),
        ["2026-02-27", "2027-02-26", "2028-02-29"]
    );
    // 31W in a 30-day month: Apr 30 2026 is a Thursday.
    assert_eq!(fire_dates("0 0 31W 4 *", "UTC", JAN_1, 1), ["2026-04-30"]);
}

#[test]
fn weekday_l_is_the_last_such_weekday() {
    let last_fridays = ["2026-01-30", "2026-02-27", "2026-03-27", "2026-04-24"];
    assert_eq!(fire_dates("0 0 * * 5L", "UTC", JAN_1, 4), last_fridays);
    assert_eq!(fire_dates("0 0 ? * FRIL", "UTC", JAN_1, 4), last_fridays);
    // Sunday as 7L; May 31 2026 is itself the last Sunday.
    assert_eq!(fire_dates("0 0 * 5 7L", "UTC", JAN_1, 1), ["2026-05-31"]);
}

#[test]
fn hash_is_the_nth_weekday() {
    let third_fridays = ["2026-01-16", "2026-02-20", "2026-03-20", "2026-04-17"];
    assert_eq!(fire_dates("0 0 * * 5#3", "UTC", JAN_1, 4), third_fridays);
    assert_eq!(fire_dates("0 0 * * FRI#3", "UTC", JAN_1, 4), third_fridays);
    // First Monday and a fifth Monday only where it exists.
    assert_eq!(
        fire_dates("0 0 * * 1#1", "UTC", JAN_1, 2),
        ["2026-01-05", "2026-02-02"]
    );
    assert_eq!(
        fire_dates("0 0 * * MON#5", "UTC", JAN_1, 3),
        ["2026-03-30", "2026-06-29", "2026-08-31"]
    );
    // Lists may mix kinds: first and third Friday.
    assert_eq!(
        fire_dates("0 0 * * 5#1,5#3", "UTC", JAN_1, 3),
        ["2026-01-02", "2026-01-16", "2026-02-06"]
    );
}

#[test]
fn special_days_follow_the_or_rule_too() {
    // Last day of the month or any Friday in February 2026.
    assert_eq!(
        fire_dates("0 0 L 2 FRI", "UTC", JAN_1, 5),
        [
            "2026-02-06",
            "2026-02-13",
            "2026-02-20",
            "2026-02-27",
            "2026-02-28"
        ]
    );
}

#[test]
fn schedules_are_cloneable_and_reusable() {
    let s = sched("0 0 * * 5#3", "UTC");
    let copy = s.clone();
    assert_eq!(s.next_after(0), copy.next_after(0));
    assert!(format!("{s:?}").contains("UTC"));
}
