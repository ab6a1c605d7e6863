//! RocketMQ: the server sends each fire to topic `<topic>` with tag = task name, keys = task
//! id, body = data and the fire's properties as user properties. A group is a RocketMQ
//! consumer group: a push consumer (clustering) subscribed to `<topic>` with the handlers'
//! tags as tag expression (`a||b`, `*`), which also consumes the group's retry topic
//! `%RETRY%<group>`. A new group starts at the oldest message the topic holds.
//!
//! The push consumer calls a listener (`bridge`) that hands each message to this session
//! and waits for its verdict, so at most `concurrency` messages are in hand. Success is
//! `CONSUME_SUCCESS`. A failure is sent back to the broker (`CONSUMER_SEND_MSG_BACK`) with
//! the delay level of the ladder's delay — the broker's own retry topic and delay levels, so
//! each delay is rounded up to a level (1s 5s 10s 30s 1m … 2h; RocketMQ's retry ladder is
//! made of them) — and comes back with its reconsume times one higher. After the last
//! delivery it is sent back with level -1, which the broker turns into a message of the
//! dead-letter topic `%DLQ%<group>` (property `RETRY_TOPIC` = `<topic>`). A message given
//! back at shutdown, or left unsettled by a handler that vanished (its runtime stopped), is
//! sent back with the shortest level (1 s), which counts a delivery as every send-back does.
//!
//! The msgid is the producer's id of the message (`UNIQ_KEY`, what the server's history
//! shows), the same across retries. RocketMQ has no lease: a message stays with its
//! consumer while that consumer lives, up to 15 minutes (`consumeTimeout`). A consumer
//! that dies with messages in hand leaves them to its group from its last committed offset.
//! The client reconnects to the name server and brokers by itself.

mod bridge;
mod levels;
mod thread;

use std::time::Duration;

use async_trait::async_trait;
use rocketmq_model::common::message::message_ext::MessageExt;
use taskcenter_core::RocketMqUrl;
use tokio::sync::{mpsc, oneshot};

use super::{BrokerError, Delivery, Plan, Session, Settle, fire_message};
use bridge::{Incoming, Verdict};
use thread::{SendBack, Setup};

/// How long starting the consumer may take (it waits a while for new topics' routes).
const START_WAIT: Duration = Duration::from_secs(60);

/// The group's push consumer, on a thread of its own.
pub(crate) struct RocketMqSession {
    incoming: mpsc::Receiver<Incoming>,
    send_back: mpsc::Sender<SendBack>,
    topic: String,
}

impl RocketMqSession {
    pub(crate) async fn connect(url: &str, plan: &Plan) -> Result<Self, BrokerError> {
        // The URL's `group` is the server's producer group; the consumer's is its own.
        let name_servers = RocketMqUrl::parse(url)
            .map_err(|e| BrokerError::new("rocketmq URL", e))?
            .name_servers;
        for (asked, got) in levels::rounded(&plan.ladder) {
            tracing::warn!(
                ?asked,
                ?got,
                "rocketmq: a retry delay that is not a delay level of the broker is rounded up to one"
            );
        }
        let setup = Setup {
            name_servers,
            topic: plan.topic.clone(),
            group: plan.group.clone(),
            expression: expression(plan.tags.as_deref()),
            concurrency: plan.concurrency.max(1),
            max_reconsume: i32::try_from(plan.ladder.len()).unwrap_or(i32::MAX),
            keys: plan.rocketmq_keys.clone(),
        };
        let starting = thread::spawn(setup)?;
        let started = tokio::time::timeout(START_WAIT, starting)
            .await
            .map_err(|_| BrokerError("rocketmq consumer start timed out".into()))?
            .map_err(|_| BrokerError("rocketmq client thread ended".into()))??;
        Ok(Self {
            incoming: started.incoming,
            send_back: started.send_back,
            topic: plan.topic.clone(),
        })
    }

    fn delivery(&self, i: Incoming) -> Delivery {
        let m = &i.message;
        let deliveries = u32::try_from(m.reconsume_times())
            .unwrap_or(0)
            .saturating_add(1);
        let prop = |name: &str| m.get_user_property(name).map(|v| v.to_string());
        let msgid = m
            .property("UNIQ_KEY")
            .map(str::to_string)
            .unwrap_or_else(|| m.msg_id().to_string());
        let body = m.body().unwrap_or_default();
        let message = fire_message(prop, m.tags().unwrap_or(""), &body, msgid, deliveries);
        Delivery {
            message,
            deliveries,
            settle: Box::new(RocketMqSettle {
                message: i.message,
                verdict: Some(i.verdict),
                send_back: self.send_back.clone(),
            }),
        }
    }
}

/// The tag expression the broker filters with: `*`, or the tags joined by `||` without
/// spaces (this broker matches nothing with an expression that has spaces in it).
fn expression(tags: Option<&[String]>) -> String {
    match tags {
        Some(tags) => tags.join("||"),
        None => "*".into(),
    }
}

#[async_trait]
impl Session for RocketMqSession {
    async fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BrokerError> {
        let mut out = Vec::new();
        let first = match tokio::time::timeout(wait, self.incoming.recv()).await {
            Err(_) => return Ok(out),
            Ok(None) => return Err(BrokerError("rocketmq consumer stopped".into())),
            Ok(Some(i)) => i,
        };
        let mut next = Some(first);
        while let Some(i) = next.take() {
            if i.message.topic().as_str() == self.topic {
                out.push(self.delivery(i));
            } else {
                // A retry of a topic this group consumed before (the group's retry topic
                // holds them all): not this consumer's.
                tracing::debug!(topic = %i.message.topic(), "rocketmq: a retry of another topic is dropped");
                let _ = i.verdict.send(Verdict::Done);
            }
            if out.len() < max {
                next = self.incoming.try_recv().ok();
            }
        }
        Ok(out)
    }
}

impl Drop for RocketMqSession {
    /// Messages handed over but never fetched go back to the broker as soon as it allows.
    fn drop(&mut self) {
        self.incoming.close();
        while let Ok(i) = self.incoming.try_recv() {
            let request = SendBack {
                message: i.message,
                level: levels::SOONEST,
                verdict: i.verdict,
                done: None,
            };
            // If the thread cannot take it, the dropped verdict has the push consumer send
            // the message back itself.
            let _ = self.send_back.try_send(request);
        }
    }
}

struct RocketMqSettle {
    message: MessageExt,
    verdict: Option<oneshot::Sender<Verdict>>,
    send_back: mpsc::Sender<SendBack>,
}

impl Drop for RocketMqSettle {
    /// A message nobody settled (its handler vanished with its runtime) is given back: the
    /// client thread sends it back, it outlives this sender while the request is queued.
    fn drop(&mut self) {
        if let Some(verdict) = self.verdict.take() {
            let request = SendBack {
                message: self.message.clone(),
                level: levels::SOONEST,
                verdict,
                done: None,
            };
            // If the thread cannot take it, the dropped verdict has the push consumer send
            // the message back itself, after the broker's default delay.
            let _ = self.send_back.try_send(request);
        }
    }
}

impl RocketMqSettle {
    fn answer(&mut self, verdict: Verdict) -> Result<(), BrokerError> {
        match self.verdict.take().map(|v| v.send(verdict)) {
            Some(Ok(())) => Ok(()),
            _ => Err(stopped()),
        }
    }

    /// Sends the message back with `level`; if that fails, the push consumer sends it back
    /// itself (the broker's default delay, or the dead letters after the last delivery).
    async fn back(mut self: Box<Self>, level: i32) -> Result<(), BrokerError> {
        let verdict = self.verdict.take().ok_or_else(stopped)?;
        let (done, result) = oneshot::channel();
        let request = SendBack {
            message: self.message.clone(),
            level,
            verdict,
            done: Some(done),
        };
        if let Err(unsent) = self.send_back.send(request).await {
            let _ = unsent.0.verdict.send(Verdict::Later);
            return Err(stopped());
        }
        match result.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(BrokerError(format!("rocketmq send back: {e}"))),
            Err(_) => Err(stopped()),
        }
    }
}

fn stopped() -> BrokerError {
    BrokerError("rocketmq: the consumer that delivered the message has stopped".into())
}

#[async_trait]
impl Settle for RocketMqSettle {
    async fn ack(mut self: Box<Self>) -> Result<(), BrokerError> {
        self.answer(Verdict::Done)
    }

    async fn retry(self: Box<Self>, delay: Duration) -> Result<(), BrokerError> {
        self.back(levels::level_for(delay)).await
    }

    async fn dead(self: Box<Self>, _reason: &str) -> Result<(), BrokerError> {
        // A RocketMQ dead letter is the message as stored: the reason is only logged.
        self.back(levels::DEAD_LETTER).await
    }

    async fn release(self: Box<Self>) -> Result<(), BrokerError> {
        self.back(levels::SOONEST).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_expressions_have_no_spaces() {
        let tags = ["a".to_string(), "b.c".to_string()];
        assert_eq!(expression(Some(&tags)), "a||b.c");
        assert_eq!(expression(Some(&tags[..1])), "a");
        assert_eq!(expression(None), "*");
    }
}
