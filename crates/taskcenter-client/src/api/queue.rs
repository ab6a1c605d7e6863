//! Calls of the built-in queue: consume, ack, nack, and the dead letters.

use std::time::Duration;

use reqwest::Method;
use taskcenter_api::{
    AckRequest, AckResponse, ConsumeRequest, ConsumeResponse, CountResponse, DeadLetterIdsRequest,
    DeadLettersResponse, ExtendRequest, NackRequest,
};

use super::{ApiClient, Page};
use crate::error::ClientError;

impl ApiClient {
    /// Long-polls the built-in queue: answers as soon as messages are visible, or empty
    /// after `wait_ms`. Most programs use the [`Client`](crate::Client) consumer instead.
    pub async fn consume(&self, req: &ConsumeRequest) -> Result<ConsumeResponse, ClientError> {
        let wait = Duration::from_millis(req.wait_ms.unwrap_or(10_000).max(0) as u64);
        self.call(Method::POST, "consume", &[], Some(req), wait + self.timeout)
            .await
    }

    /// Acknowledges messages of `group`; answers the msgids it applied to.
    pub async fn ack(&self, group: &str, msgids: Vec<String>) -> Result<AckResponse, ClientError> {
        let req = AckRequest {
            group: Some(group.into()),
            msgids,
            attempts: None,
            fire_ids: Vec::new(),
        };
        self.post_json("ack", &req).await
    }

    /// Acks fires end to end by fire id (what consumers of an external broker do);
    /// answers the fire ids it applied to.
    pub async fn ack_fires(&self, fire_ids: Vec<String>) -> Result<AckResponse, ClientError> {
        let req = AckRequest {
            fire_ids,
            ..AckRequest::default()
        };
        self.post_json("ack", &req).await
    }

    /// Holds leased messages longer while their handlers run; answers the msgids held.
    pub async fn extend(&self, req: &ExtendRequest) -> Result<AckResponse, ClientError> {
        self.post_json("extend", req).await
    }

    /// Gives messages back for a retry, after `delay_ms` or the server's retry ladder.
    pub async fn nack(
        &self,
        group: &str,
        msgids: Vec<String>,
        delay_ms: Option<i64>,
    ) -> Result<AckResponse, ClientError> {
        let req = NackRequest {
            group: Some(group.into()),
            msgids,
            delay_ms,
            attempts: None,
            reason: None,
        };
        self.post_json("nack", &req).await
    }

    /// Messages out of retries, newest first; of one group, or of all when `None`.
    pub async fn dead_letters(
        &self,
        group: Option<&str>,
        page: Page,
    ) -> Result<DeadLettersResponse, ClientError> {
        let mut q = Vec::new();
        if let Some(group) = group {
            q.push(("group", group.to_string()));
        }
        if let Some(limit) = page.limit {
            q.push(("limit", limit.to_string()));
        }
        if let Some(offset) = page.offset {
            q.push(("offset", offset.to_string()));
        }
        self.get_json("dead-letters", &q).await
    }

    /// Puts dead letters back in their queue for a fresh round of deliveries; answers
    /// how many moved.
    pub async fn requeue_dead_letters(&self, msgids: Vec<String>) -> Result<u64, ClientError> {
        let req = DeadLetterIdsRequest {
            msgids: Some(msgids),
        };
        let resp: CountResponse = self.post_json("dead-letters/requeue", &req).await?;
        Ok(resp.count)
    }

    /// Deletes dead letters for good: these msgids, or all of them when `None`. Answers
    /// how many were deleted.
    pub async fn purge_dead_letters(
        &self,
        msgids: Option<Vec<String>>,
    ) -> Result<u64, ClientError> {
        let req = DeadLetterIdsRequest { msgids };
        let resp: CountResponse = self.post_json("dead-letters/purge", &req).await?;
        Ok(resp.count)
    }
}
