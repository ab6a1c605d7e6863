//! `taskcenter consume` as scripts use it: `--count N` leases no more than it prints, a
//! reader that goes away (`| head -1`) ends it quietly and gives back what it did not
//! print, the `--json` lines are exactly the consume API's messages, and the text lines
//! show the fire time in UTC.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// A `taskcenter consume` child process, killed on drop.
struct Consumer(Child);

impl Consumer {
    fn spawn(server: &Server, args: &[&str]) -> Consumer {
        let url = server.base_url();
        let child = command()
            .arg("consume")
            .args(args)
            .args(["--server", &url])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn taskcenter consume");
        Consumer(child)
    }

    /// Waits up to `within` for the exit; answers the exit code and what went to stderr.
    fn exit_within(&mut self, within: Duration) -> (i32, String) {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "consume still running after {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        if let Some(stderr) = self.0.stderr.take() {
            let _ = BufReader::new(stderr).read_line(&mut err);
        }
        (status.code().unwrap_or(-1), err)
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Adds `n` once tasks of `tag` and waits until all `n` messages are ready for `group`.
fn ready_messages(server: &Server, group: &str, tag: &str, n: usize) -> Vec<String> {
    server.subscribe(group, tag);
    let ids: Vec<String> = (0..n)
        .map(|i| server.add_task(json!({"name": tag, "type": 1, "data": format!("m{i}")})))
        .collect();
    wait_for(Duration::from_secs(5), "the fires", || {
        ids.iter()
            .all(|id| server.task_ok(id)["fire_count"].as_i64() == Some(1))
    });
    ids
}

#[test]
fn count_leases_no_more_than_it_prints() {
    let server = Server::start(&[]);
    ready_messages(&server, "cnt", "cnt.t", 5);
    let out = server.cli(&[
        "consume", "cnt.t", "--group", "cnt", "--count", "2", "--json",
    ]);
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(lines.len(), 2, "{out:?}");
    // The other three were never leased: they are ready now, on their first attempt.
    let rest = server.consume("cnt", "cnt.t", 100, 0);
    assert_eq!(rest.len(), 3, "left for others: {rest:?}");
    assert!(rest.iter().all(|m| m["attempt"] == 1), "{rest:?}");
    let printed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let mut all: Vec<&str> = printed
        .iter()
        .chain(&rest)
        .map(|m| m["data"].as_str().expect("data"))
        .collect();
    all.sort_unstable();
    assert_eq!(all, ["m0", "m1", "m2", "m3", "m4"]);
}

#[test]
fn json_lines_are_exactly_the_consume_api_messages() {
    let server = Server::start(&[]);
    let ids = ready_messages(&server, "js", "js.t", 1);
    let out = server.cli(&["consume", "js.t", "--group", "js", "--count", "1", "--json"]);
    let line = out.ok().lines().next().expect("one line").to_string();
    let msg: Value = serde_json::from_str(&line).expect("JSON");
    let mut keys: Vec<&str> = msg
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attempt",
            "data",
            "fire_id",
            "fire_time",
            "lease_until",
            "msgid",
            "tag",
            "taskid"
        ]
    );
    assert_eq!(
        (&msg["taskid"], &msg["tag"]),
        (&json!(ids[0]), &json!("js.t"))
    );
    assert!(
        msg["fire_time"].is_i64() && msg["lease_until"].is_i64(),
        "{msg}"
    );
}

#[test]
fn text_lines_show_the_fire_time_in_utc() {
    let server = Server::start(&[]);
    server.subscribe("txt", "txt.t");
    let at = now_s() + 1;
    server.add_task(json!({"name": "txt.t", "type": 1, "data": "hello", "start_time": at}));
    let out = server.cli(&["consume", "txt.t", "--group", "txt", "--count", "1"]);
    let line = out.ok().trim_end().to_string();
    let utc = jiff::Timestamp::from_second(at).expect("time").to_string();
    assert!(utc.ends_with('Z'), "{utc}");
    assert!(line.contains(&format!(" fire_time={utc} ")), "{line}");
    assert!(
        line.contains("tag=txt.t") && line.ends_with("data=hello"),
        "{line}"
    );
}

#[test]
fn a_closed_pipe_ends_it_quietly_and_unprinted_messages_go_back() {
    let server = Server::start(&[]);

    // `consume | head -1`: the reader takes one line and goes; nothing else is coming.
    ready_messages(&server, "head", "head.t", 1);
    let mut head = Consumer::spawn(&server, &["head.t", "--group", "head"]);
    let mut reader = BufReader::new(head.0.stdout.take().expect("stdout"));
    let mut first = String::new();
    reader.read_line(&mut first).expect("the first line");
    assert!(first.contains("data=m0"), "{first:?}");
    drop(reader);
    // The long-poll lasts 10 s: ending sooner means the closed pipe was noticed.
    let (code, err) = head.exit_within(Duration::from_secs(3));
    assert_eq!((code, err.as_str()), (0, ""), "exit status and stderr");

    // A reader gone before anything was printed: every message leased is given back.
    ready_messages(&server, "gone", "gone.t", 3);
    let mut gone = Consumer::spawn(&server, &["gone.t", "--group", "gone", "--json"]);
    drop(gone.0.stdout.take());
    let (code, err) = gone.exit_within(Duration::from_secs(5));
    assert_eq!((code, err.as_str()), (0, ""), "exit status and stderr");
    let back = server.collect("gone", "gone.t", 3, Duration::from_secs(3), true);
    assert_eq!(back.len(), 3, "not given back: {:?}", back);
}
