//! Operator-facing behaviour: bearer-token auth, metrics, and per-minute stats with alerts.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[test]
fn a_configured_token_guards_the_api_but_not_health() {
    let server = Server::start(&["--auth-token", "s3cret"]);
    let http = reqwest::blocking::Client::new();
    let add = json!({"name": "guarded", "type": 1, "data": "x"});
    for prefix in PREFIXES {
        let resp = http
            .post(server.url(&format!("{prefix}/task")))
            .json(&add)
            .send()
            .expect("send");
        assert_eq!(resp.status().as_u16(), 401, "{prefix} without a token");
        let body: serde_json::Value = resp.json().expect("json error body");
        assert_error_shape(&body, "401");
        let wrong = http
            .post(server.url(&format!("{prefix}/task")))
            .bearer_auth("nope")
            .json(&add)
            .send()
            .expect("send");
        assert_eq!(wrong.status().as_u16(), 401, "{prefix} with a wrong token");
    }
    let ok = http
        .post(server.url("/v1/api/task"))
        .bearer_auth("s3cret")
        .json(&add)
        .send()
        .expect("send");
    assert_eq!(ok.status().as_u16(), 200);
    let health = http.get(server.url("/healthz")).send().expect("send");
    assert_eq!(health.status().as_u16(), 200);
}

#[test]
fn metrics_are_prometheus_text_with_queue_and_task_figures() {
    let server = Server::start(&[]);
    server.add_task(json!({"name": "m", "type": 1, "data": "1", "start_time": now_s() + 3600}));
    let text = reqwest::blocking::get(server.url("/metrics"))
        .expect("metrics")
        .text()
        .expect("text");
    assert!(
        text.contains("# TYPE taskcenter_tasks_scheduled gauge"),
        "{text}"
    );
    assert!(text.contains("taskcenter_tasks_scheduled 1"), "{text}");
    assert!(text.contains("taskcenter_dead_letters 0"), "{text}");
}

#[test]
fn stat_counts_fires_per_name_and_alerts_cross_the_per_minute_thresholds() {
    let server = Server::start_with_config("name_alert_count = 2\ntotal_alert_count = 3\n", &[]);
    // The counters are per calendar minute: keep all four fires inside one.
    if now_ms() % 60_000 > 45_000 {
        sleep_until_ms(now_ms() - now_ms() % 60_000 + 60_000);
    }
    for i in 0..3 {
        server.add_task(json!({"name": "hot", "type": 1, "data": format!("{i}")}));
    }
    server.add_task(json!({"name": "cold", "type": 1, "data": "c"}));
    wait_for(Duration::from_secs(5), "stat to count 4 fires", || {
        let (status, stat) = server.get("/v1/api/task/stat");
        status == 200 && stat["total"].as_i64() == Some(4)
    });
    let (_, stat) = server.get("/v1/api/task/stat");
    assert_eq!(stat["names"]["hot"], 3);
    assert_eq!(stat["names"]["cold"], 1);
    let log = server.log_tail(200);
    assert!(log.contains("NAME_TOO_MANY_TASK"), "{log}");
    assert!(log.contains("TOTAL_TOO_MANY_TASK"), "{log}");
    let metrics = reqwest::blocking::get(server.url("/metrics"))
        .expect("metrics")
        .text()
        .expect("text");
    assert!(metrics.contains("taskcenter_alerts_total 2"), "{metrics}");
}

#[test]
fn history_past_the_retention_is_forgotten_and_open_messages_are_kept() {
    let server = Server::start(&["--retention", "1s"]);
    server.subscribe("ret", "ret");
    let done = server.add_task(json!({"name": "ret", "type": 1, "data": "acked"}));
    // No group subscribes to this tag: its message waits, so its history must stay.
    let open = server.add_task(json!({"name": "ret.open", "type": 1, "data": "waiting"}));
    let msgs = server.consume("ret", "ret", 10, 5_000);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    server.ack("ret", &msgids(&msgs));
    assert_eq!(
        server.task(&done).0,
        200,
        "kept until the retention has passed"
    );

    wait_for(
        Duration::from_secs(15),
        "the acked task to be forgotten",
        || server.task(&done).0 == 404,
    );
    let (status, history) = server.get(&format!("/v1/api/task-history?taskid={done}"));
    assert!(
        status == 404 || history["fires"].as_array().is_some_and(Vec::is_empty),
        "{status} {history}"
    );
    let (status, history) = server.get(&format!("/v1/api/task-history?taskid={open}"));
    assert_eq!(status, 200, "{history}");
    assert_eq!(
        history["fires"].as_array().map(Vec::len),
        Some(1),
        "a fire whose message nobody consumed yet is kept: {history}"
    );
    assert_eq!(server.task(&open).0, 200);
}

#[test]
fn metrics_count_fires_retries_nacks_lateness_and_api_latency() {
    let server = Server::start(&[]);
    server.subscribe("met", "met");
    server.add_task(json!({"name": "met", "type": 1, "data": "m"}));
    let first = server.consume("met", "met", 10, 5_000);
    assert_eq!(first.len(), 1, "{first:?}");
    server.nack("met", &msgids(&first), Some(0));
    let again = server.consume("met", "met", 10, 5_000);
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["attempt"], json!(2));
    server.ack("met", &msgids(&again));

    let text = reqwest::blocking::get(server.url("/metrics"))
        .expect("metrics")
        .text()
        .expect("text");
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
            .parse()
            .unwrap_or_else(|e| panic!("{series}: {e}"))
    };
    assert_eq!(value("taskcenter_fires_total"), 1.0);
    assert_eq!(value("taskcenter_deliveries_total"), 2.0);
    assert_eq!(value("taskcenter_retries_total"), 1.0);
    assert_eq!(value("taskcenter_nacks_total"), 1.0);
    assert_eq!(value("taskcenter_publish_errors_total"), 0.0);
    assert_eq!(value("taskcenter_delivery_lateness_seconds_count"), 1.0);
    assert!(
        text.contains("# TYPE taskcenter_delivery_lateness_seconds histogram"),
        "{text}"
    );
    // add, subscribe, nack, ack at least; the two consume long-polls are left out.
    assert!(value("taskcenter_api_request_duration_seconds_count") >= 3.0);
    assert_eq!(
        value("taskcenter_api_request_duration_seconds_bucket{le=\"+Inf\"}"),
        value("taskcenter_api_request_duration_seconds_count")
    );
}

#[test]
fn a_trigger_by_hand_counts_as_a_fire_like_a_scheduled_one() {
    let server = Server::start(&[]);
    let later = now_s() + 3_600;
    let id =
        server.add_task(json!({"name": "byhand", "type": 1, "data": "h", "start_time": later}));
    let (status, body) = server.post("/v1/api/trigger-task", &json!({"taskid": id}));
    assert_eq!(status, 200, "{body}");
    let (_, stat) = server.get("/v1/api/task/stat");
    assert_eq!(stat["names"]["byhand"], json!(1), "{stat}");
    let text = reqwest::blocking::get(server.url("/metrics"))
        .expect("metrics")
        .text()
        .expect("text");
    assert!(
        text.lines().any(|l| l == "taskcenter_fires_total 1"),
        "{text}"
    );
}
