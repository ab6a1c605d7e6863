//! The webhook in W5: a tiny receiver in the bench process (axum, answering 200 to every
//! `POST /hook`, noting when each arrived), and the ceiling loop with reqwest posting the
//! same body and `Taskcenter-*` headers one after the other, as the publisher does.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use tokio::task::JoinHandle;

use super::broker::{Broker, Fire};
use crate::stats::now_ms;

/// Header names of the properties, in the order of [`Fire::properties`].
const HEADERS: [&str; 5] = [
    "taskcenter-tag",
    "taskcenter-task-id",
    "taskcenter-fire-time",
    "taskcenter-fire-id",
    "taskcenter-attempt",
];

pub struct Webhook {
    url: String,
    client: reqwest::Client,
    seen: Arc<Mutex<Vec<i64>>>,
    server: JoinHandle<()>,
}

async fn receive(State(seen): State<Arc<Mutex<Vec<i64>>>>, body: Bytes) -> &'static str {
    std::hint::black_box(body);
    if let Ok(mut v) = seen.lock() {
        v.push(now_ms());
    }
    ""
}

impl Broker for Webhook {
    const NAME: &'static str = "webhook";

    async fn open(_topic: &str) -> anyhow::Result<Self> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let timeout = Duration::from_secs(10);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            url,
            client,
            seen,
            server,
        })
    }

    fn publisher_url(&self) -> String {
        self.url.clone()
    }

    async fn publish_batch(&self, batch: &[Fire]) -> anyhow::Result<()> {
        for m in batch {
            let mut request = self
                .client
                .post(&self.url)
                .header("content-type", "application/octet-stream");
            for (name, (_, value)) in HEADERS.iter().zip(m.properties()) {
                request = request.header(*name, value);
            }
            let answer = request.body(m.data.clone().into_bytes()).send().await?;
            anyhow::ensure!(
                answer.status().is_success(),
                "receiver answered {}",
                answer.status()
            );
        }
        Ok(())
    }

    async fn count(&self) -> anyhow::Result<usize> {
        Ok(self.seen.lock().map(|v| v.len()).unwrap_or(0))
    }

    async fn arrivals(&self) -> anyhow::Result<Vec<i64>> {
        Ok(self.seen.lock().map(|v| v.clone()).unwrap_or_default())
    }

    async fn close(self) -> anyhow::Result<()> {
        self.server.abort();
        Ok(())
    }
}
