//! Coalescing concurrent requests into shared batches: requests that arrive while a batch
//! is being worked on wait here, and the next batch takes them together. Both backends
//! group concurrent adds this way, so many single adds cost a few commits, not one each.
//!
//! The caller that finds nobody working starts the work (it is the *lead*); whoever does
//! the work takes batches and answers each request in it. Answers travel on channels, so
//! a caller that stops waiting never stalls the others.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use crate::error::StoreError;

type Reply<A> = oneshot::Sender<Result<A, StoreError>>;

/// Requests of type `R` waiting for a batch, each to be answered with an `A`.
pub(crate) struct Coalescer<R, A> {
    state: Mutex<State<R, A>>,
}

struct State<R, A> {
    waiting: Vec<(R, Reply<A>)>,
    /// Someone will take the waiting requests: a new one need not start work.
    busy: bool,
}

impl<R, A> Default for Coalescer<R, A> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                waiting: Vec::new(),
                busy: false,
            }),
        }
    }
}

/// Requests taken together, and how to answer each.
pub(crate) struct Batch<R, A> {
    requests: Vec<R>,
    replies: Vec<Reply<A>>,
}

/// Where one request's answer arrives.
pub(crate) struct Ticket<A>(oneshot::Receiver<Result<A, StoreError>>);

impl<A> Ticket<A> {
    /// The answer; an error if the batch was dropped unanswered (a panic).
    pub(crate) async fn answer(self) -> Result<A, StoreError> {
        self.0
            .await
            .map_err(|_| StoreError::Internal("a coalesced batch was dropped unanswered".into()))?
    }
}

impl<R, A> Coalescer<R, A> {
    /// Queues a request; `true` when the caller must start the work (nobody is busy).
    pub(crate) fn join(&self, request: R) -> (Ticket<A>, bool) {
        let (reply, answer) = oneshot::channel();
        let mut state = self.lock();
        state.waiting.push((request, reply));
        let lead = !std::mem::replace(&mut state.busy, true);
        (Ticket(answer), lead)
    }

    /// Takes every waiting request; the next request to arrive starts new work.
    pub(crate) fn take_all(&self) -> Batch<R, A> {
        let mut state = self.lock();
        state.busy = false;
        Batch::from(std::mem::take(&mut state.waiting))
    }

    /// Takes the oldest waiting request and, in order, each later one that `fits` the
    /// batch so far (those that do not wait for a later batch). `None` when nothing
    /// waits: the worker stops, and the next request to arrive starts new work.
    pub(crate) fn take_group(&self, mut fits: impl FnMut(&[R], &R) -> bool) -> Option<Batch<R, A>> {
        let mut state = self.lock();
        if state.waiting.is_empty() {
            state.busy = false;
            return None;
        }
        let mut group = Batch::from(Vec::new());
        let mut rest = Vec::new();
        for (request, reply) in state.waiting.drain(..) {
            if group.requests.is_empty() || fits(&group.requests, &request) {
                group.requests.push(request);
                group.replies.push(reply);
            } else {
                rest.push((request, reply));
            }
        }
        state.waiting = rest;
        Some(group)
    }

    /// Every change of the state is one push or one take: a poisoned lock is usable.
    fn lock(&self) -> MutexGuard<'_, State<R, A>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<R, A> From<Vec<(R, Reply<A>)>> for Batch<R, A> {
    fn from(waiting: Vec<(R, Reply<A>)>) -> Self {
        let (requests, replies) = waiting.into_iter().unzip();
        Self { requests, replies }
    }
}

impl<R, A> Batch<R, A> {
    /// The requests, oldest first.
    pub(crate) fn requests(&self) -> &[R] {
        &self.requests
    }

    /// Answers each request with its answer (in order), or all with the batch's error.
    pub(crate) fn answer(self, result: Result<Vec<A>, StoreError>) {
        match result {
            Ok(answers) => {
                for (reply, answer) in self.replies.into_iter().zip(answers) {
                    // A caller that stopped waiting needs no answer.
                    let _ = reply.send(Ok(answer));
                }
            }
            Err(err) => {
                for reply in self.replies {
                    let _ = reply.send(Err(err.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_request_leads_and_a_batch_answers_each_in_order() {
        let c = Coalescer::<u32, u32>::default();
        let (a, lead_a) = c.join(1);
        let (b, lead_b) = c.join(2);
        assert!(lead_a && !lead_b, "only the first starts work");
        let batch = c.take_all();
        assert_eq!(batch.requests(), &[1, 2]);
        let (_, lead_c) = c.join(3);
        assert!(
            lead_c,
            "after a take_all, the next request starts work again"
        );
        batch.answer(Ok(vec![10, 20]));
        assert_eq!(a.answer().await, Ok(10));
        assert_eq!(b.answer().await, Ok(20));
    }

    #[tokio::test]
    async fn groups_take_what_fits_and_the_rest_waits() {
        let c = Coalescer::<u32, u32>::default();
        let tickets: Vec<_> = [1, 5, 2, 9].into_iter().map(|n| c.join(n).0).collect();
        let under_ten = |taken: &[u32], next: &u32| taken.iter().sum::<u32>() + next < 10;
        let first = c.take_group(under_ten).expect("a group");
        assert_eq!(first.requests(), &[1, 5, 2]);
        let second = c.take_group(under_ten).expect("the rest");
        assert_eq!(second.requests(), &[9], "the first request always goes");
        assert!(c.take_group(under_ten).is_none());
        assert!(c.join(0).1, "an idle coalescer makes the next request lead");
        first.answer(Err(StoreError::Unavailable("down".into())));
        second.answer(Ok(vec![90]));
        let mut answers = Vec::new();
        for t in tickets {
            answers.push(t.answer().await);
        }
        let down = Err(StoreError::Unavailable("down".into()));
        assert_eq!(answers, vec![down.clone(), down.clone(), down, Ok(90)]);
    }

    #[tokio::test]
    async fn a_dropped_batch_is_an_error_not_a_hang() {
        let c = Coalescer::<u32, u32>::default();
        let (t, _) = c.join(1);
        drop(c.take_all());
        assert!(matches!(t.answer().await, Err(StoreError::Internal(_))));
    }
}
