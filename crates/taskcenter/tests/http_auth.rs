//! What a web page on another site, or a wrong token, can and cannot do; which routes stay
//! open; and the token kept out of `--help`.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

/// A blocking client that sends the given headers with every request.
fn send(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &str)>,
) -> (u16, Value) {
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = client.request(method, server.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some((content_type, body)) = body {
        req = req
            .header("content-type", content_type)
            .body(body.to_string());
    }
    let res = req.send().expect("send");
    let status = res.status().as_u16();
    let text = res.text().expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

fn far_task(name: &str) -> Value {
    json!({"name": name, "type": 1, "data": "x", "start_time": now_s() + 3600})
}

fn names_left(server: &Server, name: &str) -> usize {
    let (status, list) = server.get(&format!("/v1/api/query-task-by-name?name={name}"));
    assert_eq!(status, 200, "{list}");
    list.as_array().map_or(0, Vec::len)
}

#[test]
fn a_cross_site_form_post_deletes_nothing() {
    let server = Server::start(&[]);
    server.add_task(far_task("xs.keep"));
    let body = Some(("text/plain", r#"{"name":"xs.keep"}"#));
    let (status, resp) = send(
        &server,
        "POST",
        "/v1/api/delete-task-by-name",
        &[("origin", "https://evil.example")],
        body,
    );
    assert_error(status, &resp, 403, "evil origin");
    assert!(
        resp["msg"]
            .as_str()
            .is_some_and(|m| m.contains("evil.example")),
        "{resp}"
    );
    let (status, resp) = send(
        &server,
        "POST",
        "/v1/api/delete-task-by-name",
        &[("sec-fetch-site", "cross-site")],
        body,
    );
    assert_error(status, &resp, 403, "sec-fetch-site cross-site");
    assert_eq!(names_left(&server, "xs.keep"), 1, "the task was deleted");
    // A caller without an Origin (curl, a server) keeps working, whatever the type.
    let (status, resp) = send(&server, "POST", "/v1/api/delete-task-by-name", &[], body);
    assert_eq!(status, 200, "{resp}");
    assert_eq!(names_left(&server, "xs.keep"), 0);
}

#[test]
fn the_server_s_own_pages_and_allowed_origins_may_post() {
    let server = Server::start(&["--allow-origin", "https://ops.example"]);
    let own = format!("http://{}", server.addr);
    let task = far_task("xs.own").to_string();
    for origin in [own.as_str(), "https://ops.example"] {
        let (status, resp) = send(
            &server,
            "POST",
            "/v1/api/task",
            &[("origin", origin), ("sec-fetch-site", "same-origin")],
            Some(("application/json", &task)),
        );
        assert_eq!(status, 200, "origin {origin}: {resp}");
    }
    let (status, resp) = send(
        &server,
        "POST",
        "/v1/api/task",
        &[("origin", "https://other.example")],
        Some(("application/json", &task)),
    );
    assert_error(status, &resp, 403, "an origin not allowed");
    // Reading is not a state change: a GET with a foreign origin answers.
    let (status, _) = send(
        &server,
        "GET",
        "/v1/api/task/stat",
        &[("origin", "https://other.example")],
        None,
    );
    assert_eq!(status, 200);
}

#[test]
fn a_loopback_server_refuses_foreign_host_names_unless_allowed() {
    let server = Server::start(&["--allow-host", "tasks.internal"]);
    let (status, resp) = send(
        &server,
        "GET",
        "/v1/api/task/stat",
        &[("host", "evil.example")],
        None,
    );
    assert_error(status, &resp, 403, "rebound host name");
    for host in ["localhost", "tasks.internal:8081", server.addr.as_str()] {
        let (status, resp) = send(&server, "GET", "/v1/api/task/stat", &[("host", host)], None);
        assert_eq!(status, 200, "host {host}: {resp}");
    }
}

#[test]
fn the_token_is_checked_with_any_case_of_the_scheme_and_metrics_can_be_protected() {
    let server = Server::start(&["--auth-token", "s3cret", "--protect-metrics"]);
    let path = "/v1/api/task/stat";
    for (header, expected) in [
        ("Bearer s3cret", 200),
        ("bearer s3cret", 200),
        ("BEARER s3cret", 200),
        ("Bearer s3cre", 401),
        ("Bearer s3cret2", 401),
        ("Basic s3cret", 401),
    ] {
        let (status, resp) = send(&server, "GET", path, &[("authorization", header)], None);
        assert_eq!(status, expected, "{header}: {resp}");
    }
    let (status, resp) = send(&server, "GET", "/metrics", &[], None);
    assert_error(status, &resp, 401, "metrics without the token");
    let (status, _) = send(
        &server,
        "GET",
        "/metrics",
        &[("authorization", "Bearer s3cret")],
        None,
    );
    assert_eq!(status, 200);
    for open in ["/healthz", "/readyz", "/openapi.json", "/", "/ui/app.js"] {
        let (status, _) = send(&server, "GET", open, &[], None);
        assert_eq!(status, 200, "{open} should stay open");
    }
}

#[test]
fn metrics_are_open_by_default_and_alerts_are_a_counter() {
    let server = Server::start(&["--auth-token", "s3cret"]);
    let (status, body) = send(&server, "GET", "/metrics", &[], None);
    assert_eq!(status, 200, "{body}");
    let text = body.as_str().unwrap_or_default();
    assert!(
        text.contains("# TYPE taskcenter_alerts_total counter"),
        "{text}"
    );
    assert!(!text.contains("taskcenter_alerts_total gauge"), "{text}");
}

#[test]
fn serve_help_does_not_print_the_token_from_the_environment() {
    let out = command()
        .args(["serve", "--help"])
        .env("TASKCENTER_AUTH_TOKEN", "very-secret-token-value")
        .output()
        .expect("run serve --help");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("--auth-token"), "{text}");
    assert!(text.contains("--protect-metrics"), "{text}");
    assert!(!text.contains("very-secret-token-value"), "{text}");
}

#[test]
fn the_config_file_sets_origins_hosts_and_metrics_protection() {
    let config = r#"
auth_token = "s3cret"
protect_metrics = true
allow_origins = ["https://ops.example"]
allow_hosts = ["tasks.internal"]
max_connections = 64
header_timeout = "5s"
idle_timeout = "30s"
"#;
    let server = Server::start_with_config(config, &[]);
    let (status, resp) = send(&server, "GET", "/metrics", &[], None);
    assert_error(status, &resp, 401, "protected metrics");
    let token = ("authorization", "Bearer s3cret");
    let (status, resp) = send(
        &server,
        "GET",
        "/v1/api/task/stat",
        &[token, ("host", "tasks.internal")],
        None,
    );
    assert_eq!(status, 200, "allowed host: {resp}");
    let task = far_task("cfg.origin").to_string();
    let (status, resp) = send(
        &server,
        "POST",
        "/v1/api/task",
        &[token, ("origin", "https://ops.example")],
        Some(("application/json", &task)),
    );
    assert_eq!(status, 200, "allowed origin: {resp}");
}
