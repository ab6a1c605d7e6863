//! The dashboard driven as an operator drives it, in a real headless Chromium: creating a
//! crontab task through the form (with the live preview and the server's validation
//! message), editing and deleting tasks, bulk actions, the queues after a consumer died
//! with leased messages, purging dead letters, and the graphs of real fires. Screenshots
//! of the main view, the form and the queues view at 1400×1000 go to `target/screenshots`.

mod browser;
mod common;

use std::time::Duration;

use browser::Browser;
use common::*;
use serde_json::{Value, json};

const WIDTH: u32 = 1400;
const HEIGHT: u32 = 1000;

/// A CSS selector of the element with this `data-testid`, as a JS string literal.
fn sel(testid: &str, extra: &str) -> String {
    json!(format!("[data-testid=\"{testid}\"]{extra}")).to_string()
}

fn visible(testid: &str) -> String {
    format!(
        "(() => {{ const e = document.querySelector({}); return e && !e.hidden && e.getClientRects().length > 0; }})()",
        sel(testid, "")
    )
}

fn count(testid: &str, extra: &str) -> String {
    format!("document.querySelectorAll({}).length", sel(testid, extra))
}

fn attr_of(testid: &str, extra: &str, name: &str) -> String {
    format!(
        "(() => {{ const e = document.querySelector({}); return e ? e.getAttribute({}) : null; }})()",
        sel(testid, extra),
        json!(name)
    )
}

/// Consumes up to `max` messages of `tags` for `group` as the client `client`.
fn consume_as(server: &Server, client: &str, group: &str, tags: &str, max: usize) -> Vec<Value> {
    let res = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .expect("http client")
        .post(server.url("/v1/api/consume"))
        .header("x-client-id", client)
        .json(&json!({"group": group, "tags": tags, "max": max, "wait_ms": 5000}))
        .send()
        .expect("consume");
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().expect("consume answer");
    body["messages"].as_array().cloned().unwrap_or_default()
}

/// A few dozen tasks of every kind, some sharing a name, as a server in use has.
fn seed(server: &Server) {
    let now = now_s();
    let mut tasks = Vec::new();
    for i in 0..8 {
        tasks.push(json!({"name": format!("report.region-{i}"), "type": 3, "data": format!("{{\"region\":{i}}}"),
            "crontab": format!("{} * * * *", (i * 7) % 60)}));
    }
    for i in 0..8 {
        tasks.push(json!({"name": "sync.crm", "type": 2, "data": format!("shard {i}"), "loop_time": 300 + 60 * i}));
    }
    for i in 0..10 {
        tasks.push(
            json!({"name": format!("invoice.remind-{i}"), "type": 1, "data": format!("{i}"),
            "start_time": now + 600 + 400 * i}),
        );
    }
    tasks.push(
        json!({"name": "cleanup.tmp", "type": 3, "data": "", "crontab": "*/10 * * * *",
        "end_time": now + 7 * 86400}),
    );
    let (status, body) = server.post("/v1/api/tasks", &Value::Array(tasks));
    assert_eq!(status, 200, "seed: {body}");
}

#[test]
fn form_creates_a_crontab_task_with_a_live_preview_and_the_servers_validation_message() {
    let server = Server::start(&[]);
    seed(&server);
    let mut b = Browser::open(&server.url("/"), WIDTH, HEIGHT);
    b.wait_for(
        &format!("{} === 20", count("task-row", "")),
        "a page of the seeded tasks",
    );
    b.wait_for(
        &format!("{} > 5", count("timeline-marker", "")),
        "the timeline",
    );
    assert_eq!(
        b.overlaps("[data-testid=\"timeline-svg\"] text"),
        Vec::<String>::new()
    );
    // The axis labels stay apart whatever the time of day: redraw with the clock put at
    // every 15 s of the five minutes before a round ten minutes, where a tick lands just
    // beside the `now` label.
    let boundary = (now_ms() / 600_000 + 1) * 600_000;
    for before in (0..=300_000).step_by(15_000) {
        b.eval(&format!(
            "window.realNow = window.realNow || Date.now; Date.now = () => {}; TC.drawTimeline(); true",
            boundary - before
        ));
        assert_eq!(
            b.overlaps("[data-testid=\"timeline-svg\"] text"),
            Vec::<String>::new(),
            "with the clock {before} ms before a round ten minutes"
        );
    }
    b.eval("Date.now = window.realNow; TC.drawTimeline(); true");
    let main = b.screenshot("dashboard-main.png");

    b.click("new-task", "");
    b.wait_for(&visible("task-form"), "the form");
    b.fill("form-name", "report.hourly");
    b.fill("form-kind", "3");
    b.fill("form-crontab", "15 * * * *");
    b.fill("form-timezone", "Asia/Kolkata");
    // 15 past the hour in Kolkata (UTC+5:30) is 45 past the hour in UTC.
    let previewed = format!(
        "{} === 8 && {} === 'ok' && [...document.querySelectorAll({})].every((e) => Number(e.getAttribute('data-ms')) % 3600000 === 2700000)",
        count("form-preview-time", ""),
        attr_of("form-preview", "", "data-state"),
        sel("form-preview-time", "")
    );
    b.wait_for(&previewed, "eight previewed fire times");
    let times = b.eval(
        "[...document.querySelectorAll('[data-testid=\"form-preview-time\"]')].map((e) => Number(e.getAttribute('data-ms')))",
    );
    let times: Vec<i64> = serde_json::from_value(times).expect("preview times");
    assert!(
        times.iter().all(|ms| ms % 3_600_000 == 45 * 60_000),
        "{times:?}"
    );

    // A wrong crontab: the server's own message, in place, and no preview.
    b.fill("form-crontab", "61 * * * *");
    let msg = b.wait_for(
        &format!(
            "{} && document.querySelector({}).textContent",
            visible("form-error"),
            sel("form-error", "")
        ),
        "the validation message",
    );
    let (status, body) = server.post(
        "/v1/api/preview",
        &json!({"type": 3, "crontab": "61 * * * *", "timezone": "Asia/Kolkata", "count": 8}),
    );
    assert_eq!(status, 400);
    assert_eq!(msg, body["msg"], "the form shows the server's message");
    assert_eq!(b.eval(&count("form-preview-time", "")), json!(0));
    b.click("form-submit", "");
    b.wait_for(&visible("form-error"), "the error after submitting");
    std::thread::sleep(Duration::from_millis(500));
    let (_, list) = server.get("/v1/api/tasks?name=report.hourly");
    assert!(task_ids(&list).is_empty(), "nothing was created: {list}");

    // Fixed, with data that has quotes, a tab, a newline and a non-ASCII letter.
    b.fill("form-crontab", "15 * * * *");
    b.wait_for(&previewed, "the preview again");
    assert!(!b.eval(&visible("form-error")).as_bool().unwrap_or(true));
    let data = "{\"to\": \"ops@example.com\"}\n\tcafé  two  spaces ";
    b.fill("form-data", data);
    assert_eq!(b.overlaps("[data-testid=\"task-form\"] label, [data-testid=\"task-form\"] h3, [data-testid=\"form-preview\"] li"), Vec::<String>::new());
    let form = b.screenshot("dashboard-form.png");
    b.click("form-submit", "");
    b.wait_for(
        "document.querySelector('[data-testid=\"task-form-modal\"]').hidden",
        "the form to close",
    );

    let id = b.wait_for(
        &attr_of("task-row", "[data-name=\"report.hourly\"]", "data-taskid"),
        "the new row",
    );
    let id = id.as_str().expect("task id").to_string();
    let task = server.task_ok(&id);
    assert_eq!(task["type"], 3);
    assert_eq!(task["crontab"], "15 * * * *");
    assert_eq!(task["timezone"], "Asia/Kolkata");
    assert_eq!(task["data"], data, "the data is stored byte for byte");
    // More tasks are due this hour than the timeline draws at first: show them all.
    b.wait_for(&visible("timeline-more"), "the timeline's more button");
    b.click("timeline-more", "");
    b.wait_for(
        &format!(
            "{} === 1",
            count("timeline-marker", &format!("[data-taskid=\"{id}\"]"))
        ),
        "the task on the timeline",
    );
    let detail = b.wait_for(
        &attr_of("task-detail", "", "data-taskid"),
        "the detail panel",
    );
    assert_eq!(detail, json!(id), "the new task is selected");
    println!("screenshots: {} {}", main.display(), form.display());
}

#[test]
fn edit_delete_and_bulk_actions() {
    let server = Server::start(&[]);
    let raw = "line1\r\nline2\tend";
    let id = server.add_task(json!({"name": "sync.crm", "type": 2, "loop_time": 300, "data": raw}));
    let mut b = Browser::open(&server.url(&format!("/#task={id}")), WIDTH, HEIGHT);
    b.wait_for(
        &format!(
            "{} === {}",
            attr_of("task-detail", "", "data-taskid"),
            json!(id)
        ),
        "the task's detail",
    );
    b.wait_for(
        &format!("{} > 0", count("history-row", "")),
        "the first fire in the history",
    );
    assert_eq!(
        b.overlaps("[data-testid=\"task-detail\"] dt, [data-testid=\"task-detail\"] dd, [data-testid=\"task-detail\"] th"),
        Vec::<String>::new()
    );
    b.screenshot("dashboard-detail.png");

    // A schedule edit leaves data the text box cannot hold (the \r) as it was.
    b.click("action-edit", "");
    b.wait_for(&visible("task-form"), "the edit form");
    assert_eq!(
        b.eval(&attr_of("task-form", "", "data-mode")),
        json!("edit")
    );
    assert_eq!(
        b.eval("document.querySelector('[data-testid=\"form-loop-every\"]').value"),
        json!("5")
    );
    assert_eq!(
        b.eval("document.querySelector('[data-testid=\"form-loop-unit\"]').value"),
        json!("m")
    );
    b.fill("form-loop-every", "10");
    b.click("form-submit", "");
    wait_for(Duration::from_secs(10), "the new period", || {
        server.task_ok(&id)["loop_time"] == 600
    });
    assert_eq!(server.task_ok(&id)["data"], raw);

    // A data edit sends the new data.
    b.wait_for(
        "document.querySelector('[data-testid=\"task-form-modal\"]').hidden",
        "the form to close",
    );
    b.click("action-edit", "");
    b.wait_for(&visible("task-form"), "the edit form");
    b.fill("form-data", "{\"full\": true}");
    b.click("form-submit", "");
    wait_for(Duration::from_secs(10), "the new data", || {
        server.task_ok(&id)["data"] == "{\"full\": true}"
    });
    assert_eq!(server.task_ok(&id)["loop_time"], 600);

    // Delete asks first.
    b.wait_for(
        "document.querySelector('[data-testid=\"task-form-modal\"]').hidden",
        "the form to close",
    );
    b.click("action-delete", "");
    assert_eq!(b.text("action-delete"), "Really delete?");
    assert_eq!(server.task(&id).0, 200, "one click deletes nothing");
    b.click("action-delete", "");
    wait_for(Duration::from_secs(10), "the delete", || {
        server.task(&id).0 == 404
    });

    // Bulk actions on checked rows.
    let ids: Vec<String> = (0..3)
        .map(|i| {
            server.add_task(
                json!({"name": format!("bulk.{i}"), "type": 2, "loop_time": 60, "data": ""}),
            )
        })
        .collect();
    b.navigate(&server.url("/"));
    b.wait_for(&format!("{} === 3", count("task-row", "")), "three rows");
    let check =
        |b: &mut Browser, id: &str| b.click("task-check", &format!("[data-taskid=\"{id}\"]"));
    check(&mut b, &ids[0]);
    check(&mut b, &ids[1]);
    assert_eq!(b.text("bulk-count"), "2 selected");
    b.click("bulk-pause", "");
    let status = |id: &str| {
        server.task_ok(id)["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    wait_for(Duration::from_secs(10), "two paused", || {
        status(&ids[0]) == "paused" && status(&ids[1]) == "paused"
    });
    assert_eq!(status(&ids[2]), "scheduled");
    b.wait_for(
        &format!("{} === 2", count("task-row", "[data-status=\"paused\"]")),
        "paused rows",
    );
    check(&mut b, &ids[0]);
    check(&mut b, &ids[1]);
    b.click("bulk-resume", "");
    wait_for(Duration::from_secs(10), "resumed", || {
        status(&ids[0]) == "scheduled" && status(&ids[1]) == "scheduled"
    });
    b.wait_for(
        &format!("{} === 3", count("task-row", "[data-status=\"scheduled\"]")),
        "scheduled rows",
    );
    check(&mut b, &ids[1]);
    check(&mut b, &ids[2]);
    b.click("bulk-delete", "");
    assert_eq!(server.task(&ids[1]).0, 200, "one click deletes nothing");
    b.click("bulk-delete", "");
    wait_for(Duration::from_secs(10), "two deleted", || {
        server.task(&ids[1]).0 == 404 && server.task(&ids[2]).0 == 404
    });
    assert_eq!(server.task(&ids[0]).0, 200);

    // Search matches a part of the name, in any case.
    b.fill("search-name", "BULK");
    b.wait_for(
        &format!("{} === 1", count("task-row", "[data-name=\"bulk.0\"]")),
        "the search result",
    );
}

#[test]
fn queues_show_a_dead_consumers_leases_moving_on_and_dead_letters_purge() {
    let server = Server::start(&["--lease", "2s", "--retry-delays", "30s"]);
    server.subscribe("billing", "invoice");
    for i in 0..3 {
        server.add_task(json!({"name": "invoice", "type": 1, "data": format!("{i}")}));
    }
    wait_for(Duration::from_secs(10), "three fires", || {
        let (_, q) = server.get("/v1/api/queues");
        q["groups"][0]["ready"] == 3
    });
    let held = consume_as(&server, "worker-7", "billing", "invoice", 2);
    assert_eq!(held.len(), 2);
    // worker-7 dies here, holding two messages.

    // Two dead letters in two groups, one with the reason its consumer gave.
    let reason = "SMTP 550: mailbox unavailable";
    for (group, tag) in [("mail", "mail.send"), ("sms", "sms.send")] {
        server.subscribe(group, tag);
        server.add_task(json!({"name": tag, "type": 1, "data": "x"}));
        for _ in 0..2 {
            let got = server.collect(group, tag, 1, Duration::from_secs(10), false);
            assert_eq!(got.len(), 1);
            let mut nack = json!({"group": group, "msgids": [got[0].str("msgid")], "delay_ms": 0});
            if group == "mail" {
                nack["reason"] = json!(reason);
            }
            let (status, body) = server.post("/v1/api/nack", &nack);
            assert_eq!(status, 200, "nack: {body}");
        }
    }
    let too_long = json!({"group": "mail", "msgids": ["1"], "reason": "x".repeat(1001)});
    let (status, body) = server.post("/v1/api/nack", &too_long);
    assert_error(status, &body, 400, "a reason over 1000 characters");

    let mut b = Browser::open(&server.url("/#view=queues"), WIDTH, HEIGHT);
    let billing = "[data-group=\"billing\"]";
    b.wait_for(
        &format!("{} === '2'", attr_of("queue-group", billing, "data-leased")),
        "billing's leases",
    );
    assert_eq!(
        b.eval(&attr_of("queue-group", billing, "data-ready")),
        json!("1")
    );
    assert_eq!(
        b.eval(&attr_of(
            "consumer-row",
            "[data-client=\"worker-7\"]",
            "data-in-flight"
        )),
        json!("2")
    );
    assert_eq!(b.eval(&count("dead-letter-row", "")), json!(2));
    let shown = b.eval(&format!(
        "document.querySelector({}).textContent",
        sel(
            "dead-letter-row",
            "[data-group=\"mail\"] [data-testid=\"dead-letter-reason\"]"
        )
    ));
    assert_eq!(shown, json!(reason), "the dead letter shows why it failed");
    assert_eq!(
        b.overlaps(
            "[data-testid=\"view-queues\"] th, [data-testid=\"view-queues\"] h2, .tabs button"
        ),
        Vec::<String>::new()
    );
    let shot = b.screenshot("dashboard-queues.png");

    // The task's history shows the reason too.
    let taskid = b.eval(&attr_of(
        "dead-letter-row",
        "[data-group=\"mail\"]",
        "data-taskid",
    ));
    b.eval(&format!("TC.select({taskid})"));
    b.wait_for(
        &format!(
            "[...document.querySelectorAll({})].some((e) => e.textContent === {})",
            sel("history-reason", ""),
            json!(reason)
        ),
        "the reason in the fire history",
    );
    b.click("tab-queues", "");

    // The leases run out: retrying, with no consume call in between.
    b.wait_for(
        &format!(
            "{} === '2'",
            attr_of("queue-group", billing, "data-retrying")
        ),
        "the expired leases retrying",
    );
    assert_eq!(
        b.eval(&attr_of("queue-group", billing, "data-leased")),
        json!("0")
    );
    assert_eq!(
        b.eval(&attr_of("queue-group", billing, "data-ready")),
        json!("1")
    );
    b.wait_for(
        &format!(
            "{} === '0'",
            attr_of(
                "consumer-row",
                "[data-client=\"worker-7\"]",
                "data-in-flight"
            )
        ),
        "nothing in flight",
    );

    // Filter by group, purge all shown (asked twice), then purge one.
    b.fill("dead-group", "mail");
    b.wait_for(
        &format!("{} === 1", count("dead-letter-row", "")),
        "mail's dead letter only",
    );
    b.click("purge-all", "");
    let (_, dead) = server.get("/v1/api/dead-letters");
    assert_eq!(
        dead["dead_letters"].as_array().map(Vec::len),
        Some(2),
        "one click purges nothing"
    );
    b.click("purge-all", "");
    wait_for(Duration::from_secs(10), "mail's dead letter purged", || {
        let (_, dead) = server.get("/v1/api/dead-letters?group=mail");
        dead["dead_letters"].as_array().is_some_and(Vec::is_empty)
    });
    b.fill("dead-group", "");
    b.wait_for(
        &format!("{} === 1", count("dead-letter-row", "[data-group=\"sms\"]")),
        "sms's dead letter",
    );
    b.click("purge-button", "");
    b.click("purge-button", "");
    wait_for(Duration::from_secs(10), "every dead letter purged", || {
        let (_, dead) = server.get("/v1/api/dead-letters");
        dead["dead_letters"].as_array().is_some_and(Vec::is_empty)
    });
    b.wait_for(&visible("dead-letters-empty"), "the empty list");
    println!("screenshot: {}", shot.display());
}

#[test]
fn graphs_draw_from_real_fires() {
    let server = Server::start(&[]);
    server.subscribe("g", "tick");
    server
        .add_task(json!({"name": "tick", "type": 2, "loop_time": 1, "loop_count": 4, "data": ""}));
    let got = server.collect("g", "tick", 4, Duration::from_secs(15), true);
    assert_eq!(got.len(), 4);
    let (_, graphs) = server.get("/v1/api/graphs");
    let minutes = graphs["minutes"].as_array().cloned().unwrap_or_default();
    assert_eq!(minutes.len(), 60);
    let sum = |field: &str| {
        minutes
            .iter()
            .map(|m| m[field].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    assert_eq!((sum("fires"), sum("acked")), (4, 4));

    let mut b = Browser::open(&server.url("/#view=graphs"), WIDTH, HEIGHT);
    let total = |series: &str| {
        format!(
            "[...document.querySelectorAll('[data-testid=\"chart-bar\"][data-series=\"{series}\"]')].reduce((a, e) => a + Number(e.getAttribute('data-value')), 0)"
        )
    };
    b.wait_for(&format!("{} === 4", total("fires")), "four fires drawn");
    assert_eq!(b.eval(&total("acked")), json!(4));
    b.wait_for(
        &format!("{} > 0", count("chart-point", "[data-series=\"p50\"]")),
        "the lateness drawn",
    );
    assert_eq!(b.overlaps(".chart .axis-label"), Vec::<String>::new());
    b.screenshot("dashboard-graphs.png");
}

#[test]
fn with_a_token_every_call_sends_it_and_a_wrong_one_asks_again() {
    let server = Server::start(&["--auth-token", "s3cret", "--lease", "30s"]);
    let mut b = Browser::open(&server.url("/#view=queues"), WIDTH, HEIGHT);
    b.wait_for(&visible("auth-required"), "the token prompt");

    // A wrong token: the prompt comes back, and nothing loads.
    b.fill("token-input", "wrong");
    b.click("token-save", "");
    b.wait_for(
        &format!(
            "{} && document.querySelector({}).textContent.includes('refused')",
            visible("auth-required"),
            sel("auth-required", "")
        ),
        "the prompt again after a wrong token, saying it was refused",
    );
    assert_eq!(
        b.eval(&attr_of("live-status", "", "data-state")),
        json!("auth")
    );

    // The right one: the views load and the form's calls carry it.
    b.fill("token-input", "s3cret");
    b.click("token-save", "");
    b.wait_for(
        "document.querySelector('[data-testid=\"token-form\"]').hidden",
        "the token form to close",
    );
    // A call refused for a token that was replaced while it was on its way leaves the
    // prompt closed: the refusal says nothing of the new token.
    let stale = b.eval(
        "(async () => { sessionStorage.setItem('taskcenter.token', 'stale'); \
         const call = TC.get('task/stat').then(() => 200, (e) => e.status); \
         sessionStorage.setItem('taskcenter.token', 's3cret'); \
         const status = await call; \
         return [status, document.querySelector('[data-testid=\"token-form\"]').hidden]; })()",
    );
    assert_eq!(stale, json!([401, true]));
    let consumer = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .expect("http client")
        .post(server.url("/v1/api/consume"))
        .bearer_auth("s3cret")
        .header("x-client-id", "worker-1")
        .json(&json!({"group": "ops", "tags": "*", "wait_ms": 0}))
        .send()
        .expect("consume");
    assert_eq!(consumer.status().as_u16(), 200);
    b.wait_for(
        &format!(
            "{} === 1",
            count("consumer-row", "[data-client=\"worker-1\"]")
        ),
        "the queues view with the token",
    );
    b.click("new-task", "");
    b.wait_for(&visible("task-form"), "the form");
    b.fill("form-name", "with.token");
    b.fill("form-kind", "2");
    b.fill("form-loop-every", "30");
    b.wait_for(
        &format!("{} > 0", count("form-preview-time", "")),
        "the preview with the token",
    );
    b.click("form-submit", "");
    b.wait_for(
        &format!("{} === 1", count("task-row", "[data-name=\"with.token\"]")),
        "the created task",
    );
    b.click("tab-graphs", "");
    b.wait_for(
        &format!("{} > 0", count("chart-bar", "[data-series=\"fires\"]")),
        "the graphs with the token",
    );
    assert_ne!(b.eval(&attr_of("notice", "", "data-kind")), json!("error"));
}
