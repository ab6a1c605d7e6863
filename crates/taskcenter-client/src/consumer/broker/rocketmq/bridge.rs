//! The push consumer's listener: it hands each message to the session and waits, on the
//! client's blocking thread that called it, for the session's verdict. The push consumer
//! calls it with one message at a time and at most `concurrency` times at once.

use rocketmq_client_rust::{
    ClientResult, ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus,
    MessageListenerConcurrently,
};
use rocketmq_model::common::message::message_ext::MessageExt;
use tokio::sync::{mpsc, oneshot};

/// A message for the session and where its verdict goes.
pub(super) struct Incoming {
    pub message: MessageExt,
    pub verdict: oneshot::Sender<Verdict>,
}

/// What the push consumer does with a message once its handlers are settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Consumed: acked, or already sent back (retry, dead letter, given back) by the session.
    Done,
    /// Not consumed: the push consumer sends it back itself, with the broker's own delay
    /// (level 3 plus its reconsume times) or into the dead-letter topic after the last one.
    Later,
}

pub(super) struct Bridge {
    pub to_session: mpsc::Sender<Incoming>,
}

impl MessageListenerConcurrently for Bridge {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _: &ConsumeConcurrentlyContext,
    ) -> ClientResult<ConsumeConcurrentlyStatus> {
        let mut verdicts = Vec::with_capacity(msgs.len());
        for m in msgs {
            let (verdict, answer) = oneshot::channel();
            let incoming = Incoming {
                message: (*m).clone(),
                verdict,
            };
            // No session (it stopped): the message is not consumed.
            if self.to_session.blocking_send(incoming).is_err() {
                return Ok(ConsumeConcurrentlyStatus::ReconsumeLater);
            }
            verdicts.push(answer);
        }
        let mut status = ConsumeConcurrentlyStatus::ConsumeSuccess;
        for answer in verdicts {
            // A verdict dropped unsent: its handler vanished with the runtime it ran on.
            if answer.blocking_recv() != Ok(Verdict::Done) {
                status = ConsumeConcurrentlyStatus::ReconsumeLater;
            }
        }
        Ok(status)
    }
}
