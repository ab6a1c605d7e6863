//! The process contracts scripts rely on: graceful exit on signals, and
//! `taskcenter consume --json`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

#[test]
fn sigterm_with_a_long_poll_in_flight_exits_0_quickly() {
    let mut server = Server::start(&[]);
    let api = server.api.clone();
    let poll = thread::spawn(move || api.try_consume("sd", "sd.none", 10, 30_000));
    thread::sleep(Duration::from_millis(500)); // let the long-poll reach the server
    let t = Instant::now();
    let status = server.sigterm(Duration::from_secs(5));
    let status = status
        .unwrap_or_else(|| panic!("still running 5 s after SIGTERM:\n{}", server.log_tail(20)));
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status}"
    );
    // The in-flight poll ends with the server (an answer or a closed connection), not after 30 s.
    let deadline = Instant::now() + Duration::from_secs(3);
    while !poll.is_finished() {
        assert!(
            Instant::now() < deadline,
            "the long-poll outlived the server by 3 s"
        );
        thread::sleep(Duration::from_millis(20));
    }
    if let Ok(msgs) = poll.join().expect("poll thread") {
        assert!(msgs.is_empty(), "nothing was due: {msgs:?}");
    }
    eprintln!("exited {:?} after SIGTERM", t.elapsed());
}

#[test]
fn sigint_exits_0() {
    let mut server = Server::start(&[]);
    let status = server
        .signal_and_wait("INT", Duration::from_secs(5))
        .expect("exit within 5 s of SIGINT");
    assert_eq!(status.code(), Some(0), "exit status after SIGINT: {status}");
}

#[test]
fn graceful_restart_keeps_tasks() {
    let mut server = Server::start(&[]);
    let id = server.add_task(json!({"name": "sd.keep", "type": 2, "data": "x", "loop_time": 3600, "start_time": now_s() + 3600}));
    let status = server
        .sigterm(Duration::from_secs(5))
        .expect("exit within 5 s of SIGTERM");
    assert_eq!(status.code(), Some(0));
    server.restart();
    let task = server.task_ok(&id);
    assert_eq!(
        (task["name"].clone(), task["status"].clone()),
        (json!("sd.keep"), json!("scheduled"))
    );
}

/// A child process killed on drop.
struct Cli(Child);

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn consume_cli_prints_one_json_line_per_delivery_and_acks() {
    let server = Server::start(&["--lease", "2s", "--retry-delays", "1s"]);
    let url = format!("http://{}", server.addr);
    let mut cli = Cli(command()
        .args([
            "consume", "cli.tag", "--group", "cli", "--server", &url, "--json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn taskcenter consume"));
    let (tx, lines) = mpsc::channel::<String>();
    let stdout = cli.0.stdout.take().expect("stdout");
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let id = server.add_task(json!({"name": "cli.tag", "type": 1, "data": "payload-1"}));
    let line = lines
        .recv_timeout(Duration::from_secs(10))
        .expect("a line within 10 s of the fire");
    let msg: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
    assert!(msg["msgid"].is_string(), "msgid: {msg}");
    assert_eq!(msg["taskid"], json!(id));
    assert_eq!(msg["tag"], json!("cli.tag"));
    assert_eq!(msg["data"], json!("payload-1"));
    assert!(msg["fire_time"].is_i64(), "fire_time: {msg}");
    assert!(msg["fire_id"].is_string(), "fire_id: {msg}");
    assert_eq!(msg["attempt"], json!(1));
    assert!(msg["lease_until"].is_i64(), "lease_until: {msg}");
    assert!(
        cli.0.try_wait().expect("try_wait").is_none(),
        "the consumer exited after one message"
    );

    // Acked after printing: nothing comes back once the 2 s lease and 1 s retry are over.
    match lines.recv_timeout(Duration::from_secs(4)) {
        Err(_) => {}
        Ok(again) => panic!("a second line, so the first delivery was not acked: {again}"),
    }
}
