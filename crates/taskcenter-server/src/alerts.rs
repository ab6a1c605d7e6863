//! Reporting alerts: a warning log line with the codes `NAME_TOO_MANY_TASK` / `TOTAL_TOO_MANY_TASK`, a counter, and optionally
//! a webhook.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::stats::Alert;

/// Sends alerts where they are configured to go.
#[derive(Debug)]
pub struct AlertSink {
    webhook: Option<String>,
    client: reqwest::Client,
    /// Alerts raised since start (for metrics).
    pub raised: AtomicU64,
}

impl AlertSink {
    /// A sink posting to `webhook` when set.
    pub fn new(webhook: Option<String>) -> Self {
        Self {
            webhook,
            client: reqwest::Client::new(),
            raised: AtomicU64::new(0),
        }
    }

    /// Logs the alert and, in the background, posts it to the webhook.
    pub fn raise(&self, alert: Alert) {
        self.raised.fetch_add(1, Ordering::Relaxed);
        let body = match &alert {
            Alert::NameTooManyTask {
                name,
                count,
                minute,
            } => {
                tracing::warn!(code = "NAME_TOO_MANY_TASK", %name, count, %minute, "too many fires of one name this minute");
                serde_json::json!({"code": "NAME_TOO_MANY_TASK", "name": name, "count": count, "minute": minute})
            }
            Alert::TotalTooManyTask { count, minute } => {
                tracing::warn!(code = "TOTAL_TOO_MANY_TASK", count, %minute, "too many fires this minute");
                serde_json::json!({"code": "TOTAL_TOO_MANY_TASK", "count": count, "minute": minute})
            }
        };
        if let Some(url) = self.webhook.clone() {
            let client = self.client.clone();
            tokio::spawn(async move {
                if let Err(e) = client.post(&url).json(&body).send().await {
                    tracing::warn!(error = %e, "alert webhook failed");
                }
            });
        }
    }
}
