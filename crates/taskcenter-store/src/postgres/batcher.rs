//! Group commit of inserts: adds that arrive while an insert transaction is running wait
//! for it, then go together in the next one, as if made one after the other in arrival
//! order (a twin added earlier in the group is found by dedup). Many single adds at once
//! thus cost a few transactions, not one each.
//!
//! The transactions run on a task of their own, so a caller that gives up waiting (its
//! HTTP request was dropped) never stalls the others.

use std::sync::{Arc, Mutex};

use taskcenter_core::Task;
use tokio::sync::oneshot;

use super::{Shared, insert as rows_in};
use crate::error::StoreError;
use crate::model::InsertOutcome;

/// Tasks one group transaction takes at most (more wait for the next).
const GROUP_TASKS: usize = 5000;

type Reply = oneshot::Sender<Result<Vec<InsertOutcome>, StoreError>>;

/// One caller's insert.
struct Job {
    tasks: Vec<Task>,
    dedup: bool,
    reply: Reply,
}

/// Inserts waiting for the running group transaction to end.
#[derive(Default)]
pub(crate) struct Batcher {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    waiting: Vec<Job>,
    running: bool,
}

impl Batcher {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every change of the state is one push or one take: a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Inserts `tasks` in the next group transaction; answers once it committed.
pub(crate) async fn insert(
    s: &Arc<Shared>,
    tasks: Vec<Task>,
    dedup: bool,
) -> Result<Vec<InsertOutcome>, StoreError> {
    let (reply, answer) = oneshot::channel();
    let lead = {
        let mut state = s.inserts.lock();
        state.waiting.push(Job {
            tasks,
            dedup,
            reply,
        });
        !std::mem::replace(&mut state.running, true)
    };
    if lead {
        tokio::spawn(drain(s.clone()));
    }
    answer
        .await
        .map_err(|_| StoreError::Internal("the insert batch was dropped".into()))?
}

/// Runs group transactions until nobody waits.
async fn drain(s: Arc<Shared>) {
    loop {
        let group = {
            let mut state = s.inserts.lock();
            if state.waiting.is_empty() {
                state.running = false;
                return;
            }
            take_group(&mut state.waiting)
        };
        run_group(&s, group).await;
    }
}

/// The oldest waiting jobs with the first one's dedup flag, up to [`GROUP_TASKS`] tasks
/// (at least one job).
fn take_group(waiting: &mut Vec<Job>) -> Vec<Job> {
    let dedup = waiting.first().is_some_and(|j| j.dedup);
    let mut total = 0;
    let mut group = Vec::new();
    let mut rest = Vec::new();
    for job in waiting.drain(..) {
        if job.dedup == dedup && (group.is_empty() || total + job.tasks.len() <= GROUP_TASKS) {
            total += job.tasks.len();
            group.push(job);
        } else {
            rest.push(job);
        }
    }
    *waiting = rest;
    group
}

/// One transaction for the whole group; each job gets its own outcomes.
async fn run_group(s: &Shared, group: Vec<Job>) {
    let dedup = group.first().is_some_and(|j| j.dedup);
    let all: Vec<Task> = group.iter().flat_map(|j| j.tasks.iter().cloned()).collect();
    match rows_in::insert(s, &all, dedup).await {
        Ok(outcomes) => {
            let mut outcomes = outcomes.into_iter();
            for job in group {
                let mine: Vec<InsertOutcome> = outcomes.by_ref().take(job.tasks.len()).collect();
                let _ = job.reply.send(Ok(mine));
            }
        }
        Err(e) => {
            for job in group {
                let _ = job.reply.send(Err(e.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(n: usize, dedup: bool) -> Job {
        let (reply, _) = oneshot::channel();
        Job {
            tasks: (0..n as u64)
                .map(|i| crate::fixtures::once_task(i, "t", ""))
                .collect(),
            dedup,
            reply,
        }
    }

    #[test]
    fn groups_take_jobs_in_order_of_one_dedup_flag_within_the_cap() {
        let mut waiting = vec![
            job(1, true),
            job(2, false),
            job(3, true),
            job(GROUP_TASKS, true),
        ];
        let group = take_group(&mut waiting);
        assert_eq!(
            group.iter().map(|j| j.tasks.len()).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert_eq!(waiting.len(), 2);
        let group = take_group(&mut waiting);
        assert_eq!(group.len(), 1);
        assert!(!group[0].dedup);
        let group = take_group(&mut waiting);
        assert_eq!(group[0].tasks.len(), GROUP_TASKS, "a big job goes alone");
        assert!(waiting.is_empty());
    }
}
