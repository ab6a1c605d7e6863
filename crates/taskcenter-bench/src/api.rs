//! The few HTTP calls the workloads make, with the API's own wire types.

use std::time::Duration;

use anyhow::{Context, bail};
use taskcenter_api::{AckRequest, ConsumeRequest, ConsumeResponse, Message};

/// The consumer group every workload consumes with.
pub const GROUP: &str = "bench";

/// A client of one server.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// A client of the server at `base` (`http://host:port`).
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .timeout(Duration::from_secs(300))
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `POST /v1/api/consume` for every tag in [`GROUP`].
    pub async fn consume(&self, max: i64, wait_ms: i64) -> anyhow::Result<Vec<Message>> {
        let req = ConsumeRequest {
            group: Some(GROUP.into()),
            tags: Some("*".into()),
            max: Some(max),
            wait_ms: Some(wait_ms),
        };
        let resp = self
            .http
            .post(format!("{}/v1/api/consume", self.base))
            .json(&req)
            .send()
            .await?;
        let status = resp.status();
        if !status.is_success() {
            bail!(
                "consume answered {status}: {}",
                resp.text().await.unwrap_or_default()
            );
        }
        let body: ConsumeResponse = resp.json().await?;
        Ok(body.messages)
    }

    /// `POST /v1/api/ack`.
    pub async fn ack(&self, msgids: Vec<String>) -> anyhow::Result<()> {
        let req = AckRequest {
            group: Some(GROUP.into()),
            msgids,
            attempts: None,
            fire_ids: Vec::new(),
        };
        let resp = self
            .http
            .post(format!("{}/v1/api/ack", self.base))
            .json(&req)
            .send()
            .await?;
        let status = resp.status();
        if !status.is_success() {
            bail!(
                "ack answered {status}: {}",
                resp.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }

    /// Whether `GET /readyz` answers 200.
    pub async fn ready(&self) -> bool {
        match self.http.get(format!("{}/readyz", self.base)).send().await {
            Ok(resp) => resp.status().is_success(),
            Err(_) => false,
        }
    }

    /// One gauge of `GET /metrics`, if the server exports it.
    pub async fn gauge(&self, name: &str) -> anyhow::Result<Option<f64>> {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await?
            .text()
            .await
            .context("reading /metrics")?;
        Ok(text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
            let (key, value) = l.split_once(' ')?;
            (key == name).then(|| value.trim().parse().ok()).flatten()
        }))
    }
}
