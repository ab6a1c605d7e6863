//! The publisher's options against real brokers: Redis Streams' `--redis-maxlen`, the
//! webhook's `--webhook-timeout` and the brokers' `--publish-timeout` (against listeners
//! that accept and never answer), and credentials in the URL for NATS and Redis (a private
//! nats-server and redis-server started with a password; RabbitMQ's `guest:guest@` is in
//! the publisher suite). Each is proven by the broker's own client or counters.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use serde_json::json;
use tokio::runtime::Runtime;

const REDIS: &str = "127.0.0.1:6379";

/// A topic (stream, subject prefix) no other test uses.
fn topic(test: &str) -> String {
    format!("tc_opt_{test}_{}_{}", std::process::id(), now_ms())
}

/// A free loopback port.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A broker process of the test's own, killed when dropped.
struct Private {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Private {
    /// Starts `program args…` and waits until it listens on `port`.
    fn start(program: &str, args: &[&str], port: u16, dir: tempfile::TempDir) -> Private {
        let child = Command::new(program)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} (scripts/brokers.sh installs it): {e}"));
        let private = Private { child, _dir: dir };
        wait_for(Duration::from_secs(10), &format!("{program} up"), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        private
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The program's path: on PATH, or in /usr/sbin where Debian puts some brokers.
fn program(name: &str) -> String {
    let sbin = format!("/usr/sbin/{name}");
    if Path::new(&sbin).exists() {
        sbin
    } else {
        name.to_string()
    }
}

/// A listener that accepts connections and never answers, counting them.
fn silent_listener(rt: &Runtime) -> (String, Arc<AtomicUsize>) {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address").to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    rt.spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            // Kept open and unread: the client waits for an answer that never comes.
            held.push(socket);
        }
    });
    (addr, accepted)
}

fn redis_conn(rt: &Runtime, url: &str) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(url).expect("redis URL");
    rt.block_on(client.get_multiplexed_async_connection())
        .expect("Redis answers")
}

/// `(entries-added, length)` of a stream, from Redis's own `XINFO STREAM`.
fn stream_counts(
    rt: &Runtime,
    conn: &mut redis::aio::MultiplexedConnection,
    key: &str,
) -> (i64, i64) {
    let info: redis::Value = rt
        .block_on(redis::cmd("XINFO").arg("STREAM").arg(key).query_async(conn))
        .unwrap_or(redis::Value::Nil);
    let redis::Value::Array(items) = info else {
        return (0, 0);
    };
    let field = |name: &str| {
        items
            .chunks(2)
            .find(|kv| matches!(&kv[0], redis::Value::BulkString(b) if b == name.as_bytes()))
            .and_then(|kv| match kv.get(1) {
                Some(redis::Value::Int(n)) => Some(*n),
                _ => None,
            })
            .unwrap_or(0)
    };
    (field("entries-added"), field("length"))
}

#[test]
fn redis_maxlen_keeps_about_the_newest_entries() {
    let rt = Runtime::new().expect("runtime");
    let stream = topic("maxlen");
    let server = Server::start(&[
        "--publisher",
        &format!("redis://{REDIS}/0"),
        "--topic",
        &stream,
        "--redis-maxlen",
        "10",
    ]);
    let n = 250;
    for i in 0..n {
        server.add_task(json!({"name": "trim", "type": 1, "data": format!("m{i}")}));
    }
    let mut conn = redis_conn(&rt, &format!("redis://{REDIS}/0"));
    wait_for(Duration::from_secs(30), "every fire appended", || {
        stream_counts(&rt, &mut conn, &stream).0 == n
    });
    let (_, length) = stream_counts(&rt, &mut conn, &stream);
    let _: Result<(), _> = rt.block_on(redis::cmd("DEL").arg(&stream).query_async(&mut conn));
    // `~` trims whole nodes only: about the newest 10, never fewer, far from all 250.
    assert!(
        (10..n).contains(&length),
        "stream length {length} after {n} appends"
    );
}

#[test]
fn webhook_timeout_gives_up_on_a_receiver_that_never_answers() {
    let rt = Runtime::new().expect("runtime");
    let (addr, accepted) = silent_listener(&rt);
    let server = Server::start(&[
        "--publisher",
        &format!("http://{addr}/hook"),
        "--webhook-timeout",
        "300ms",
    ]);
    let id = server.add_task(json!({"name": "slow", "type": 1, "data": "x"}));
    let started = Instant::now();
    // Each timed-out request drops its connection; the next try opens a new one. The
    // default 10 s would allow one try in this time.
    wait_for(Duration::from_secs(6), "three tries", || {
        accepted.load(Ordering::SeqCst) >= 3
    });
    assert!(started.elapsed() < Duration::from_secs(6));
    let (status, body) = server.get(&format!("/v1/api/task-history?taskid={id}"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["fires"][0]["state"], "pending", "{body}");
}

#[test]
fn publish_timeout_gives_up_on_a_broker_that_never_answers() {
    let rt = Runtime::new().expect("runtime");
    let (addr, accepted) = silent_listener(&rt);
    let server = Server::start(&[
        "--publisher",
        &format!("redis://{addr}/0"),
        "--publish-timeout",
        "300ms",
    ]);
    server.add_task(json!({"name": "slow", "type": 1, "data": "x"}));
    wait_for(Duration::from_secs(6), "three tries", || {
        accepted.load(Ordering::SeqCst) >= 3
    });
}

#[test]
fn redis_password_in_the_url() {
    let rt = Runtime::new().expect("runtime");
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let port_text = port.to_string();
    let _redis = Private::start(
        &program("redis-server"),
        &[
            "--port",
            &port_text,
            "--bind",
            "127.0.0.1",
            "--requirepass",
            "s3cr:t",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        port,
        dir,
    );
    let stream = topic("redis_auth");
    let url = format!("redis://:s3cr%3At@127.0.0.1:{port}/0");
    let server = Server::start(&["--publisher", &url, "--topic", &stream]);
    server.add_task(json!({"name": "auth", "type": 1, "data": "with a password"}));
    let mut conn = redis_conn(&rt, &url);
    wait_for(Duration::from_secs(15), "the fire appended", || {
        stream_counts(&rt, &mut conn, &stream).0 == 1
    });
    let entries: redis::streams::StreamRangeReply = rt
        .block_on(
            redis::cmd("XRANGE")
                .arg(&stream)
                .arg("-")
                .arg("+")
                .query_async(&mut conn),
        )
        .expect("XRANGE");
    let data: Vec<u8> = entries.ids[0].get("data").expect("data field");
    assert_eq!(data, b"with a password");
    // Without the password Redis refuses the connection.
    let bare = redis::Client::open(format!("redis://127.0.0.1:{port}/0")).expect("URL");
    let refused = rt.block_on(async {
        let mut c = bare.get_multiplexed_async_connection().await?;
        redis::cmd("XLEN")
            .arg(&stream)
            .query_async::<i64>(&mut c)
            .await
    });
    assert!(refused.is_err(), "a password is required: {refused:?}");
}

#[test]
fn nats_user_and_password_in_the_url() {
    let rt = Runtime::new().expect("runtime");
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("js");
    let (port_text, store_text) = (port.to_string(), store.display().to_string());
    let _nats = Private::start(
        &program("nats-server"),
        &[
            "-a",
            "127.0.0.1",
            "-p",
            &port_text,
            "--user",
            "tc",
            "--pass",
            "p@ss:w",
            "-js",
            "-sd",
            &store_text,
        ],
        port,
        dir,
    );
    let subject = topic("nats_auth");
    let addr = format!("nats://127.0.0.1:{port}");
    let mut sub = rt.block_on(async {
        let client =
            async_nats::ConnectOptions::with_user_and_password("tc".into(), "p@ss:w".into())
                .connect(addr.as_str())
                .await
                .expect("the private NATS takes the password");
        client
            .subscribe(format!("{subject}.>"))
            .await
            .expect("subscribe")
    });
    let refused = rt.block_on(async_nats::connect(addr.as_str()));
    assert!(refused.is_err(), "a password is required");
    let url = format!("nats://tc:p%40ss%3Aw@127.0.0.1:{port}");
    let server = Server::start(&["--publisher", &url, "--topic", &subject]);
    server.add_task(json!({"name": "auth", "type": 1, "data": "with a password"}));
    let got = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(15), sub.next()).await })
        .expect("published within 15 s")
        .expect("a message");
    assert_eq!(got.subject.as_str(), format!("{subject}.auth"));
    assert_eq!(&got.payload[..], b"with a password");
}
