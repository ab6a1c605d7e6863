//! Parsing: accepted forms, macros, zones, and every kind of refusal with its message.

use super::{err, sched};
use crate::cron::CronExpr;

fn every(expr: &str) -> i64 {
    match CronExpr::parse(expr, "UTC") {
        Ok(CronExpr::Every(ms)) => ms,
        other => panic!("{expr:?}: expected @every, got {other:?}"),
    }
}

#[test]
fn every_macro_gives_a_period_in_ms() {
    assert_eq!(every("@every 90s"), 90_000);
    assert_eq!(every("@every 1h30m"), 5_400_000);
    assert_eq!(every("@every 500ms"), 500);
    assert_eq!(every("@every 2m"), 120_000);
    assert_eq!(every("@every 1d"), 86_400_000);
    assert_eq!(every("  @every   10s  "), 10_000);
    assert_eq!(every("CRON_TZ=Europe/Berlin @every 10s"), 10_000);
}

#[test]
fn every_macro_refuses_bad_durations() {
    assert!(
        err("@every 0s").contains("greater than zero"),
        "{}",
        err("@every 0s")
    );
    assert!(err("@every").contains("needs a duration"));
    assert!(err("@every 5x").contains("@every"));
    assert!(err("@every -5s").contains("@every"));
}

#[test]
fn fixed_time_follows_minute_and_hour_fields() {
    assert!(sched("30 2 * * *", "UTC").is_fixed_time());
    assert!(sched("0 30 2 * * *", "UTC").is_fixed_time());
    assert!(
        sched("*/10 30 2 * * *", "UTC").is_fixed_time(),
        "seconds do not count"
    );
    assert!(sched("@daily", "UTC").is_fixed_time());
    assert!(sched("@weekly", "UTC").is_fixed_time());
    assert!(!sched("@hourly", "UTC").is_fixed_time());
    assert!(!sched("*/30 * * * *", "UTC").is_fixed_time());
    assert!(!sched("0 */2 * * *", "UTC").is_fixed_time());
    assert!(!sched("* 2 * * *", "UTC").is_fixed_time());
}

#[test]
fn time_zone_comes_from_default_or_cron_tz_prefix() {
    assert_eq!(
        sched("0 9 * * *", "Europe/Berlin").timezone_name(),
        "Europe/Berlin"
    );
    let s = sched("CRON_TZ=America/New_York 0 9 * * *", "Europe/Berlin");
    assert_eq!(s.timezone_name(), "America/New_York");
    let s = sched("  CRON_TZ=Asia/Tokyo\t 0 9 * * *  ", "UTC");
    assert_eq!(s.timezone_name(), "Asia/Tokyo");
    assert_eq!(sched("@daily", "UTC").timezone_name(), "UTC");
}

#[test]
fn unknown_zones_are_refused() {
    let e = CronExpr::parse("0 9 * * *", "Mars/Olympus").expect_err("bad default zone");
    assert_eq!(
        e.0,
        r#"invalid crontab "0 9 * * *": unknown time zone "Mars/Olympus""#
    );
    assert!(err("CRON_TZ=Nowhere/Land 0 9 * * *").contains(r#"unknown time zone "Nowhere/Land""#));
    assert!(err("CRON_TZ=Europe/Berlin").contains("must be followed by a schedule"));
    assert!(err("CRON_TZ= 0 9 * * *").contains("needs a zone name"));
}

#[test]
fn whitespace_is_flexible() {
    sched("  0   9\t*  * \t * ", "UTC");
    sched("\n*/15 * * * * *\n", "UTC");
}

#[test]
fn empty_expression_is_refused() {
    assert_eq!(err(""), r#"invalid crontab "": empty expression"#);
    assert!(err("   \t ").contains("empty expression"));
}

#[test]
fn wrong_field_count_is_refused() {
    assert!(err("* * * *").ends_with("expected 5 or 6 fields, got 4"));
    assert!(err("0 0 0 * * * 2026").ends_with("expected 5 or 6 fields, got 7"));
    assert!(err("*").ends_with("expected 5 or 6 fields, got 1"));
}

#[test]
fn out_of_range_values_are_refused() {
    assert_eq!(
        err("61 * * * *"),
        r#"invalid crontab "61 * * * *": minute 61 out of range 0-59"#
    );
    assert!(err("0 24 * * *").ends_with("hour 24 out of range 0-23"));
    assert!(err("0 0 0 * *").ends_with("day-of-month 0 out of range 1-31"));
    assert!(err("0 0 32 * *").ends_with("day-of-month 32 out of range 1-31"));
    assert!(err("0 0 * 13 *").ends_with("month 13 out of range 1-12"));
    assert!(err("0 0 * 0 *").ends_with("month 0 out of range 1-12"));
    assert!(err("0 0 * * 8").ends_with("day-of-week 8 out of range 0-7"));
    assert!(err("60 * * * * *").ends_with("second 60 out of range 0-59"));
    assert!(err("0 0-99999999999 * * *").ends_with("hour 99999999999 out of range 0-23"));
}

#[test]
fn reversed_ranges_and_bad_steps_are_refused() {
    assert!(err("5-1 * * * *").ends_with(r#"minute range "5-1" is reversed"#));
    assert!(err("0 0 * * FRI-MON").ends_with(r#"day-of-week range "FRI-MON" is reversed"#));
    assert!(err("*/0 * * * *").ends_with("minute step 0 out of range 1-60"));
    assert!(err("0 */25 * * *").ends_with("hour step 25 out of range 1-24"));
    assert!(err("*/x * * * *").ends_with(r#"invalid minute step "x""#));
    assert!(err("1-5/ * * * *").ends_with(r#"invalid minute step """#));
    assert!(err("*/2/3 * * * *").contains("invalid minute step"));
}

#[test]
fn unknown_names_and_garbage_are_refused() {
    assert!(err("0 0 * FOO *").ends_with(r#"unknown month name "FOO""#));
    assert!(err("0 0 * * FUN").ends_with(r#"unknown weekday name "FUN""#));
    assert!(err("0 0 * MON *").ends_with(r#"unknown month name "MON""#));
    assert!(err("0 0 * * JAN").ends_with(r#"unknown weekday name "JAN""#));
    assert!(err("abc * * * *").ends_with(r#"invalid minute value "abc""#));
    assert!(err("0 0 * * 1x").ends_with(r#"invalid day-of-week value "1x""#));
    assert!(err("0 0 1,,2 * *").ends_with("day-of-month has an empty list item"));
    assert!(err("-5 * * * *").ends_with(r#"invalid minute value """#));
    assert!(err("0 0 1-2-3 * *").contains("day-of-month"));
    assert!(err("0 0 * * MONDAY").ends_with(r#"unknown weekday name "MONDAY""#));
    assert!(err("@reboot").ends_with(r#"unknown macro "@reboot""#));
    assert!(err("@daily 5").ends_with(r#"unexpected text "5" after @daily"#));
}

#[test]
fn special_characters_in_the_wrong_field_are_refused() {
    assert!(err("L * * * *").ends_with("'L' is only allowed in day-of-month and day-of-week"));
    assert!(err("0 0 * L *").ends_with("'L' is only allowed in day-of-month and day-of-week"));
    assert!(err("0 0 * * 5W").ends_with("'W' is only allowed in day-of-month"));
    assert!(err("0 LW * * *").ends_with("'W' is only allowed in day-of-month"));
    assert!(err("0 0 5#3 * *").ends_with("'#' is only allowed in day-of-week"));
    assert!(err("0 1#2 * * *").ends_with("'#' is only allowed in day-of-week"));
    assert!(err("? * * * *").ends_with("'?' is only allowed in day-of-month and day-of-week"));
    assert!(err("0 0 * * L").contains("needs a weekday before it"));
    assert!(err("0 0 5L * *").ends_with(r#"invalid day-of-month value "5L""#));
}

#[test]
fn malformed_day_specials_are_refused() {
    assert!(err("0 0 * * 5#6").ends_with("day-of-week 5#6: index 6 out of range 1-5"));
    assert!(err("0 0 * * 5#0").ends_with("day-of-week 5#0: index 0 out of range 1-5"));
    assert!(err("0 0 * * 9#2").ends_with("day-of-week 9 out of range 0-7"));
    assert!(err("0 0 * * 5#").ends_with(r#"invalid day-of-week value "5#""#));
    assert!(err("0 0 32W * *").ends_with("day-of-month 32W: day 32 out of range 1-31"));
    assert!(err("0 0 0W * *").ends_with("day-of-month 0W: day 0 out of range 1-31"));
    assert!(err("0 0 L-31 * *").ends_with("day-of-month L-31: offset 31 out of range 0-30"));
    assert!(err("0 0 L-x * *").ends_with(r#"invalid day-of-month value "L-x""#));
    assert!(err("0 0 L/2 * *").contains("a step cannot be combined with L or W"));
    assert!(err("0 0 15W/2 * *").contains("a step cannot be combined with L or W"));
    assert!(err("0 0 * * 5L/2").contains("a step cannot be combined with L or #"));
    assert!(err("0 0 * * 5#2/2").contains("a step cannot be combined with L or #"));
}

#[test]
fn expressions_that_can_never_fire_are_refused() {
    for expr in [
        "0 0 31 2 *",
        "0 0 30 2 *",
        "0 0 31 4,6,9,11 *",
        "0 0 L-29 2 *",
        "0 0 30,31 2 ?",
    ] {
        let e = err(expr);
        assert!(
            e.ends_with("it can never fire: no date matches its day and month fields"),
            "{e}"
        );
    }
    // Rare but possible: February 29th, and a fifth Monday in February (Feb 29th, Monday).
    sched("0 0 29 2 *", "UTC");
    sched("0 0 * 2 1#5", "UTC");
    // Both day fields restricted: either may match, so Friday rescues February 30th.
    sched("0 0 30 2 5", "UTC");
}

#[test]
fn names_and_specials_are_case_insensitive() {
    sched("0 9 * jan-Mar mon-FRI", "UTC");
    sched("0 0 l * *", "UTC");
    sched("0 0 lw * *", "UTC");
    sched("0 0 15w * *", "UTC");
    sched("0 0 * * fri#3", "UTC");
    sched("0 0 * * fril", "UTC");
    sched("@DAILY", "UTC");
}
