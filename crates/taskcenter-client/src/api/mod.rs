//! The typed HTTP API client: one method per call of the server's API.

mod queue;
mod tasks;

use std::time::Duration;

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use taskcenter_api::ErrorBody;

use crate::error::ClientError;

pub use taskcenter_api::TriggerResponse;
pub use tasks::{ListQuery, Page};

/// A handle on one taskcenter server; cheap to clone (clones share one connection pool).
///
/// Every method is one HTTP call. Failures the server answers come back as
/// [`ClientError::Api`] with the server's `err` and `msg`.
///
/// ```no_run
/// use taskcenter_client::{ApiClient, TaskBuilder};
///
/// # async fn demo() -> Result<(), taskcenter_client::ClientError> {
/// let api = ApiClient::new("http://127.0.0.1:8081")?;
/// let added = api.add(&TaskBuilder::once("report", r#"{"day":"2026-12-01"}"#).build()).await?;
/// let task = api.get(&added.taskid).await?;
/// println!("{} fires next at {:?}", task.name, task.next_fire_time);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ApiClient {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
    client_id: Option<String>,
    timeout: Duration,
}

impl ApiClient {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:8081`).
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        let host = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"));
        if host.is_none_or(str::is_empty) {
            return Err(ClientError::BadUrl(base_url.into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            base,
            http,
            token: None,
            client_id: None,
            timeout: Duration::from_secs(30),
        })
    }

    /// Sends `Authorization: Bearer <token>` with every call.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sends `X-Client-Id: <id>` with every call: the name the server's queues view shows
    /// for this consumer.
    /// Characters a header cannot carry are left out.
    pub fn with_client_id(mut self, id: impl Into<String>) -> Self {
        let id: String = id
            .into()
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .collect();
        self.client_id = Some(id.trim().to_string()).filter(|id| !id.is_empty());
        self
    }

    /// Gives up on a call (other than a consume long-poll) after `timeout`; default 30 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The server URL this client talks to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET /v1/api/{path}?query`.
    async fn get_json<R: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<R, ClientError> {
        self.call::<(), R>(Method::GET, path, query, None, self.timeout)
            .await
    }

    /// `POST /v1/api/{path}` with a JSON body.
    async fn post_json<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, ClientError> {
        self.call(Method::POST, path, &[], Some(body), self.timeout)
            .await
    }

    async fn call<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        timeout: Duration,
    ) -> Result<R, ClientError> {
        let mut req = self
            .http
            .request(method, format!("{}/v1/api/{path}", self.base))
            .query(query)
            .timeout(timeout);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(id) = &self.client_id {
            req = req.header("x-client-id", id);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp.json().await?);
        }
        // A proxy or an old server may answer something other than the error body.
        let text = resp.text().await.unwrap_or_default();
        let body: ErrorBody = serde_json::from_str(&text).unwrap_or_else(|_| ErrorBody {
            err: i64::from(status.as_u16()) * 100,
            msg: if text.trim().is_empty() {
                status.canonical_reason().unwrap_or("error").to_string()
            } else {
                text
            },
        });
        Err(ClientError::Api {
            status: status.as_u16(),
            err: body.err,
            msg: body.msg,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(ApiClient::new("http://127.0.0.1:8081/").is_ok());
        assert!(ApiClient::new("https://tc.example.com").is_ok());
        assert!(matches!(
            ApiClient::new("127.0.0.1:8081"),
            Err(ClientError::BadUrl(_))
        ));
        assert!(matches!(
            ApiClient::new("http://"),
            Err(ClientError::BadUrl(_))
        ));
        let api = ApiClient::new(" http://h:1// ").expect("valid url");
        assert_eq!(api.base_url(), "http://h:1");
    }
}
