//! Request bodies: an oversized one is refused without being read, a body must be a JSON
//! object, and `null` is no value for a field.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const LIMIT: usize = 64 * 1024;

fn small_limit_server() -> Server {
    Server::start_with_config(&format!("max_body_bytes = {LIMIT}\n"), &[])
}

/// Sends `head` and then `body_part` (no more), and reads the answer: status and body.
/// Fails if no answer comes within 5 s, which is what waiting for the rest of the body
/// looks like.
fn answer_to_partial_upload(server: &Server, head: &str, body_part: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(&server.addr).expect("connect");
    stream.write_all(head.as_bytes()).expect("send head");
    // The server may refuse before taking all of this; a write error is fine then.
    let _ = stream.write_all(body_part);
    read_answer(stream)
}

/// Reads an answer from `stream`: status and body. Fails if none comes within 5 s.
fn read_answer(mut stream: TcpStream) -> (u16, Value) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if let Some(answer) = parse_answer(&raw) {
                    return answer;
                }
            }
            Err(e) => panic!(
                "no answer while the body was still being sent ({e}); got {:?}",
                String::from_utf8_lossy(&raw)
            ),
        }
    }
    parse_answer(&raw)
        .unwrap_or_else(|| panic!("incomplete answer: {:?}", String::from_utf8_lossy(&raw)))
}

/// A complete `HTTP/1.1` answer with a `Content-Length` body, if `raw` holds one.
fn parse_answer(raw: &[u8]) -> Option<(u16, Value)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    (body.len() >= length).then(|| {
        let body = serde_json::from_str(&body[..length]).unwrap_or(Value::Null);
        (status, body)
    })
}

#[test]
fn a_declared_oversized_body_is_refused_before_it_is_sent() {
    let server = small_limit_server();
    let head = format!(
        "POST /v1/api/task HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        200 * 1024 * 1024
    );
    let started = Instant::now();
    let (status, body) = answer_to_partial_upload(&server, &head, &vec![b' '; 256 * 1024]);
    assert_error(status, &body, 413, "200 MiB declared");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_chunked_body_is_refused_at_the_limit_without_reading_the_rest() {
    let server = small_limit_server();
    let head = "POST /v1/api/task HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\n\r\n";
    // Twice the limit in chunks, then the upload stalls without its last chunk.
    let mut part = Vec::new();
    for _ in 0..8 {
        let chunk = vec![b' '; LIMIT / 4];
        part.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        part.extend_from_slice(&chunk);
        part.extend_from_slice(b"\r\n");
    }
    let started = Instant::now();
    let (status, body) = answer_to_partial_upload(&server, head, &part);
    assert_error(status, &body, 413, "chunked, twice the limit");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_whole_oversized_upload_gets_its_413() {
    let server = small_limit_server();
    let big = vec![b' '; 96 * 1024 * 1024];
    let started = Instant::now();
    let (status, body) = server
        .post_raw("/v1/api/task", big, Some("application/json"))
        .unwrap_or_else(|e| panic!("no answer to a 96 MiB body: {e}"));
    assert_error(status, &body, 413, "96 MiB body");
    eprintln!("96 MiB body answered 413 in {:?}", started.elapsed());
    // The server is fine afterwards.
    assert_eq!(server.get("/healthz").0, 200);
}

#[test]
fn a_client_that_sends_its_whole_oversized_body_before_reading_reads_its_413() {
    let server = small_limit_server();
    let size = 96 * 1024 * 1024;
    let head = format!(
        "POST /v1/api/task HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {size}\r\n\r\n"
    );
    let mut stream = TcpStream::connect(&server.addr).expect("connect");
    stream.write_all(head.as_bytes()).expect("send head");
    // The answer is already written after the head; the server keeps taking what is sent
    // for a while so that this whole upload goes through instead of meeting a reset.
    stream
        .write_all(&vec![b' '; size])
        .unwrap_or_else(|e| panic!("the upload was cut before its end: {e}"));
    let (status, body) = read_answer(stream);
    assert_error(status, &body, 413, "96 MiB sent before reading");
}

#[test]
fn a_body_that_is_not_an_object_is_refused() {
    let server = Server::start(&[]);
    for body in [
        json!(["arr.name", 1, "x"]),
        json!("text"),
        json!(7),
        json!(null),
    ] {
        let (status, resp) = server.post("/v1/api/task", &body);
        assert_error(status, &resp, 400, &format!("add {body}"));
        assert!(
            resp["msg"].as_str().is_some_and(|m| m.contains("object")),
            "{body}: {resp}"
        );
    }
    for path in [
        "/v1/api/delete-task-by-name",
        "/v1/api/consume",
        "/v1/api/preview",
    ] {
        let (status, resp) = server.post(path, &json!([]));
        assert_error(status, &resp, 400, path);
    }
    let (status, list) = server.get("/v1/api/query-task-by-name?name=arr.name");
    assert_eq!(status, 200);
    assert_eq!(list, json!([]), "an array was read as a task");
}

#[test]
fn null_is_refused_for_a_field_and_the_message_names_it() {
    let server = Server::start(&[]);
    let cases = [
        json!({"name": null, "type": 1, "data": "x"}),
        json!({"name": "nul.data", "type": 1, "data": null}),
        json!({"name": "nul.start", "type": 1, "data": "x", "start_time": null}),
    ];
    for (body, field) in cases.iter().zip(["name", "data", "start_time"]) {
        let (status, resp) = server.post("/v1/api/task", body);
        assert_error(status, &resp, 400, &format!("add {body}"));
        let msg = resp["msg"].as_str().unwrap_or_default();
        assert!(msg.contains(&format!("`{field}`")), "{body}: {msg}");
    }
    // Outside a task, an unset option is sent as null by clients: it means the default.
    let (status, resp) = server.post("/v1/api/consume", &json!({"group": null, "wait_ms": 0}));
    assert_eq!(status, 200, "consume with group null: {resp}");
    // In a batch the item with a null fails alone.
    let (status, resp) = server.post(
        "/v1/api/tasks",
        &json!([
            {"name": "nul.ok", "type": 1, "data": "x", "start_time": now_s() + 3600},
            {"name": "nul.bad", "type": 1, "data": null}
        ]),
    );
    assert_eq!(status, 200, "{resp}");
    assert!(resp[0]["taskid"].is_string(), "{resp}");
    assert_error_shape(&resp[1], "batch item with data null");
    assert!(
        resp[1]["msg"]
            .as_str()
            .is_some_and(|m| m.contains("`data`")),
        "{resp}"
    );
}
