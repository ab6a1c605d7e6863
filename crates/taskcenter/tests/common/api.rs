//! The HTTP side of the harness: a small blocking client for the task and consume APIs,
//! and the assertions on answers that every test file shares.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::now_ms;

/// One message as a consumer received it, with the wall-clock moment it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub at_ms: i64,
    pub msg: Value,
}

impl Received {
    pub fn str(&self, field: &str) -> String {
        self.msg[field]
            .as_str()
            .unwrap_or_else(|| panic!("message field {field:?} is not a string: {}", self.msg))
            .to_string()
    }
    pub fn int(&self, field: &str) -> i64 {
        self.msg[field]
            .as_i64()
            .unwrap_or_else(|| panic!("message field {field:?} is not an integer: {}", self.msg))
    }
}

/// An HTTP client bound to one server address; cheap to clone into threads.
#[derive(Clone)]
pub struct Api {
    pub addr: String,
    /// Made on first use: a blocking client cannot be made inside an async test, which
    /// starts servers but talks to them through the client library.
    http: OnceLock<reqwest::blocking::Client>,
}

impl Api {
    pub fn new(addr: &str) -> Api {
        Api {
            addr: addr.to_string(),
            http: OnceLock::new(),
        }
    }

    fn http(&self) -> &reqwest::blocking::Client {
        self.http.get_or_init(|| {
            reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .connect_timeout(Duration::from_secs(5))
                .no_proxy()
                .build()
                .expect("http client")
        })
    }

    /// `http://ADDR`: the server URL the client library and the CLI take.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn try_post(&self, path: &str, body: &Value) -> Result<(u16, Value), String> {
        let bytes = serde_json::to_vec(body).expect("serialize");
        self.post_raw(path, bytes, Some("application/json"))
    }

    /// POSTs raw bytes with the given content type (none if `None`).
    pub fn post_raw(
        &self,
        path: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> Result<(u16, Value), String> {
        let mut req = self.http().post(self.url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        read_response(req.send())
    }

    pub fn try_get(&self, path: &str) -> Result<(u16, Value), String> {
        read_response(self.http().get(self.url(path)).send())
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.try_post(path, body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.try_get(path)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Adds a task, asserts 200, returns its id.
    pub fn add_task(&self, body: Value) -> String {
        let (status, resp) = self.post("/v1/api/task", &body);
        assert_eq!(status, 200, "add {} answered {resp}", short(&body));
        let id = resp["taskid"]
            .as_str()
            .unwrap_or_else(|| panic!("no taskid in {resp}"));
        assert!(is_hex24(id), "taskid {id:?} is not 24 lowercase hex");
        id.to_string()
    }

    /// `GET query-task-by-id`.
    pub fn task(&self, id: &str) -> (u16, Value) {
        self.get(&format!("/v1/api/query-task-by-id?taskid={id}"))
    }

    /// The task object of an existing task.
    pub fn task_ok(&self, id: &str) -> Value {
        let (status, body) = self.task(id);
        assert_eq!(status, 200, "query {id}: {body}");
        body
    }

    pub fn try_consume(
        &self,
        group: &str,
        tags: &str,
        max: usize,
        wait_ms: u64,
    ) -> Result<Vec<Value>, String> {
        let body = json!({"group": group, "tags": tags, "max": max, "wait_ms": wait_ms});
        let (status, resp) = self.try_post("/v1/api/consume", &body)?;
        if status != 200 {
            return Err(format!("consume answered {status}: {resp}"));
        }
        resp["messages"]
            .as_array()
            .cloned()
            .ok_or_else(|| format!("consume answer has no messages array: {resp}"))
    }

    pub fn consume(&self, group: &str, tags: &str, max: usize, wait_ms: u64) -> Vec<Value> {
        self.try_consume(group, tags, max, wait_ms)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Subscribes `group` to `tags` (a consume call that waits for nothing).
    pub fn subscribe(&self, group: &str, tags: &str) {
        let got = self.consume(group, tags, 100, 0);
        assert!(
            got.is_empty(),
            "subscribing consume got messages already: {got:?}"
        );
    }

    pub fn try_ack(&self, group: &str, msgids: &[String]) -> Result<(u16, Value), String> {
        self.try_post("/v1/api/ack", &json!({"group": group, "msgids": msgids}))
    }

    pub fn ack(&self, group: &str, msgids: &[String]) {
        let (status, body) = self.post("/v1/api/ack", &json!({"group": group, "msgids": msgids}));
        assert_eq!(status, 200, "ack answered {body}");
    }

    pub fn nack(&self, group: &str, msgids: &[String], delay_ms: Option<u64>) {
        let mut body = json!({"group": group, "msgids": msgids});
        if let Some(delay) = delay_ms {
            body["delay_ms"] = json!(delay);
        }
        let (status, resp) = self.post("/v1/api/nack", &body);
        assert_eq!(status, 200, "nack answered {resp}");
    }

    /// Long-polls until `n` messages arrived or `within` passed; acks them if `ack`.
    pub fn collect(
        &self,
        group: &str,
        tags: &str,
        n: usize,
        within: Duration,
        ack: bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + within;
        let mut got = Vec::new();
        while got.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left < Duration::from_millis(1) {
                break;
            }
            let wait_ms = left.as_millis().min(5_000) as u64;
            let msgs = self.consume(group, tags, (n - got.len()).min(100), wait_ms);
            let at_ms = now_ms();
            if ack && !msgs.is_empty() {
                self.ack(group, &msgids(&msgs));
            }
            got.extend(msgs.into_iter().map(|msg| Received { at_ms, msg }));
        }
        got
    }

    /// Every message that arrives during `within` (for asserting that none do).
    pub fn drain_for(&self, group: &str, tags: &str, within: Duration, ack: bool) -> Vec<Received> {
        self.collect(group, tags, usize::MAX, within, ack)
    }
}

fn read_response(
    res: reqwest::Result<reqwest::blocking::Response>,
) -> Result<(u16, Value), String> {
    let res = res.map_err(|e| format!("transport error: {e:?}"))?;
    let status = res.status().as_u16();
    let text = res
        .text()
        .map_err(|e| format!("reading body failed: {e:?}"))?;
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| Value::String(format!("<non-JSON body> {text}")));
    Ok((status, body))
}

/// The `_id`s of a task list answer (`{"tasks": [...]}`), in order.
pub fn task_ids(list: &Value) -> Vec<String> {
    list["tasks"]
        .as_array()
        .unwrap_or_else(|| panic!("no tasks in {list}"))
        .iter()
        .map(|t| t["_id"].as_str().expect("_id").to_string())
        .collect()
}

pub fn msgids(msgs: &[Value]) -> Vec<String> {
    msgs.iter()
        .map(|m| {
            m["msgid"]
                .as_str()
                .unwrap_or_else(|| panic!("message without msgid: {m}"))
                .to_string()
        })
        .collect()
}

/// Asserts `status` and that `body` is exactly the error shape `{"err": int, "msg": str}`.
pub fn assert_error(status: u16, body: &Value, expected: u16, context: &str) {
    assert_eq!(
        status, expected,
        "{context}: expected {expected}, got {status} {body}"
    );
    assert_error_shape(body, context);
}

pub fn assert_error_shape(body: &Value, context: &str) {
    assert!(
        body.get("err").is_some_and(|e| e.is_i64() || e.is_u64())
            && body.get("msg").is_some_and(Value::is_string),
        "{context}: error body is not {{\"err\": int, \"msg\": str}}: {body}"
    );
}

/// `v` as JSON text, cut to 300 characters for assertion messages.
pub fn short(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], text.len()),
        None => text,
    }
}

pub fn is_hex24(s: &str) -> bool {
    s.len() == 24
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
