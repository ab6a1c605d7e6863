//! Every endpoint of the HTTP API under both route prefixes, checked from the outside
//! (preview has its own file).

mod common;

use std::thread;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const TASK_FIELDS: [&str; 16] = [
    "_id",
    "name",
    "type",
    "data",
    "crontab",
    "loop_time",
    "loop_count",
    "start_time",
    "end_time",
    "max_runtime",
    "ack",
    "created_at",
    "status",
    "next_fire_time",
    "fire_count",
    "timezone",
];

#[test]
fn add_and_query_by_id_under_both_prefixes() {
    let server = Server::start(&[]);
    for (i, p) in PREFIXES.iter().enumerate() {
        let start = now_s() + 3600;
        let name = format!("api.add-{i}");
        let before = now_s();
        let (status, resp) = server.post(
            &format!("{p}/task"),
            &json!({"name": name, "type": 2, "data": "hello", "loop_time": 60, "start_time": start}),
        );
        let after = now_s();
        assert_eq!(status, 200, "{p}/task: {resp}");
        let id = resp["taskid"].as_str().expect("taskid").to_string();
        assert!(is_hex24(&id), "taskid {id:?} is not 24 lowercase hex");
        assert_eq!(resp["name"], json!(name));

        let (status, task) = server.get(&format!("{p}/query-task-by-id?taskid={id}"));
        assert_eq!(status, 200, "{task}");
        for field in TASK_FIELDS {
            assert!(
                task.get(field).is_some(),
                "task object lacks {field:?}: {task}"
            );
        }
        assert_eq!(task["_id"], json!(id));
        assert_eq!(task["name"], json!(name));
        assert_eq!(task["type"], json!(2));
        assert_eq!(task["data"], json!("hello"));
        assert_eq!(task["loop_time"], json!(60));
        assert_eq!(task["start_time"], json!(start));
        assert_eq!(task["max_runtime"], json!(60), "default max_runtime");
        assert_eq!(task["ack"], json!(false));
        assert_eq!(task["status"], json!("scheduled"));
        assert_eq!(
            task["next_fire_time"],
            json!(start * 1000),
            "a loop's first fire is start_time itself"
        );
        assert_eq!(task["fire_count"], json!(0));
        assert!(task["timezone"].is_string(), "timezone: {task}");
        let created = task["created_at"]
            .as_i64()
            .expect("created_at is unix seconds");
        assert!(
            (before - 1..=after + 1).contains(&created),
            "created_at {created} not in [{before}, {after}]"
        );
    }
}

#[test]
fn query_by_name_is_newest_first_and_limited() {
    let server = Server::start(&[]);
    let start = now_s() + 3600;
    let mut ids = Vec::new();
    for i in 0..3 {
        if i > 0 {
            // created_at is in seconds: make the order unambiguous.
            thread::sleep(Duration::from_millis(1050));
        }
        ids.push(server.add_task(
            json!({"name": "api.byname", "type": 1, "data": format!("d{i}"), "start_time": start}),
        ));
    }
    server.add_task(json!({"name": "api.other", "type": 1, "data": "d0", "start_time": start}));
    let newest_first: Vec<Value> = ids.iter().rev().map(|id| json!(id)).collect();
    for p in PREFIXES {
        let (status, body) = server.get(&format!("{p}/query-task-by-name?name=api.byname"));
        assert_eq!(status, 200, "{body}");
        let got: Vec<Value> = body
            .as_array()
            .expect("an array")
            .iter()
            .map(|t| t["_id"].clone())
            .collect();
        assert_eq!(got, newest_first, "{p}: newest created_at first");

        let (status, body) = server.get(&format!("{p}/query-task-by-name?name=api.byname&limit=2"));
        assert_eq!(status, 200, "{body}");
        let got: Vec<Value> = body
            .as_array()
            .expect("an array")
            .iter()
            .map(|t| t["_id"].clone())
            .collect();
        assert_eq!(got, newest_first[..2].to_vec(), "{p}: limit=2");

        let (status, body) = server.get(&format!("{p}/query-task-by-name?name=api.nobody"));
        assert_eq!((status, body), (200, json!([])), "{p}: unknown name");
    }
    let many: Vec<Value> = (0..101)
        .map(
            |i| json!({"name": "api.many", "type": 1, "data": format!("{i}"), "start_time": start}),
        )
        .collect();
    assert_eq!(server.post("/v1/api/tasks", &Value::Array(many)).0, 200);
    let (_, body) = server.get("/v1/api/query-task-by-name?name=api.many");
    assert_eq!(
        body.as_array().map(Vec::len),
        Some(100),
        "the default limit is 100"
    );
}

#[test]
fn delete_task_reports_only_existing_ids() {
    let server = Server::start(&[]);
    let start = now_s() + 3600;
    let unknown = "ffffffffffffffffffffffff";
    for p in PREFIXES {
        let a = server.add_task(
            json!({"name": "api.del", "type": 1, "data": format!("a{p}"), "start_time": start}),
        );
        let b = server.add_task(
            json!({"name": "api.del", "type": 1, "data": format!("b{p}"), "start_time": start}),
        );
        let (status, body) =
            server.post(&format!("{p}/delete-task"), &json!({"ids": [a, unknown]}));
        assert_eq!((status, body), (200, json!({"SucIds": [a]})), "{p}");
        let (status, body) = server.task(&a);
        assert_error(status, &body, 404, "deleted task");
        assert_eq!(server.task(&b).0, 200, "the other task is untouched");
        let (status, body) = server.post(&format!("{p}/delete-task"), &json!({"ids": [a]}));
        assert_eq!(
            (status, body),
            (200, json!({"SucIds": []})),
            "{p}: deleting twice"
        );
    }
}

#[test]
fn delete_task_by_name_removes_every_task_of_that_name() {
    let server = Server::start(&[]);
    let start = now_s() + 3600;
    for p in PREFIXES {
        let name = format!("api.dbn{}", p.replace('/', "."));
        let x1 =
            server.add_task(json!({"name": name, "type": 1, "data": "1", "start_time": start}));
        let x2 = server.add_task(json!({"name": name, "type": 2, "data": "2", "loop_time": 5}));
        let y = server.add_task(
            json!({"name": format!("{name}.keep"), "type": 1, "data": "1", "start_time": start}),
        );
        let (status, body) =
            server.post(&format!("{p}/delete-task-by-name"), &json!({"name": name}));
        assert_eq!(status, 200, "{body}");
        let mut got: Vec<String> = body["SucIds"]
            .as_array()
            .expect("SucIds")
            .iter()
            .map(|v| v.as_str().expect("id").to_string())
            .collect();
        got.sort();
        let mut want = vec![x1.clone(), x2.clone()];
        want.sort();
        assert_eq!(got, want, "{p}: {body}");
        assert_eq!(
            server.get(&format!("{p}/query-task-by-name?name={name}")),
            (200, json!([]))
        );
        assert_eq!(server.task(&x2).0, 404);
        assert_eq!(
            server.task(&y).0,
            200,
            "a task of another name is untouched"
        );
    }
}

#[test]
fn stat_counts_fires_of_the_current_minute() {
    let server = Server::start(&[]);
    // Keep clear of a minute boundary: the counters reset with the calendar minute.
    if now_s() % 60 >= 45 {
        sleep_until_ms((now_s() / 60 + 1) * 60_000 + 200);
    }
    let minute = utc_minute(now_s());
    for data in ["1", "2"] {
        server.add_task(json!({"name": "stat.a", "type": 1, "data": data}));
    }
    server.add_task(json!({"name": "stat.b", "type": 1, "data": "1"}));
    let mut last = Value::Null;
    let counted = |body: &Value| {
        body["names"]["stat.a"] == json!(2)
            && body["names"]["stat.b"] == json!(1)
            && body["total"] == json!(3)
    };
    for p in PREFIXES {
        let path = format!("{p}/task/stat");
        wait_for(Duration::from_secs(8), "stat to count the 3 fires", || {
            let (status, body) = server.get(&path);
            assert_eq!(status, 200, "{body}");
            last = body;
            counted(&last)
        });
        assert_eq!(last["minute"], json!(minute), "{p}: {last}");
    }
}

/// The items of a batch answer: the array itself, or the one array inside an object.
fn batch_items(body: &Value) -> Vec<Value> {
    match body {
        Value::Array(items) => items.clone(),
        Value::Object(map) => map
            .values()
            .find_map(|v| v.as_array().cloned())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Whether `key` occurs anywhere in `v`, with its value satisfying `pred`.
fn has_key(v: &Value, key: &str, pred: &dyn Fn(&Value) -> bool) -> bool {
    match v {
        Value::Object(map) => map
            .iter()
            .any(|(k, val)| (k == key && pred(val)) || has_key(val, key, pred)),
        Value::Array(items) => items.iter().any(|val| has_key(val, key, pred)),
        _ => false,
    }
}

fn find_taskid(item: &Value) -> Option<String> {
    match item {
        Value::Object(map) => map.iter().find_map(|(k, v)| match v.as_str() {
            Some(s) if k == "taskid" && is_hex24(s) => Some(s.to_string()),
            _ => find_taskid(v),
        }),
        _ => None,
    }
}

#[test]
fn batch_add_answers_per_item_in_order() {
    let server = Server::start(&[]);
    let start = now_s() + 3600;
    for p in PREFIXES {
        let batch = json!([
            {"name": "batch.one", "type": 1, "data": p, "start_time": start},
            {"name": "batch.bad", "type": 9, "data": p},
            {"name": "batch.three", "type": 2, "data": p, "loop_time": 30},
        ]);
        let (status, body) = server.post(&format!("{p}/tasks"), &batch);
        assert!(status == 200 || status == 207, "{p}/tasks: {status} {body}");
        let items = batch_items(&body);
        assert_eq!(items.len(), 3, "one result per item: {body}");
        let first =
            find_taskid(&items[0]).unwrap_or_else(|| panic!("item 0 has no taskid: {}", items[0]));
        let third =
            find_taskid(&items[2]).unwrap_or_else(|| panic!("item 2 has no taskid: {}", items[2]));
        assert!(
            has_key(&items[1], "err", &|v| v.is_number())
                && has_key(&items[1], "msg", &|v| v.is_string()),
            "item 1 is not an error entry: {}",
            items[1]
        );
        assert!(
            find_taskid(&items[1]).is_none(),
            "the invalid item got an id: {}",
            items[1]
        );
        assert_eq!(server.task_ok(&first)["name"], json!("batch.one"));
        assert_eq!(server.task_ok(&third)["name"], json!("batch.three"));
        assert_eq!(
            server.get(&format!("{p}/query-task-by-name?name=batch.bad")),
            (200, json!([]))
        );
    }
}

#[test]
fn health_and_readiness_answer_200() {
    let server = Server::start(&[]);
    assert_eq!(server.get("/healthz").0, 200);
    assert_eq!(server.get("/readyz").0, 200);
}

#[test]
fn unknown_routes_are_404_json() {
    let server = Server::start(&[]);
    for path in [
        "/v1/api/no-such-route",
        "/api/v1/no-such-route",
        "/no/such/path",
    ] {
        let (status, body) = server.get(path);
        assert_error(status, &body, 404, &format!("GET {path}"));
        let (status, body) = server.post(path, &json!({}));
        assert_error(status, &body, 404, &format!("POST {path}"));
    }
}

#[test]
fn dedup_returns_the_live_task_of_same_name_and_data() {
    let server = Server::start(&[]);
    let start = now_s() + 3600;
    let task = |data: &str| json!({"name": "dd.x", "type": 1, "data": data, "start_time": start});
    let a = server.add_task(task("same"));
    assert_eq!(
        server.add_task(task("same")),
        a,
        "same name and data: the existing id"
    );
    assert_eq!(
        server.post("/api/v1/task", &task("same")).1["taskid"],
        json!(a),
        "under /api/v1 too"
    );
    let b = server.add_task(task("other"));
    assert_ne!(a, b, "different data: a new task");
    assert_eq!(
        server
            .get("/v1/api/query-task-by-name?name=dd.x")
            .1
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    server.post("/v1/api/delete-task", &json!({"ids": [a]}));
    let c = server.add_task(task("same"));
    assert_ne!(c, a, "a deleted task is not live: a new id");

    // A finished task is not live either.
    let once = json!({"name": "dd.once", "type": 1, "data": "x"});
    let first = server.add_task(once.clone());
    wait_for(Duration::from_secs(5), "the once task to finish", || {
        server.task_ok(&first)["status"] == json!("finished")
    });
    assert_ne!(
        server.add_task(once),
        first,
        "a finished task is not live: a new id"
    );
}

#[test]
fn dedup_can_be_switched_off_in_the_config() {
    let server = Server::start_with_config("dedup = false\n", &[]);
    let task = json!({"name": "dd.off", "type": 1, "data": "same", "start_time": now_s() + 3600});
    let a = server.add_task(task.clone());
    let b = server.add_task(task);
    assert_ne!(a, b, "with dedup = false every add creates a task");
}

#[test]
fn list_by_next_fire_shows_what_fires_next() {
    let server = Server::start(&[]);
    let base = now_s() + 3600;
    let add = |name: &str, at: i64| {
        server.add_task(json!({"name": name, "type": 1, "data": name, "start_time": at}))
    };
    let late = add("late", base + 300);
    let soon = add("soon", base + 100);
    let paused = add("paused", base + 50);
    let mid = add("mid", base + 200);
    let (status, _) = server.post("/v1/api/pause-task", &json!({"taskid": paused}));
    assert_eq!(status, 200);
    let (status, body) = server.get("/v1/api/tasks?order=next_fire");
    assert_eq!(status, 200, "{body}");
    assert_eq!(task_ids(&body), [soon, mid, late], "{body}");
    for bad in ["order=next_fire&status=paused", "order=soonest"] {
        let (status, body) = server.get(&format!("/v1/api/tasks?{bad}"));
        assert_error(status, &body, 400, bad);
    }
}

#[test]
fn an_update_of_the_data_fires_nothing_extra_and_keeps_the_grid() {
    let server = Server::start(&[]);
    server.subscribe("up", "upd");
    let id = server.add_task(json!({"name": "upd", "type": 2, "data": "old", "loop_time": 3600}));
    let first = server.consume("up", "upd", 10, 5_000);
    assert_eq!(first.len(), 1, "the loop fires at its creation: {first:?}");
    server.ack("up", &msgids(&first));
    let before = server.task_ok(&id);

    let (status, body) = server.post("/v1/api/update-task", &json!({"taskid": id, "data": "new"}));
    assert_eq!(status, 200, "{body}");
    let after = server.task_ok(&id);
    assert_eq!(after["data"], json!("new"));
    assert_eq!(after["next_fire_time"], before["next_fire_time"], "{after}");
    assert_eq!(after["fire_count"], json!(1), "{after}");
    let extra = server.consume("up", "upd", 10, 1_500);
    assert!(
        extra.is_empty(),
        "an update fired the task again: {extra:?}"
    );
}
