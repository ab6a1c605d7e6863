//! Connection limits: idle and half-sent connections are closed, a flood of them does not
//! stop the server answering, and long-polls are not cut by any of it.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

/// Opens a TCP connection to the server.
fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(&server.addr).expect("connect")
}

/// Reads until the server closes the connection or `within` passes; the time it took, if
/// closed.
fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    while started.elapsed() < within {
        let left = within
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1));
        stream.set_read_timeout(Some(left)).expect("read timeout");
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(started.elapsed());
            }
            Err(_) => return None,
        }
    }
    None
}

/// Whether the server has closed `stream` (without waiting).
fn is_closed(stream: &mut TcpStream) -> bool {
    closed_within(stream, Duration::from_millis(5)).is_some()
}

#[test]
fn a_partial_request_head_is_closed_after_the_header_timeout() {
    let server = Server::start(&["--header-timeout", "1s", "--idle-timeout", "30s"]);
    let mut stream = connect(&server);
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .expect("send part of a head");
    let took = closed_within(&mut stream, Duration::from_secs(10))
        .expect("a half-sent head was not closed within 10 s (header timeout 1 s)");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(4),
        "closed after {took:?}, expected about 1 s"
    );
}

#[test]
fn an_idle_connection_is_closed_after_the_idle_timeout_and_a_busy_one_is_not() {
    let server = Server::start(&["--header-timeout", "1s", "--idle-timeout", "2s"]);
    // Never sent a byte.
    let mut silent = connect(&server);
    // Sent a request, then went quiet (keep-alive).
    let mut kept = connect(&server);
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("send");
    let mut buf = [0u8; 1024];
    kept.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let n = kept.read(&mut buf).expect("answer");
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    // The idle timeout is longer than the header timeout: not closed after 1 s.
    std::thread::sleep(Duration::from_millis(1300));
    assert!(
        !is_closed(&mut silent),
        "an idle connection was closed at the header timeout"
    );
    let took = closed_within(&mut silent, Duration::from_secs(8))
        .expect("an idle connection was not closed within 8 s (idle timeout 2 s)");
    assert!(
        took < Duration::from_secs(3),
        "closed {took:?} after the check"
    );
    assert!(
        closed_within(&mut kept, Duration::from_secs(5)).is_some(),
        "an idle keep-alive connection was not closed"
    );
    // A long-poll waits longer than both timeouts and still answers.
    let started = Instant::now();
    let msgs = server.consume("lp", "lp.none", 10, 3_500);
    assert!(msgs.is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "the long-poll ended early: {:?}",
        started.elapsed()
    );
}

#[test]
fn a_flood_of_idle_and_half_sent_connections_does_not_stop_the_server() {
    let server = Server::start(&[
        "--max-connections",
        "50",
        "--header-timeout",
        "30s",
        "--idle-timeout",
        "60s",
    ]);
    // A consumer long-polling when the flood starts keeps its answer.
    let api = server.api.clone();
    let poll = std::thread::spawn(move || api.try_consume("fl", "fl.none", 10, 3_000));
    std::thread::sleep(Duration::from_millis(300));
    let mut flood = Vec::new();
    for i in 0..300 {
        let mut stream = connect(&server);
        if i % 2 == 1 {
            stream
                .write_all(b"POST /v1/api/task HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .expect("send part of a head");
        }
        flood.push(stream);
    }
    let started = Instant::now();
    let (status, body) = server
        .try_get("/healthz")
        .unwrap_or_else(|e| panic!("healthz failed under the flood: {e}"));
    assert_eq!(status, 200, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "healthz took {:?} under the flood",
        started.elapsed()
    );
    // At most the limit stays open: the server closed the rest.
    std::thread::sleep(Duration::from_millis(300));
    let open = flood
        .iter_mut()
        .map(is_closed)
        .filter(|closed| !closed)
        .count();
    assert!(
        open <= 50,
        "{open} of 300 flood connections still open (limit 50)"
    );
    let msgs = poll
        .join()
        .expect("poll thread")
        .unwrap_or_else(|e| panic!("the long-poll was cut by the flood: {e}"));
    assert!(msgs.is_empty());
    let log = server.log_tail(200);
    let lines = log.matches("connection limit reached").count();
    assert!(lines >= 1, "no log line about the limit:\n{log}");
    assert!(lines <= 2, "{lines} log lines about the limit:\n{log}");
}

#[test]
fn sigterm_with_idle_half_sent_and_long_poll_connections_exits_quickly() {
    let mut server = Server::start(&["--header-timeout", "30s", "--idle-timeout", "60s"]);
    let mut idle = connect(&server);
    let mut half = connect(&server);
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .expect("send part of a head");
    let api = server.api.clone();
    let poll = std::thread::spawn(move || api.try_consume("sd", "sd.none", 10, 30_000));
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let status = server
        .sigterm(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("still running 5 s after SIGTERM:\n{}", server.log_tail(20)));
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "exit took {:?}",
        started.elapsed()
    );
    assert!(is_closed(&mut idle) && is_closed(&mut half));
    if let Ok(msgs) = poll.join().expect("poll thread") {
        assert!(msgs.is_empty());
    }
}
