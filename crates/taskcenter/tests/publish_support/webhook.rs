//! A webhook receiver (axum): records each request's path, `Taskcenter-*` headers and body,
//! and answers with the status the test sets (503 with `Retry-After: 1` while cut, or
//! 410 Gone).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::runtime::Runtime;

use super::{Broker, Got};

/// The key the tests' servers sign webhook requests with.
pub const SECRET: &str = "s3cret";

pub struct Webhook {
    addr: std::net::SocketAddr,
    status: Arc<AtomicU16>,
}

#[derive(Clone)]
struct Receiver_ {
    tx: Arc<Mutex<Sender<Got>>>,
    status: Arc<AtomicU16>,
}

async fn receive(
    State(r): State<Receiver_>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match r.status.load(Ordering::SeqCst) {
        503 => return (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")]).into_response(),
        410 => return StatusCode::GONE.into_response(),
        _ => {}
    }
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let mut props = BTreeMap::new();
    for (prop, name) in [
        ("tag", "taskcenter-tag"),
        ("taskid", "taskcenter-task-id"),
        ("fire_time", "taskcenter-fire-time"),
        ("fire_id", "taskcenter-fire-id"),
        ("attempt", "taskcenter-attempt"),
    ] {
        if let Some(v) = header(name) {
            props.insert(prop.to_string(), v);
        }
    }
    let got = Got {
        key: props.get("tag").cloned().unwrap_or_default(),
        props,
        body: body.to_vec(),
        extra: header("taskcenter-signature").map(|s| format!("{} {}", uri.path(), s)),
    };
    let _ = r.tx.lock().map(|tx| tx.send(got));
    StatusCode::NO_CONTENT.into_response()
}

impl Webhook {
    /// Answers 410 Gone from now on: the receiver wants no more messages.
    pub fn answer_gone(&self) {
        self.status.store(410, Ordering::SeqCst);
    }
}

impl super::Switch for Webhook {
    /// Closed: answers 503 with `Retry-After: 1`.
    fn set_open(&self, open: bool) {
        self.status
            .store(if open { 204 } else { 503 }, Ordering::SeqCst);
    }
}

impl Broker for Webhook {
    const KIND: &'static str = "webhook";
    const CONFIRM_IS_ACK: bool = true;

    fn start(rt: &Runtime, _topic: &str) -> (Self, Receiver<Got>) {
        let (tx, rx) = channel();
        let status = Arc::new(AtomicU16::new(204));
        let state = Receiver_ {
            tx: Arc::new(Mutex::new(tx)),
            status: status.clone(),
        };
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the receiver");
        let addr = listener.local_addr().expect("receiver address");
        let app = axum::Router::new()
            .fallback(axum::routing::post(receive))
            .with_state(state);
        rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (Webhook { addr, status }, rx)
    }

    fn publisher_url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn switch(&self) -> &dyn super::Switch {
        self
    }
}
