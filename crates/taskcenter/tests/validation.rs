//! The input rules of the task API: every rejected input answers the right status and the
//! `{"err": int, "msg": str}` body; wrong types name the field.

mod common;

use common::*;
use serde_json::{Value, json};

/// A valid once task; tests overwrite or remove fields.
fn valid() -> Value {
    json!({"name": "v.ok", "type": 1, "data": "x", "start_time": now_s() + 3600})
}

fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

fn without(mut body: Value, field: &str) -> Value {
    body.as_object_mut().expect("object").remove(field);
    body
}

fn expect_status(server: &Server, body: &Value, status: u16, why: &str) {
    let (got, resp) = server.post("/v1/api/task", body);
    assert_error(got, &resp, status, &format!("{why} ({})", short(body)));
}

/// 400 and the message names `field`.
fn expect_400_naming(server: &Server, path: &str, body: &Value, field: &str) {
    let (status, resp) = server.post(path, body);
    assert_error(status, &resp, 400, &format!("{path} {}", short(body)));
    let msg = resp["msg"].as_str().unwrap_or_default();
    assert!(
        msg.contains(field),
        "the message of {} should name {field:?}: {msg:?}",
        short(body)
    );
}

#[test]
fn name_rules() {
    let server = Server::start(&[]);
    for bad in [
        String::new(),
        "a".repeat(129),
        "a b".into(),
        "a|b".into(),
        "a*".into(),
        "*".into(),
    ] {
        expect_status(
            &server,
            &with(valid(), "name", json!(bad)),
            400,
            &format!("name {bad:?}"),
        );
    }
    for good in ["a".repeat(128), "Az09_-.:/".into(), "x".into()] {
        let id = server.add_task(with(valid(), "name", json!(good)));
        assert_eq!(server.task_ok(&id)["name"], json!(good));
    }
    expect_400_naming(&server, "/v1/api/task", &without(valid(), "name"), "name");
    expect_400_naming(
        &server,
        "/v1/api/task",
        &with(valid(), "name", json!(5)),
        "name",
    );
}

#[test]
fn type_rules() {
    let server = Server::start(&[]);
    for bad in [0, 4, -1, 99] {
        expect_status(
            &server,
            &with(valid(), "type", json!(bad)),
            400,
            &format!("type {bad}"),
        );
    }
    expect_400_naming(
        &server,
        "/v1/api/task",
        &with(valid(), "type", json!("1")),
        "type",
    );
    expect_400_naming(&server, "/v1/api/task", &without(valid(), "type"), "type");
}

#[test]
fn data_rules_and_size_limit() {
    let server = Server::start(&[]);
    expect_400_naming(&server, "/v1/api/task", &without(valid(), "data"), "data");
    server.add_task(with(valid(), "data", json!("")));

    let exact = "x".repeat(256 * 1024);
    let id = server.add_task(with(valid(), "data", json!(exact)));
    assert_eq!(
        server.task_ok(&id)["data"].as_str().map(str::len),
        Some(256 * 1024)
    );
    // Exactly 256 KiB of characters that JSON must escape: the body is twice as big.
    let quotes = "\"".repeat(256 * 1024);
    let id = server.add_task(with(valid(), "data", json!(quotes)));
    assert_eq!(server.task_ok(&id)["data"], json!(quotes));

    expect_status(
        &server,
        &with(valid(), "data", json!("x".repeat(256 * 1024 + 1))),
        413,
        "data of 256 KiB + 1",
    );
}

#[test]
fn oversized_bodies_are_413() {
    let server = Server::start(&[]);
    let junk = "j".repeat(16 * 1024 * 1024);
    for (what, body) in [
        ("a 16 MiB body", with(valid(), "ignored_field", json!(junk))),
        ("16 MiB of data", with(valid(), "data", json!(junk))),
    ] {
        // The answer must arrive even though the server stops reading: no reset, no broken pipe.
        let (status, resp) = server
            .try_post("/v1/api/task", &body)
            .unwrap_or_else(|e| panic!("{what}: no 413 answer but {e}"));
        assert_error(status, &resp, 413, what);
    }
    assert_eq!(server.get("/healthz").0, 200);
}

#[test]
fn max_data_bytes_is_configurable() {
    let server = Server::start_with_config("max_data_bytes = 1024\n", &[]);
    server.add_task(with(valid(), "data", json!("y".repeat(1024))));
    expect_status(
        &server,
        &with(valid(), "data", json!("y".repeat(1025))),
        413,
        "data over max_data_bytes",
    );
}

#[test]
fn crontab_rules() {
    let server = Server::start(&[]);
    let cron = |expr: Value| json!({"name": "v.cron", "type": 3, "data": "x", "crontab": expr});
    expect_400_naming(
        &server,
        "/v1/api/task",
        &json!({"name": "v.cron", "type": 3, "data": "x"}),
        "crontab",
    );
    for bad in [
        "",
        "not a cron",
        "61 * * * *",
        "* * * *",
        "0 0 31 2 *",
        "0 0 30 2 *",
    ] {
        expect_status(&server, &cron(json!(bad)), 400, &format!("crontab {bad:?}"));
    }
    expect_400_naming(&server, "/v1/api/task", &cron(json!(5)), "crontab");
    server.add_task(cron(json!("*/5 * * * *")));
    server.add_task(cron(json!("@hourly")));
}

#[test]
fn loop_rules() {
    let server = Server::start(&[]);
    let looped = json!({"name": "v.loop", "type": 2, "data": "x", "loop_time": 5});
    expect_400_naming(
        &server,
        "/v1/api/task",
        &without(looped.clone(), "loop_time"),
        "loop_time",
    );
    for bad in [0, -5] {
        expect_status(
            &server,
            &with(looped.clone(), "loop_time", json!(bad)),
            400,
            &format!("loop_time {bad}"),
        );
    }
    expect_status(
        &server,
        &with(looped.clone(), "loop_count", json!(-1)),
        400,
        "loop_count -1",
    );
    server.add_task(with(looped.clone(), "loop_count", json!(0)));
    server.add_task(with(looped, "loop_count", json!(3)));
}

#[test]
fn time_window_rules() {
    let server = Server::start(&[]);
    let now = now_s();
    let looped = json!({"name": "v.window", "type": 2, "data": "x", "loop_time": 5});
    expect_status(
        &server,
        &with(looped.clone(), "end_time", json!(now - 10)),
        400,
        "end_time in the past",
    );
    let starting = with(looped.clone(), "start_time", json!(now + 100));
    for end in [now + 100, now + 50] {
        expect_status(
            &server,
            &with(starting.clone(), "end_time", json!(end)),
            400,
            "end_time <= start_time",
        );
    }
    server.add_task(with(starting, "end_time", json!(now + 200)));
    // A once task with start_time in the past fires immediately: accepted.
    server.add_task(json!({"name": "v.past", "type": 1, "data": "x", "start_time": now - 60}));
}

#[test]
fn wrong_json_types_are_400_naming_the_field() {
    let server = Server::start(&[]);
    let looped = json!({"name": "v.types", "type": 2, "data": "x", "loop_time": 5});
    let cases = [
        ("loop_time", json!("5")),
        ("ack", json!("yes")),
        ("data", json!(5)),
        ("name", json!(["a"])),
        ("start_time", json!("soon")),
        ("end_time", json!(true)),
        ("max_runtime", json!("60")),
        ("loop_count", json!("3")),
        ("crontab", json!(7)),
        ("timezone", json!(5)),
    ];
    for (field, value) in cases {
        expect_400_naming(
            &server,
            "/v1/api/task",
            &with(looped.clone(), field, value),
            field,
        );
    }
    expect_status(
        &server,
        &with(valid(), "timezone", json!("Mars/Olympus_Mons")),
        400,
        "unknown time zone",
    );
}

#[test]
fn malformed_and_non_json_bodies() {
    let server = Server::start(&[]);
    for bad in [
        &b"{\"name\": \"x\", "[..],
        b"{",
        b"[1,2",
        b"{\"name\": }",
        b"",
        b"nul",
    ] {
        let (status, resp) = server
            .post_raw("/v1/api/task", bad.to_vec(), Some("application/json"))
            .expect("an answer");
        assert_error(
            status,
            &resp,
            400,
            &format!("malformed JSON {:?}", String::from_utf8_lossy(bad)),
        );
    }
    let (status, resp) = server
        .post_raw(
            "/v1/api/task",
            b"hello, not json".to_vec(),
            Some("text/plain"),
        )
        .expect("an answer");
    assert_error(status, &resp, 415, "text/plain body that is not JSON");
}

#[test]
fn unknown_fields_are_ignored() {
    let server = Server::start(&[]);
    let body = json!({"name": "v.typo", "type": 2, "data": "x", "loop_time": 60,
                      "loop_count:": 3, "whatever": {"nested": [1, 2]}, "_id": 42});
    let id = server.add_task(body);
    let task = server.task_ok(&id);
    assert!(
        task["loop_count"] == json!(0) || task["loop_count"].is_null(),
        "the typo is not loop_count: {task}"
    );
}

#[test]
fn delete_bodies_are_checked() {
    let server = Server::start(&[]);
    for body in [json!({"ids": []}), json!({})] {
        let (status, resp) = server.post("/v1/api/delete-task", &body);
        assert_error(status, &resp, 400, &format!("delete-task {body}"));
    }
    expect_400_naming(
        &server,
        "/v1/api/delete-task",
        &json!({"ids": "abc"}),
        "ids",
    );
    for body in [json!({"name": ""}), json!({})] {
        let (status, resp) = server.post("/v1/api/delete-task-by-name", &body);
        assert_error(status, &resp, 400, &format!("delete-task-by-name {body}"));
    }
    expect_400_naming(
        &server,
        "/v1/api/delete-task-by-name",
        &json!({"name": 5}),
        "name",
    );
}

#[test]
fn query_by_id_parameter_rules() {
    let server = Server::start(&[]);
    for path in [
        "/v1/api/query-task-by-id",
        "/v1/api/query-task-by-id?taskid=",
        "/v1/api/query-task-by-id?other=1",
    ] {
        let (status, resp) = server.get(path);
        assert_error(status, &resp, 400, path);
    }
    for bad in [
        "xyz",
        "zzzzzzzzzzzzzzzzzzzzzzzz",
        "0123456789abcdef01234567ff",
    ] {
        let (status, resp) = server.task(bad);
        assert_error(status, &resp, 400, &format!("malformed id {bad}"));
    }
    let (status, resp) = server.task("ffffffffffffffffffffffff");
    assert_error(status, &resp, 404, "unknown id");
    let id = server.add_task(valid());
    server.post("/v1/api/delete-task", &json!({"ids": [id]}));
    let (status, resp) = server.task(&id);
    assert_error(status, &resp, 404, "deleted id");
}

#[test]
fn consume_api_wrong_types_are_400_naming_the_field() {
    let server = Server::start(&[]);
    let consume = json!({"group": "g", "tags": "t", "max": 5, "wait_ms": 0});
    for (field, value) in [
        ("max", json!("5")),
        ("wait_ms", json!("1")),
        ("group", json!(1)),
        ("tags", json!([])),
    ] {
        expect_400_naming(
            &server,
            "/v1/api/consume",
            &with(consume.clone(), field, value),
            field,
        );
    }
    expect_400_naming(
        &server,
        "/v1/api/ack",
        &json!({"group": "g", "msgids": "abc"}),
        "msgids",
    );
    expect_400_naming(
        &server,
        "/v1/api/nack",
        &json!({"group": "g", "msgids": ["m1"], "delay_ms": "1"}),
        "delay_ms",
    );
}

#[test]
fn one_minimum_interval_for_loops_every_and_crontabs() {
    let server = Server::start(&[]);
    let cron = |expr: &str| json!({"name": "v.min", "type": 3, "data": expr, "crontab": expr});
    for fast in ["@every 1ms", "@every 500ms"] {
        expect_400_naming(&server, "/v1/api/task", &cron(fast), "crontab");
    }
    server.add_task(cron("@every 1s"));
    server.add_task(cron("* * * * * *"));
    server.add_task(json!({"name": "v.min", "type": 2, "data": "l", "loop_time": 1}));

    let strict = Server::start(&["--min-interval", "10s"]);
    let lp = json!({"name": "v.min", "type": 2, "data": "l", "loop_time": 5});
    expect_400_naming(&strict, "/v1/api/task", &lp, "loop_time");
    expect_400_naming(&strict, "/v1/api/task", &cron("*/5 * * * * *"), "crontab");
    expect_400_naming(&strict, "/v1/api/task", &cron("@every 9s"), "crontab");
    strict.add_task(cron("*/10 * * * * *"));
    strict.add_task(cron("@every 10s"));

    let from_file = Server::start_with_config("min_interval = \"1m\"\n", &[]);
    expect_400_naming(&from_file, "/v1/api/task", &cron("@every 30s"), "crontab");
    from_file.add_task(cron("* * * * *"));
}

#[test]
fn times_in_milliseconds_are_refused_as_not_unix_seconds() {
    let server = Server::start(&[]);
    for field in ["start_time", "end_time"] {
        let body = with(valid(), field, json!(1_796_449_134_000_000_i64));
        expect_400_naming(&server, "/v1/api/task", &body, field);
        let (_, resp) = server.post("/v1/api/task", &body);
        let msg = resp["msg"].as_str().unwrap_or_default();
        assert!(msg.contains("unix seconds"), "{field}: {msg:?}");
        let (status, resp) = server.post("/v1/api/preview", &body);
        assert_error(status, &resp, 400, &format!("preview with {field} in ms"));
    }
    server.add_task(with(valid(), "end_time", json!(253_402_300_799_i64)));
}

#[test]
fn max_runtime_zero_takes_the_default_and_negative_is_refused() {
    let server = Server::start(&[]);
    let id = server.add_task(with(valid(), "max_runtime", json!(0)));
    assert_eq!(server.task_ok(&id)["max_runtime"], json!(60));
    expect_400_naming(
        &server,
        "/v1/api/task",
        &with(valid(), "max_runtime", json!(-1)),
        "max_runtime",
    );
    let configured = Server::start_with_config("default_max_runtime = 90\n", &[]);
    let id = configured.add_task(with(valid(), "max_runtime", json!(0)));
    assert_eq!(configured.task_ok(&id)["max_runtime"], json!(90));
}

#[test]
fn timezones_are_stored_and_answered_canonically() {
    let server = Server::start(&[]);
    let cron = json!({"name": "v.tz", "type": 3, "data": "a", "crontab": "0 9 * * *",
                      "timezone": "europe/berlin"});
    let id = server.add_task(cron);
    assert_eq!(server.task_ok(&id)["timezone"], json!("Europe/Berlin"));
    let prefixed = json!({"name": "v.tz", "type": 3, "data": "b",
                          "crontab": "CRON_TZ=asia/tokyo 0 9 * * *"});
    let id = server.add_task(prefixed);
    assert_eq!(
        server.task_ok(&id)["crontab"],
        json!("CRON_TZ=Asia/Tokyo 0 9 * * *")
    );
    let (status, task) = server.post(
        "/v1/api/update-task",
        &json!({"taskid": id, "timezone": "america/new_york"}),
    );
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["timezone"], json!("America/New_York"));
}

#[test]
fn a_deduplicated_add_says_so() {
    let server = Server::start(&[]);
    let body = with(valid(), "name", json!("v.dedup"));
    let (status, first) = server.post("/v1/api/task", &body);
    assert_eq!(status, 200, "{first}");
    let keys: Vec<&String> = first.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        ["name", "taskid"],
        "a new task: the seed's fields only"
    );
    let (status, again) = server.post("/v1/api/task", &body);
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        again,
        json!({"taskid": first["taskid"], "name": "v.dedup", "deduplicated": true})
    );
    let other = with(body.clone(), "data", json!("other"));
    let (status, batch) = server.post("/v1/api/tasks", &json!([body, other]));
    assert_eq!(status, 200, "{batch}");
    assert_eq!(batch[0]["deduplicated"], json!(true), "{batch}");
    assert_eq!(batch[0]["taskid"], first["taskid"]);
    assert!(batch[1].get("deduplicated").is_none(), "{batch}");
}
