//! Group commit of inserts (coalesced by [`crate::coalesce`]): adds that arrive while an insert transaction is running wait
//! for it, then go together in the next one, as if made one after the other in arrival
//! order (a twin added earlier in the group is found by dedup). Many single adds at once
//! thus cost a few transactions, not one each.
//!
//! The transactions run on a task of their own, so a caller that gives up waiting (its
//! HTTP request was dropped) never stalls the others.

use std::sync::Arc;

use taskcenter_core::Task;

use super::{Shared, insert as rows_in};
use crate::coalesce::{Batch, Coalescer};
use crate::error::StoreError;
use crate::model::InsertOutcome;

/// Tasks one group transaction takes at most (more wait for the next).
const GROUP_TASKS: usize = 5000;

/// One caller's insert: its tasks and whether to dedup them.
type Job = (Vec<Task>, bool);

/// Inserts waiting for the running group transaction to end.
pub(crate) type Batcher = Coalescer<Job, Vec<InsertOutcome>>;

/// Inserts `tasks` in the next group transaction; answers once it committed.
pub(crate) async fn insert(
    s: &Arc<Shared>,
    tasks: Vec<Task>,
    dedup: bool,
) -> Result<Vec<InsertOutcome>, StoreError> {
    let (ticket, lead) = s.inserts.join((tasks, dedup));
    if lead {
        tokio::spawn(drain(s.clone()));
    }
    ticket.answer().await
}

/// Runs group transactions until nobody waits.
async fn drain(s: Arc<Shared>) {
    while let Some(group) = s.inserts.take_group(fits) {
        run_group(&s, group).await;
    }
}

/// Whether `next` joins a group: same dedup flag as the first job, and the group stays
/// within [`GROUP_TASKS`] tasks.
fn fits(group: &[Job], next: &Job) -> bool {
    let total: usize = group.iter().map(|(tasks, _)| tasks.len()).sum();
    group.first().is_some_and(|(_, dedup)| *dedup == next.1) && total + next.0.len() <= GROUP_TASKS
}

/// One transaction for the whole group; each job gets its own outcomes.
async fn run_group(s: &Shared, group: Batch<Job, Vec<InsertOutcome>>) {
    let dedup = group.requests().first().is_some_and(|(_, dedup)| *dedup);
    let all: Vec<Task> = group
        .requests()
        .iter()
        .flat_map(|(tasks, _)| tasks.iter().cloned())
        .collect();
    let result = rows_in::insert(s, &all, dedup).await.map(|outcomes| {
        let mut outcomes = outcomes.into_iter();
        group
            .requests()
            .iter()
            .map(|(tasks, _)| outcomes.by_ref().take(tasks.len()).collect())
            .collect()
    });
    group.answer(result);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(n: usize, dedup: bool) -> Job {
        let tasks = (0..n as u64)
            .map(|i| crate::fixtures::once_task(i, "t", ""))
            .collect();
        (tasks, dedup)
    }

    #[test]
    fn groups_take_jobs_in_order_of_one_dedup_flag_within_the_cap() {
        let batcher = Batcher::default();
        for (n, dedup) in [(1, true), (2, false), (3, true), (GROUP_TASKS, true)] {
            let _ = batcher.join(job(n, dedup));
        }
        let sizes = |b: &Batch<Job, _>| b.requests().iter().map(|j| j.0.len()).collect::<Vec<_>>();
        let group = batcher.take_group(fits).expect("first group");
        assert_eq!(sizes(&group), vec![1, 3]);
        let group = batcher.take_group(fits).expect("second group");
        assert_eq!(sizes(&group), vec![2]);
        assert!(!group.requests()[0].1);
        let group = batcher.take_group(fits).expect("third group");
        assert_eq!(sizes(&group), vec![GROUP_TASKS], "a big job goes alone");
        assert!(batcher.take_group(fits).is_none());
    }
}
