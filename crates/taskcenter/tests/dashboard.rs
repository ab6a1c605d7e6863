//! The dashboard in a real headless Chromium: the page the server serves at `/` renders the
//! tasks, the timeline of upcoming fires, the live counters, a task's fire history and the
//! dead letters from the live API, and asks for the bearer token when the API wants one.
//! These read the DOM the page leaves after a few seconds; `dashboard_actions.rs` drives
//! the page (forms, buttons) through the DevTools protocol.

mod browser;
mod common;

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use browser::{CHROMIUM_FLAGS, chromium};
use common::*;
use serde_json::json;

/// How long the page runs (in Chromium's virtual time) before its DOM is read: long
/// enough for the first fetches and two rounds of the 2 s counter poll.
const VIRTUAL_TIME_MS: u32 = 5000;

/// Loads `url` in a fresh headless Chromium and answers the DOM as the page left it.
fn dump_dom(url: &str) -> String {
    let profile = tempfile::Builder::new()
        .prefix("taskcenter-chromium-")
        .tempdir()
        .expect("create the chromium profile dir");
    let child = Command::new(chromium())
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--virtual-time-budget={VIRTUAL_TIME_MS}"))
        .arg("--dump-dom")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output = match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(output) => output.expect("wait for chromium"),
        Err(_) => {
            signal(pid, "KILL");
            panic!("chromium did not finish loading {url} within 120 s");
        }
    };
    drop(profile);
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && dom.contains("</html>"),
        "chromium failed on {url} ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    dom
}

/// The opening tags of the elements whose `data-testid` is `id`.
fn tags<'a>(dom: &'a str, id: &str) -> Vec<&'a str> {
    let needle = format!("data-testid=\"{id}\"");
    dom.match_indices(&needle)
        .map(|(at, _)| {
            let start = dom[..at].rfind('<').expect("tag start");
            let end = at + dom[at..].find('>').expect("tag end");
            &dom[start..=end]
        })
        .collect()
}

/// The one element with this `data-testid`.
fn tag<'a>(dom: &'a str, id: &str) -> &'a str {
    match tags(dom, id)[..] {
        [one] => one,
        ref many => panic!("expected one element {id:?}, found {}", many.len()),
    }
}

/// An attribute of an opening tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

fn is_hidden(tag: &str) -> bool {
    tag.contains(" hidden")
}

/// Takes one delivery of `tag` through `group` to the dead letters (the ladder holds one
/// retry) and answers its msgid.
fn make_dead_letter(server: &Server, group: &str, tag: &str) -> String {
    server.subscribe(group, tag);
    server.add_task(json!({"name": tag, "type": 1, "data": "{\"order\":1001}"}));
    let first = server.collect(group, tag, 1, Duration::from_secs(10), false);
    assert_eq!(first.len(), 1, "the once task was delivered");
    let msgid = first[0].str("msgid");
    server.nack(group, std::slice::from_ref(&msgid), Some(0));
    let second = server.collect(group, tag, 1, Duration::from_secs(10), false);
    assert_eq!(second.len(), 1, "the nacked message came back");
    server.nack(group, std::slice::from_ref(&msgid), None);
    wait_for(Duration::from_secs(10), "the dead letter", || {
        let (_, body) = server.get("/v1/api/dead-letters");
        body.to_string().contains(&msgid)
    });
    msgid
}

#[test]
fn dashboard_renders_tasks_timeline_counters_history_and_dead_letters() {
    chromium();
    let server = Server::start(&["--retry-delays", "1s"]);
    let now = now_s();
    let soon = server.add_task(json!({
        "name": "dash.report", "type": 1, "data": "sales", "start_time": now + 1800
    }));
    let far = server.add_task(json!({
        "name": "dash.invoice", "type": 1, "data": "inv-42", "start_time": now + 3 * 86400
    }));
    let heartbeat = server.add_task(json!({
        "name": "dash.heartbeat", "type": 2, "data": "ping", "loop_time": 60
    }));
    let cron = server.add_task(json!({
        "name": "dash.cleanup", "type": 3, "data": "", "crontab": "*/5 * * * *"
    }));
    let paused = server.add_task(json!({
        "name": "dash.newsletter", "type": 3, "data": "weekly", "crontab": "0 9 * * MON"
    }));
    let (status, body) = server.post("/v1/api/pause-task", &json!({"taskid": paused}));
    assert_eq!(status, 200, "pause: {body}");
    let msgid = make_dead_letter(&server, "dash-workers", "dash.expire");
    wait_for(
        Duration::from_secs(10),
        "the heartbeat's first fire",
        || server.task_ok(&heartbeat)["fire_count"].as_i64() >= Some(1),
    );

    let dom = dump_dom(&server.url(&format!("/#task={heartbeat}")));

    // The task table: every task, with its status.
    let rows = tags(&dom, "task-row");
    let status_of = |name: &str| {
        rows.iter()
            .find(|row| attr(row, "data-name") == Some(name))
            .and_then(|row| attr(row, "data-status"))
            .unwrap_or_else(|| panic!("no task row for {name} in:\n{rows:#?}"))
    };
    for name in [
        "dash.report",
        "dash.invoice",
        "dash.heartbeat",
        "dash.cleanup",
    ] {
        assert_eq!(status_of(name), "scheduled", "{name}");
    }
    assert_eq!(status_of("dash.newsletter"), "paused");
    assert_eq!(status_of("dash.expire"), "finished");
    assert_eq!(rows.len(), 6, "one row per task");
    assert_eq!(tags(&dom, "task-status").len(), 6, "a status badge per row");

    // The timeline: the task due in 30 minutes is drawn in the 1 h window with the loop and
    // the cron; the one due in 3 days is listed as later, not drawn.
    tag(&dom, "timeline-svg");
    let markers = tags(&dom, "timeline-marker");
    let drawn = |id: &str| markers.iter().any(|m| attr(m, "data-taskid") == Some(id));
    for (id, name) in [
        (&soon, "dash.report"),
        (&heartbeat, "dash.heartbeat"),
        (&cron, "dash.cleanup"),
    ] {
        assert!(drawn(id), "{name} is not on the timeline: {markers:#?}");
    }
    assert!(
        !drawn(&far),
        "dash.invoice is 3 days out, not in the 1 h window"
    );
    assert!(!drawn(&paused), "a paused task has no upcoming fire");
    let later = tags(&dom, "timeline-later-item");
    assert!(
        later
            .iter()
            .any(|t| attr(t, "data-taskid") == Some(far.as_str())),
        "dash.invoice is not listed as later: {later:#?}"
    );

    // Live counters, from /metrics and the per-minute stat.
    for (id, expected) in [
        ("counter-scheduled", "4"),
        ("counter-paused", "1"),
        ("counter-finished", "1"),
        ("counter-dead", "1"),
    ] {
        assert_eq!(attr(tag(&dom, id), "data-value"), Some(expected), "{id}");
    }
    let fires = attr(tag(&dom, "counter-fires-minute"), "data-value").unwrap_or_default();
    assert!(fires.parse::<u64>().is_ok(), "fires this minute: {fires:?}");
    assert_eq!(attr(tag(&dom, "live-status"), "data-state"), Some("ok"));

    // The selected task's detail and fire history.
    let detail = tag(&dom, "task-detail");
    assert!(!is_hidden(detail), "the detail panel is open: {detail}");
    assert_eq!(attr(detail, "data-taskid"), Some(heartbeat.as_str()));
    assert!(dom.contains("every 1m"), "the loop's schedule is shown");
    assert!(!is_hidden(tag(&dom, "action-pause")));
    assert!(is_hidden(tag(&dom, "action-resume")));
    let history = tags(&dom, "history-row");
    assert!(
        !history.is_empty(),
        "the heartbeat's first fire is in its history"
    );

    // The dead letter, with its requeue button.
    let dead = tags(&dom, "dead-letter-row");
    assert_eq!(dead.len(), 1, "{dead:#?}");
    assert_eq!(attr(dead[0], "data-msgid"), Some(msgid.as_str()));
    assert_eq!(attr(dead[0], "data-tag"), Some("dash.expire"));
    let requeue = tags(&dom, "requeue-button");
    assert_eq!(attr(requeue[0], "data-msgid"), Some(msgid.as_str()));

    // Nothing went wrong on the way.
    assert_ne!(attr(tag(&dom, "notice"), "data-kind"), Some("error"));
}

#[test]
fn dashboard_is_public_and_asks_for_the_api_token() {
    chromium();
    let server = Server::start(&["--auth-token", "s3cret"]);
    let (status, body) = server.get("/v1/api/tasks");
    assert_error(status, &body, 401, "the API without the token");

    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .expect("http client");
    for (path, content_type) in [
        ("/", "text/html"),
        ("/ui/app.js", "text/javascript"),
        ("/ui/style.css", "text/css"),
        ("/openapi.json", "application/json"),
    ] {
        let res = http.get(server.url(path)).send().expect("GET");
        assert_eq!(res.status().as_u16(), 200, "{path} needs no token");
        let header = |name: &str| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert!(header("content-type").starts_with(content_type), "{path}");
        assert!(
            !header("cache-control").is_empty(),
            "{path} has a cache header"
        );
        if path == "/openapi.json" {
            let doc: serde_json::Value = res.json().expect("openapi.json is JSON");
            assert!(doc["paths"]["/v1/api/task"]["post"].is_object());
        }
    }

    let dom = dump_dom(&server.url("/"));
    assert!(
        !is_hidden(tag(&dom, "token-form")),
        "the token form is shown"
    );
    assert!(!is_hidden(tag(&dom, "auth-required")));
    assert_eq!(attr(tag(&dom, "live-status"), "data-state"), Some("auth"));
    assert!(tags(&dom, "task-row").is_empty());
    // /metrics is public: the counters still show.
    assert_eq!(
        attr(tag(&dom, "counter-scheduled"), "data-value"),
        Some("0")
    );
}
