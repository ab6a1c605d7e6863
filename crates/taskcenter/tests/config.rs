//! `taskcenter serve` configured as a new user would: the example file, a host name to
//! listen on, and a Go service's `task_center.toml` with sections taskcenter ignores (its
//! `[rocketmq]` section is proven in the publisher suite, against a real broker).

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[test]
fn listens_on_a_host_name() {
    let server = Server::start(&["--listen", "localhost:0"]);
    let addr: std::net::SocketAddr = server.addr.parse().expect("an IP:PORT address");
    assert!(addr.ip().is_loopback(), "localhost bound {addr}");
    assert_ne!(addr.port(), 0);
    let (status, _) = server.get("/healthz");
    assert_eq!(status, 200);
}

#[test]
fn the_example_file_runs_a_server_without_warnings() {
    let example = include_str!("../../../taskcenter.toml");
    // The harness's --listen and --data-dir flags beat the file's.
    let server = Server::start_with_config(example, &[]);
    let id = server.add_task(json!({"name": "cfg.example", "type": 1, "data": "x"}));
    assert_eq!(server.task_ok(&id)["name"], "cfg.example");
    assert!(
        !server.log_tail(200).contains("WARN"),
        "{}",
        server.log_tail(200)
    );
}

#[test]
fn unused_sections_warn_and_retry_delays_may_be_one_string() {
    let config = "retry_delays = \"1s\"\n\
                  [task_center]\nname_alert_count = 100\n\
                  [mongodb]\nuri = \"mongodb://127.0.0.1:27017\"\n\
                  [redis]\naddr = \"127.0.0.1:6379\"\n";
    let server = Server::start_with_config(config, &["--lease", "2s"]);
    let log = server.log_tail(200);
    for section in ["[mongodb]", "[redis]"] {
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("WARN") && l.contains(section))
            .collect();
        assert_eq!(lines.len(), 1, "{section} warnings in:\n{log}");
    }
    assert!(!log.contains("[task_center]"), "{log}");

    // The one-string ladder took effect: a nacked message comes back after 1 s.
    server.subscribe("cfg", "cfg.retry");
    server.add_task(json!({"name": "cfg.retry", "type": 1, "data": "r"}));
    let first = server.collect("cfg", "cfg.retry", 1, Duration::from_secs(5), false);
    assert_eq!(first.len(), 1, "no delivery");
    let nacked_at = now_ms();
    server.nack("cfg", &[first[0].str("msgid")], None);
    let again = server.collect("cfg", "cfg.retry", 1, Duration::from_secs(5), true);
    assert_eq!(again.len(), 1, "no redelivery within 5 s");
    assert_eq!(again[0].int("attempt"), 2);
    let after = again[0].at_ms - nacked_at;
    assert!(
        (900..2_500).contains(&after),
        "redelivered {after} ms after the nack"
    );
}
