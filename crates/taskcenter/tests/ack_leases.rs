//! Acks and nacks tied to the lease they come from, end to end: a consumer whose lease
//! ran out while another got the next delivery still acks successfully, as does the
//! other one; its nack cannot reschedule the other's delivery; history says which
//! delivery acked; a consumer still at work holds its message with an extended lease.
//! Leases here are 1 s and the retry after an expired lease 1 s.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const ARGS: [&str; 4] = ["--retry-delays", "1s,1s", "--lease", "1s"];

/// A once task due now; returns its id and its first delivery (attempt 1) to `group`.
fn first_delivery(server: &Server, group: &str, tag: &str) -> (String, Received) {
    let id = server.add_task(json!({"name": tag, "type": 1, "data": "p"}));
    let got = server.collect(group, tag, 1, Duration::from_secs(5), false);
    assert_eq!(got.len(), 1, "first delivery within 5 s");
    assert_eq!(got[0].int("attempt"), 1);
    (id, got.into_iter().next().expect("one"))
}

/// The next delivery of the message once A's lease ran out and its retry is due.
fn redelivery(server: &Server, group: &str, tag: &str) -> Received {
    let got = server.collect(group, tag, 1, Duration::from_secs(6), false);
    assert_eq!(got.len(), 1, "redelivered after the lease ran out");
    assert_eq!(got[0].int("attempt"), 2);
    got.into_iter().next().expect("one")
}

fn post_for(server: &Server, path: &str, group: &str, msgid: &str, attempt: Option<i64>) -> Value {
    let mut body = json!({"group": group, "msgids": [msgid]});
    if let Some(attempt) = attempt {
        body["attempts"] = json!([attempt]);
    }
    let (status, resp) = server.post(path, &body);
    assert_eq!(status, 200, "{path}: {resp}");
    resp
}

fn history(server: &Server, id: &str) -> Value {
    let (status, body) = server.get(&format!("/v1/api/task-history?taskid={id}"));
    assert_eq!(status, 200, "history: {body}");
    body["fires"][0].clone()
}

#[test]
fn a_late_ack_and_the_current_ack_both_succeed() {
    let server = Server::start(&ARGS);
    let (id, a) = first_delivery(&server, "g", "late");
    let b = redelivery(&server, "g", "late");
    let msgid = a.str("msgid");
    assert_eq!(b.str("msgid"), msgid);
    let late = post_for(&server, "/v1/api/ack", "g", &msgid, Some(1));
    assert_eq!(late["msgids"], json!([msgid]), "A's late ack acks it");
    let current = post_for(&server, "/v1/api/ack", "g", &msgid, Some(2));
    assert_eq!(current["msgids"], json!([msgid]), "B's ack is success too");
    let old_client = post_for(&server, "/v1/api/ack", "g", &msgid, None);
    assert_eq!(old_client["msgids"], json!([msgid]));
    let fire = history(&server, &id);
    assert_eq!(fire["state"], "acked", "{fire}");
    assert_eq!(fire["acked_attempt"], 1, "{fire}");
    let more = server.drain_for("g", "late", Duration::from_millis(2500), false);
    assert!(more.is_empty(), "an acked message never returns: {more:?}");
}

#[test]
fn a_stale_nack_leaves_the_new_lease_alone() {
    let server = Server::start(&ARGS);
    let (id, a) = first_delivery(&server, "g", "stale");
    let msgid = a.str("msgid");
    redelivery(&server, "g", "stale");
    let stale = post_for(&server, "/v1/api/nack", "g", &msgid, Some(1));
    assert_eq!(stale["msgids"], json!([]), "nothing given back");
    let fire = history(&server, &id);
    assert_eq!(
        (fire["state"].clone(), fire["attempts"].clone()),
        (json!("leased"), json!(2))
    );
    let current = post_for(&server, "/v1/api/nack", "g", &msgid, Some(2));
    assert_eq!(current["msgids"], json!([msgid]));
    let third = server.collect("g", "stale", 1, Duration::from_secs(5), false);
    assert_eq!(third.len(), 1, "the current lease's nack retries it");
    assert_eq!(third[0].int("attempt"), 3);
}

#[test]
fn attempts_must_match_the_msgids() {
    let server = Server::start(&ARGS);
    let body = json!({"group": "g", "msgids": ["1", "2"], "attempts": [1]});
    let (status, resp) = server.post("/v1/api/ack", &body);
    assert_error(status, &resp, 400, "one attempt per msgid");
    let body = json!({"group": "g", "msgids": ["1"], "attempts": [0]});
    let (status, resp) = server.post("/v1/api/nack", &body);
    assert_error(status, &resp, 400, "attempts start at 1");
}

/// A consumer still at work extends its lease: the message is not retried when the first
/// lease would have run out, only a while after the extended one; a lease that ran out, or
/// one of an earlier delivery, is not extended.
#[test]
fn an_extended_lease_holds_the_message() {
    let server = Server::start(&ARGS);
    let (_, a) = first_delivery(&server, "g", "held");
    let msgid = a.str("msgid");
    let extend = json!({"group": "g", "msgids": [msgid], "attempts": [1], "lease_ms": 3000});
    let (status, held) = server.post("/v1/api/extend", &extend);
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["msgids"], json!([msgid]));
    // The first lease (1 s) and its retry (1 s) would be over in 2 s.
    let early = server.drain_for("g", "held", Duration::from_millis(2500), false);
    assert!(early.is_empty(), "held by the extension: {early:?}");
    let b = redelivery(&server, "g", "held");
    assert_eq!(b.str("msgid"), msgid);
    let stale = post_for(&server, "/v1/api/extend", "g", &msgid, Some(1));
    assert_eq!(stale["msgids"], json!([]), "attempt 1's lease is over");
}

#[test]
fn an_ack_task_s_lease_is_not_extended_and_bad_extensions_are_refused() {
    let server = Server::start(&ARGS);
    server
        .add_task(json!({"name": "acked", "type": 1, "data": "a", "ack": true, "max_runtime": 1}));
    let got = server.collect("g", "acked", 1, Duration::from_secs(5), false);
    assert_eq!(got.len(), 1);
    let msgid = got[0].str("msgid");
    let held = post_for(&server, "/v1/api/extend", "g", &msgid, None);
    assert_eq!(held["msgids"], json!([]), "its lease is its max_runtime");
    for (body, why) in [
        (
            json!({"group": "g", "msgids": [msgid], "lease_ms": 0}),
            "lease_ms",
        ),
        (
            json!({"group": "g", "msgids": [msgid], "lease_ms": 3_600_001}),
            "lease_ms",
        ),
        (json!({"group": "g", "msgids": []}), "msgids"),
        (
            json!({"group": "g", "msgids": [msgid], "attempts": [1, 2]}),
            "attempt",
        ),
        (json!({"group": "@g", "msgids": [msgid]}), "reserved"),
    ] {
        let (status, resp) = server.post("/v1/api/extend", &body);
        assert_error(status, &resp, 400, why);
    }
}
