//! Counter deltas: each write tallies what it moved and adds it to the counter rows in the
//! same savepoint, so `task_counts` and `queue_counts` never scan.

use rusqlite::{Connection, params};

use super::rows::state;

/// Queue counter kinds, as stored in `queue_counts.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Published or retrying.
    Ready = 0,
    /// Leased, last attempt or not.
    Leased = 1,
    /// Dead letters.
    Dead = 2,
    /// Waiting for a first subscriber.
    Unclaimed = 3,
}

impl Kind {
    /// The counter a delivery state belongs to; acked and cancelled are not counted.
    pub(crate) fn of(code: i16) -> Option<Self> {
        match code {
            state::PUBLISHED | state::RETRYING => Some(Self::Ready),
            state::LEASED | state::LEASED_FINAL => Some(Self::Leased),
            state::DEAD => Some(Self::Dead),
            state::UNCLAIMED => Some(Self::Unclaimed),
            _ => None,
        }
    }
}

/// Changes to the counters made by one write.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    tasks: [i64; 4],
    queue: [i64; 4],
}

impl Tally {
    /// A task entered status code `code`.
    pub(crate) fn task_in(&mut self, code: i16) {
        if let Some(n) = usize::try_from(code)
            .ok()
            .and_then(|i| self.tasks.get_mut(i))
        {
            *n += 1;
        }
    }

    /// A task with status code `code` was removed for good.
    pub(crate) fn task_out(&mut self, code: i16) {
        if let Some(n) = usize::try_from(code)
            .ok()
            .and_then(|i| self.tasks.get_mut(i))
        {
            *n -= 1;
        }
    }

    /// A task moved between status codes.
    pub(crate) fn task_moved(&mut self, from: i16, to: i16) {
        if from != to {
            self.task_in(to);
            self.task_out(from);
        }
    }

    /// `n` deliveries entered (`n` < 0: left) a counter.
    pub(crate) fn queue(&mut self, kind: Kind, n: i64) {
        self.queue[kind as usize] += n;
    }

    /// `n` deliveries moved from state `from` to state `to`.
    pub(crate) fn moved(&mut self, from: i16, to: i16, n: i64) {
        if let Some(kind) = Kind::of(from) {
            self.queue(kind, -n);
        }
        if let Some(kind) = Kind::of(to) {
            self.queue(kind, n);
        }
    }

    /// Adds the tally to the counter rows.
    pub(crate) fn apply(&self, conn: &Connection) -> rusqlite::Result<()> {
        let rows = [
            (
                "UPDATE task_counts SET n = n + ?2 WHERE status = ?1",
                &self.tasks,
            ),
            (
                "UPDATE queue_counts SET n = n + ?2 WHERE kind = ?1",
                &self.queue,
            ),
        ];
        for (sql, deltas) in rows {
            for (key, delta) in deltas.iter().enumerate() {
                if *delta != 0 {
                    conn.prepare_cached(sql)?
                        .execute(params![key as i64, delta])?;
                }
            }
        }
        Ok(())
    }
}
