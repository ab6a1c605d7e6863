//! Running the handlers a message matches, each in its own task so that a panic fails the
//! message instead of killing the consumer.

use taskcenter_api::Message;
use tokio::task::JoinHandle;

use super::routes::{Route, matching};

/// What running a message's handlers came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// No handler's tag expression matches the message's tag.
    Unmatched,
    /// Every matching handler succeeded.
    Done,
    /// A handler returned an error or panicked; the text says which.
    Failed(String),
}

/// Runs every handler whose expression matches the message's tag, one after the other.
/// Dropping the future stops the handler running at that moment.
pub(crate) async fn run_handlers(routes: &[Route], m: &Message) -> Outcome {
    let mut outcome = Outcome::Unmatched;
    for route in matching(routes, &m.tag) {
        let (handler, msg) = (route.handler.clone(), m.clone());
        let mut guard = AbortOnDrop(tokio::spawn(async move { handler(msg).await }));
        let result = match (&mut guard.0).await {
            Ok(r) => r,
            Err(e) => Err(format!("handler panicked: {e}")),
        };
        match result {
            Err(error) => {
                tracing::warn!(msgid = %m.msgid, taskid = %m.taskid, tag = %m.tag,
                    attempt = m.attempt, %error, "handler failed; the message is retried (a dead letter after the last retry)");
                outcome = Outcome::Failed(error);
            }
            Ok(()) if outcome == Outcome::Unmatched => outcome = Outcome::Done,
            Ok(()) => {}
        }
    }
    outcome
}

/// Aborts the task when dropped.
pub(crate) struct AbortOnDrop<T>(pub JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
