//! `POST /v1/api/preview`: the fire times a schedule would
//! produce — exact on loop grids, in time zones, across DST, by the Vixie day rules.

mod common;

use common::*;
use serde_json::{Value, json};

fn preview(server: &Server, prefix: &str, body: Value) -> Vec<i64> {
    let (status, resp) = server.post(&format!("{prefix}/preview"), &body);
    assert_eq!(status, 200, "preview {body}: {resp}");
    let times = resp["fire_times"]
        .as_array()
        .unwrap_or_else(|| panic!("no fire_times: {resp}"));
    times.iter().map(|t| t.as_i64().expect("unix ms")).collect()
}

#[test]
fn preview_loop_and_once_give_exact_times_and_create_nothing() {
    let server = Server::start(&[]);
    let s = now_s() + 600;
    for p in PREFIXES {
        let body = json!({"name": "pv.loop", "type": 2, "data": "", "loop_time": 10, "start_time": s, "count": 5});
        let want: Vec<i64> = (0..5).map(|k| s * 1000 + k * 10_000).collect();
        assert_eq!(
            preview(&server, p, body.clone()),
            want,
            "{p}: loop from now"
        );

        let mut from_first = body.clone();
        from_first["from"] = json!(s * 1000);
        let want: Vec<i64> = (1..6).map(|k| s * 1000 + k * 10_000).collect();
        assert_eq!(
            preview(&server, p, from_first),
            want,
            "{p}: strictly after `from`"
        );

        let once = json!({"name": "pv.once", "type": 1, "data": "", "start_time": s, "count": 5});
        assert_eq!(
            preview(&server, p, once.clone()),
            vec![s * 1000],
            "{p}: a once task fires once"
        );
        let mut after = once;
        after["from"] = json!(s * 1000 + 1);
        assert_eq!(
            preview(&server, p, after),
            Vec::<i64>::new(),
            "{p}: never again"
        );
    }
    for name in ["pv.loop", "pv.once"] {
        assert_eq!(
            server.get(&format!("/v1/api/query-task-by-name?name={name}")),
            (200, json!([]))
        );
    }
}

fn berlin_cron(crontab: &str, from_s: i64) -> Value {
    json!({"name": "pv.cron", "type": 3, "data": "", "crontab": crontab,
           "timezone": "Europe/Berlin", "count": 3, "from": from_s * 1000})
}

/// Unix seconds of 00:00 UTC on the last Sunday of a 31-day month.
fn last_sunday(y: i64, m: i64) -> i64 {
    let mut day = unix_utc(y, m, 31, 0, 0);
    while (day / 86_400 + 4) % 7 != 0 {
        day -= 86_400;
    }
    day
}

#[test]
fn preview_crontab_in_a_timezone_across_dst() {
    let server = Server::start(&[]);
    // Next year's DST changes, so that `from` lies in the future.
    let y: i64 = utc_minute(now_s())[..4].parse::<i64>().expect("year") + 1;
    let (day, hour) = (86_400, 3600);
    for p in PREFIXES {
        // Winter: 03:00 CET is 02:00 UTC.
        let jan = unix_utc(y, 1, 10, 0, 0);
        let got = preview(&server, p, berlin_cron("0 3 * * *", jan));
        let want: Vec<i64> = (0..3).map(|k| (jan + k * day + 2 * hour) * 1000).collect();
        assert_eq!(got, want, "{p}: winter");
        // Summer: 03:00 CEST is 01:00 UTC from the spring-forward day on.
        let spring = last_sunday(y, 3);
        let got = preview(&server, p, berlin_cron("0 3 * * *", spring - day));
        let want = vec![
            (spring - day + 2 * hour) * 1000,
            (spring + hour) * 1000,
            (spring + day + hour) * 1000,
        ];
        assert_eq!(got, want, "{p}: 03:00 across spring-forward");
        // 02:30 does not exist on that day: a fixed-time job fires at 03:00 CEST instead.
        let got = preview(&server, p, berlin_cron("30 2 * * *", spring - day));
        let want = vec![
            (spring - day + 90 * 60) * 1000,
            (spring + hour) * 1000,
            (spring + day + 30 * 60) * 1000,
        ];
        assert_eq!(got, want, "{p}: 02:30 on the spring-forward day");
        // 02:30 happens twice on the fall-back day: a fixed-time job fires once, at the first.
        let fall = last_sunday(y, 10);
        let got = preview(&server, p, berlin_cron("30 2 * * *", fall - day));
        let want = vec![
            (fall - day + 30 * 60) * 1000,
            (fall + 30 * 60) * 1000,
            (fall + day + 90 * 60) * 1000,
        ];
        assert_eq!(got, want, "{p}: 02:30 on the fall-back day");
    }
}

/// Day of month and weekday (0 = Sunday) of a unix time, in UTC.
fn dom_dow(unix_s: i64) -> (i64, i64) {
    let dom = utc_minute(unix_s)[8..10].parse().expect("day of month");
    (dom, (unix_s.div_euclid(86_400) + 4) % 7)
}

/// Whether a day (day of month, weekday with 0 = Sunday) should fire.
type DayRule = fn(i64, i64) -> bool;

#[test]
fn preview_crontab_day_fields_follow_vixie_cron() {
    let server = Server::start(&[]);
    let y: i64 = utc_minute(now_s())[..4].parse::<i64>().expect("year") + 1;
    let from = unix_utc(y, 1, 1, 0, 0) - 1;
    let cases: [(&str, DayRule); 3] = [
        ("0 0 13 * 5", |dom, dow| dom == 13 || dow == 5), // both restricted: either matches
        ("0 0 */2 * 5", |dom, dow| dom % 2 == 1 && dow == 5), // `*…` is unrestricted: both must
        ("0 0 * * 7", |_, dow| dow == 0),                 // 7 is Sunday
    ];
    for (crontab, matches) in cases {
        let want: Vec<i64> = (0..400)
            .map(|d| from + 1 + d * 86_400)
            .filter(|&day| {
                let (dom, dow) = dom_dow(day);
                matches(dom, dow)
            })
            .take(5)
            .map(|day| day * 1000)
            .collect();
        let body = json!({"name": "pv.days", "type": 3, "data": "", "crontab": crontab, "timezone": "UTC",
                          "count": 5, "from": from * 1000});
        assert_eq!(preview(&server, "/v1/api", body), want, "{crontab}");
    }
}

#[test]
fn preview_from_may_be_in_the_past() {
    let server = Server::start(&[]);
    let from = unix_utc(2020, 1, 10, 0, 0);
    let got = preview(&server, "/v1/api", berlin_cron("0 3 * * *", from));
    let want: Vec<i64> = (0..3)
        .map(|k| (from + k * 86_400 + 2 * 3600) * 1000)
        .collect();
    assert_eq!(got, want, "the next fires strictly after a `from` in 2020");
}

#[test]
fn preview_count_must_be_between_1_and_1000() {
    let server = Server::start(&[]);
    let body = |count: i64| json!({"name": "pv.count", "type": 2, "data": "", "loop_time": 1, "count": count});
    for p in PREFIXES {
        for bad in [0, -1, 1001] {
            let (status, resp) = server.post(&format!("{p}/preview"), &body(bad));
            assert_error(status, &resp, 400, &format!("{p}: count {bad}"));
        }
        assert_eq!(preview(&server, p, body(1)).len(), 1);
        let times = preview(&server, p, body(1000));
        assert_eq!(times.len(), 1000);
        assert!(
            times.windows(2).all(|w| w[1] - w[0] == 1000),
            "{p}: a 1 s grid"
        );
    }
}

#[test]
fn preview_of_every_starts_from_from() {
    let server = Server::start(&[]);
    let from = (now_s() + 86_400) * 1000 + 123;
    let body = json!({"name": "pv.every", "type": 3, "data": "", "crontab": "@every 1h",
                      "count": 3, "from": from});
    let want: Vec<i64> = (1..4).map(|k| from + k * 3_600_000).collect();
    assert_eq!(preview(&server, "/v1/api", body), want);
    let past = unix_utc(2020, 1, 10, 0, 0) * 1000;
    let body = json!({"name": "pv.every", "type": 3, "data": "", "crontab": "@every 90s",
                      "count": 2, "from": past});
    assert_eq!(
        preview(&server, "/v1/api", body),
        vec![past + 90_000, past + 180_000]
    );
}

#[test]
fn preview_of_a_long_loop_far_ahead_is_exact() {
    let server = Server::start(&[]);
    let start = now_s() + 60;
    // Fire k is at start + k s; with 50,000,000 fires the last is at k = 49,999,999.
    let last = (start + 49_999_999) * 1000;
    let body = |from: i64| {
        json!({"name": "pv.long", "type": 2, "data": "", "loop_time": 1, "start_time": start,
               "loop_count": 50_000_000, "count": 5, "from": from})
    };
    assert_eq!(
        preview(&server, "/v1/api", body(last - 1500)),
        vec![last - 1000, last]
    );
    assert_eq!(preview(&server, "/v1/api", body(last)), Vec::<i64>::new());
    let window = json!({"name": "pv.long", "type": 2, "data": "", "loop_time": 10,
                        "start_time": start, "end_time": start + 40_000_000,
                        "count": 5, "from": (start + 39_999_975) * 1000});
    assert_eq!(
        preview(&server, "/v1/api", window),
        vec![
            (start + 39_999_980) * 1000,
            (start + 39_999_990) * 1000,
            (start + 40_000_000) * 1000
        ]
    );
}
