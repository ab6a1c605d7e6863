//! The in-memory timer: tasks due within the loaded window, ordered by due time.

use std::collections::{BTreeSet, HashMap};

use taskcenter_core::{Task, TaskId};

/// Tasks due soon, keyed by id so a changed task replaces its old entry.
#[derive(Debug, Default)]
pub struct Timer {
    queue: BTreeSet<(i64, TaskId)>,
    entries: HashMap<TaskId, Task>,
}

impl Timer {
    /// Adds or replaces a task at its `next_fire_ms`; tasks without one are removed.
    /// Returns whether it became the earliest entry.
    pub fn insert(&mut self, task: Task) -> bool {
        self.remove(task.id);
        let Some(due) = task.next_fire_ms else {
            return false;
        };
        let earliest = self.earliest().is_none_or(|e| due < e);
        self.queue.insert((due, task.id));
        self.entries.insert(task.id, task);
        earliest
    }

    /// Adds a task only if absent or older (a lower version) than the one held.
    pub fn offer(&mut self, task: Task) -> bool {
        match self.entries.get(&task.id) {
            Some(held) if held.version >= task.version => false,
            _ => self.insert(task),
        }
    }

    /// Drops a task.
    pub fn remove(&mut self, id: TaskId) {
        if let Some(old) = self.entries.remove(&id)
            && let Some(due) = old.next_fire_ms
        {
            self.queue.remove(&(due, id));
        }
    }

    /// Keeps only the tasks whose id passes `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(TaskId) -> bool) {
        let gone: Vec<TaskId> = self
            .entries
            .keys()
            .filter(|id| !keep(**id))
            .copied()
            .collect();
        for id in gone {
            self.remove(id);
        }
    }

    /// Due instant of the soonest task.
    pub fn earliest(&self) -> Option<i64> {
        self.queue.first().map(|(due, _)| *due)
    }

    /// Takes out up to `max` tasks due at or before `now_ms`, soonest first.
    pub fn pop_due(&mut self, now_ms: i64, max: usize) -> Vec<Task> {
        let mut out = Vec::new();
        while out.len() < max {
            match self.queue.first() {
                Some(&(due, id)) if due <= now_ms => {
                    self.queue.pop_first();
                    if let Some(task) = self.entries.remove(&id) {
                        out.push(task);
                    }
                }
                _ => break,
            }
        }
        out
    }

    /// Number of tasks held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskcenter_core::{IdGenerator, Limits, TaskDraft, TaskKind};

    fn task(at_ms: i64) -> Task {
        let mut t = TaskDraft::new("t", TaskKind::Once, "")
            .into_task(IdGenerator::new().next(0), 0, &Limits::default())
            .expect("valid");
        t.next_fire_ms = Some(at_ms);
        t
    }

    #[test]
    fn pops_in_due_order_and_replaces_by_id() {
        let mut timer = Timer::default();
        let a = task(300);
        let mut b = task(100);
        assert!(timer.insert(a.clone()));
        assert!(timer.insert(b.clone()));
        b.next_fire_ms = Some(500);
        b.version = 1;
        assert!(!timer.insert(b.clone()));
        assert_eq!(timer.len(), 2);
        assert_eq!(timer.earliest(), Some(300));
        assert!(timer.pop_due(299, 10).is_empty());
        let due = timer.pop_due(1000, 10);
        assert_eq!(
            due.iter().map(|t| t.id).collect::<Vec<_>>(),
            vec![a.id, b.id]
        );
        assert!(timer.is_empty());
    }

    #[test]
    fn offer_keeps_the_newer_version() {
        let mut timer = Timer::default();
        let mut t = task(100);
        t.version = 2;
        timer.insert(t.clone());
        let mut old = t.clone();
        old.version = 1;
        old.next_fire_ms = Some(50);
        assert!(!timer.offer(old));
        assert_eq!(timer.earliest(), Some(100));
        timer.remove(t.id);
        assert!(timer.is_empty());
    }
}
