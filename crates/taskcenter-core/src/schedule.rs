//! When a task fires: the first fire, what to fire when due (including misfires), previews.
//!
//! Loops run on a fixed grid `t0 + k·period` so firing late never shifts later fires.

use crate::cron::{CronError, CronExpr, CronSchedule};
use crate::task::{MisfirePolicy, Task, TaskKind};

/// The most fires one misfire catch-up may produce with [`MisfirePolicy::All`].
pub const MISFIRE_ALL_CAP: usize = 1000;

/// How many missed cron times are walked to find the latest one before giving up.
const MISSED_WALK_CAP: usize = 100_000;

/// The bare time rule of a task, without its window or count.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// A single instant.
    Once {
        /// When.
        at_ms: i64,
    },
    /// `t0 + k·period_ms` for k = 0, 1, 2, …
    Grid {
        /// The grid origin; the first fire.
        t0_ms: i64,
        /// The period.
        period_ms: i64,
    },
    /// A calendar crontab.
    Cron(CronSchedule),
}

impl Schedule {
    /// The first time of the rule strictly after `after_ms`.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        match self {
            Self::Once { at_ms } => (*at_ms > after_ms).then_some(*at_ms),
            Self::Grid { t0_ms, period_ms } => {
                if after_ms < *t0_ms {
                    return Some(*t0_ms);
                }
                let k = grid_index(*t0_ms, *period_ms, after_ms).checked_add(1)?;
                grid_point(*t0_ms, *period_ms, k)
            }
            Self::Cron(cron) => cron.next_after(after_ms),
        }
    }
}

/// The number of the last grid point at or before `t_ms` (`t_ms >= t0_ms`), computed
/// without overflow however far apart the two instants are.
fn grid_index(t0_ms: i64, period_ms: i64, t_ms: i64) -> i64 {
    let k = (i128::from(t_ms) - i128::from(t0_ms)) / i128::from(period_ms.max(1));
    i64::try_from(k).unwrap_or(i64::MAX)
}

/// Grid point number `k`, `None` past the representable range.
fn grid_point(t0_ms: i64, period_ms: i64, k: i64) -> Option<i64> {
    i64::try_from(i128::from(t0_ms) + i128::from(k) * i128::from(period_ms)).ok()
}

/// A task's complete firing rule: schedule, window, fire limit and misfire policy.
#[derive(Debug, Clone)]
pub struct TaskPlan {
    /// The time rule.
    pub schedule: Schedule,
    /// No fire before this instant.
    pub start_ms: Option<i64>,
    /// No fire after this instant.
    pub end_ms: Option<i64>,
    /// At most this many fires in the task's life.
    pub max_fires: Option<i64>,
    /// Misfire handling.
    pub misfire: MisfirePolicy,
    /// Whether this is a once task (misfires always fire).
    pub once: bool,
}

/// What the engine does with a task that came due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirePlan {
    /// Fire times to deliver now, ascending (the scheduled times, not "now").
    pub fire_times: Vec<i64>,
    /// The next due instant, or `None` when the task is finished.
    pub next: Option<i64>,
}

impl TaskPlan {
    /// Builds the plan of a stored or about-to-be-stored task.
    pub fn of(task: &Task) -> Result<Self, CronError> {
        let start_ms = (task.start_time > 0).then(|| task.start_time.saturating_mul(1000));
        let end_ms = (task.end_time > 0).then(|| task.end_time.saturating_mul(1000));
        let max_fires = (task.loop_count > 0).then_some(task.loop_count);
        let anchor = start_ms.unwrap_or(task.created_at_ms);
        let schedule = match task.kind {
            TaskKind::Once => Schedule::Once {
                at_ms: anchor.max(task.created_at_ms),
            },
            TaskKind::Loop => Schedule::Grid {
                t0_ms: anchor,
                period_ms: task.loop_time.saturating_mul(1000).max(1),
            },
            TaskKind::Cron => match CronExpr::parse(&task.crontab, &task.timezone)? {
                CronExpr::Every(period_ms) => Schedule::Grid {
                    t0_ms: anchor,
                    period_ms: period_ms.max(1),
                },
                CronExpr::Calendar(cron) => Schedule::Cron(cron),
            },
        };
        Ok(Self {
            schedule,
            start_ms,
            end_ms,
            max_fires,
            misfire: task.misfire,
            once: task.kind == TaskKind::Once,
        })
    }

    fn within_end(&self, t: i64) -> bool {
        self.end_ms.is_none_or(|end| t <= end)
    }

    fn fires_left(&self, fire_count: i64) -> bool {
        self.max_fires.is_none_or(|max| fire_count < max)
    }

    /// The first due instant of a task created at `created_ms`, `None` if it never fires.
    pub fn first_fire(&self, created_ms: i64) -> Option<i64> {
        if !self.fires_left(0) {
            return None;
        }
        let floor = self.start_ms.unwrap_or(created_ms).max(created_ms);
        let first = match &self.schedule {
            Schedule::Once { at_ms } => *at_ms,
            other => other.next_after(floor.saturating_sub(1))?,
        };
        self.within_end(first).then_some(first)
    }

    /// The due instant after `after_ms` given `fire_count` fires so far.
    pub fn next_after(&self, after_ms: i64, fire_count: i64) -> Option<i64> {
        if self.once || !self.fires_left(fire_count) {
            return None;
        }
        let floor = self
            .start_ms
            .map_or(after_ms, |s| after_ms.max(s.saturating_sub(1)));
        let next = self.schedule.next_after(floor)?;
        self.within_end(next).then_some(next)
    }

    /// What to fire for a task due at `due_ms` now that the clock reads `now_ms`.
    ///
    /// Times missed while the service was down or behind are handled by the misfire policy;
    /// `grace_ms` is how late a fire may be before [`MisfirePolicy::Skip`] drops it.
    pub fn fires_due(&self, due_ms: i64, now_ms: i64, fire_count: i64, grace_ms: i64) -> FirePlan {
        let now_ms = now_ms.max(due_ms);
        if self.once {
            return FirePlan {
                fire_times: vec![due_ms],
                next: None,
            };
        }
        let mut missed = vec![due_ms];
        let mut last = due_ms;
        while missed.len() < MISSED_WALK_CAP {
            match self.next_after(last, fire_count + missed.len() as i64 - 1) {
                Some(t) if t <= now_ms => {
                    missed.push(t);
                    last = t;
                }
                _ => break,
            }
        }
        let left = self
            .max_fires
            .map_or(usize::MAX, |max| (max - fire_count).max(0) as usize);
        let fire_times: Vec<i64> = match self.misfire {
            MisfirePolicy::Coalesce => vec![last],
            MisfirePolicy::All => missed.into_iter().take(MISFIRE_ALL_CAP.min(left)).collect(),
            MisfirePolicy::Skip => missed
                .into_iter()
                .filter(|t| now_ms.saturating_sub(*t) <= grace_ms)
                .take(left)
                .collect(),
        };
        let fired = fire_count + fire_times.len() as i64;
        FirePlan {
            next: self.next_after(now_ms, fired),
            fire_times,
        }
    }

    /// Up to `count` fire times strictly after `from_ms`, for a task that would be created
    /// at `created_ms` with no fires yet.
    pub fn preview(&self, created_ms: i64, from_ms: i64, count: usize) -> Vec<i64> {
        if let Schedule::Grid { t0_ms, period_ms } = self.schedule {
            return self.preview_grid(t0_ms, period_ms, created_ms, from_ms, count);
        }
        const WALK_CAP: usize = 1_000_000;
        let mut out = Vec::with_capacity(count.min(1024));
        let mut fired = 0;
        let mut next = self.first_fire(created_ms);
        for _ in 0..WALK_CAP {
            let Some(t) = next else { break };
            if out.len() >= count {
                break;
            }
            fired += 1;
            if t > from_ms {
                out.push(t);
            }
            // Without a fire limit, times before `from` need not be walked one by one.
            let skip_to = if t < from_ms && self.max_fires.is_none() {
                from_ms
            } else {
                t
            };
            next = self.next_after(skip_to, fired);
        }
        out
    }
    /// [`TaskPlan::preview`] on a grid, by arithmetic: fire number k (from 0) is the k-th
    /// grid time from the first fire, so the first one after `from_ms` and the fire limit
    /// are found without walking the times in between.
    fn preview_grid(
        &self,
        t0_ms: i64,
        period_ms: i64,
        created_ms: i64,
        from_ms: i64,
        count: usize,
    ) -> Vec<i64> {
        let Some(first) = self.first_fire(created_ms) else {
            return Vec::new();
        };
        let first_k = grid_index(t0_ms, period_ms, first);
        let after_from_k = if from_ms < t0_ms {
            0
        } else {
            grid_index(t0_ms, period_ms, from_ms).saturating_add(1)
        };
        let last_k = self
            .max_fires
            .map_or(i64::MAX, |max| first_k.saturating_add(max - 1));
        let mut out = Vec::with_capacity(count.min(1024));
        let mut k = first_k.max(after_from_k);
        while out.len() < count && k <= last_k {
            let Some(t) = grid_point(t0_ms, period_ms, k) else {
                break;
            };
            if !self.within_end(t) {
                break;
            }
            out.push(t);
            let Some(next) = k.checked_add(1) else { break };
            k = next;
        }
        out
    }
}

#[cfg(test)]
mod tests;
