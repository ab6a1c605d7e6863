//! Task statements: insert with dedup, reads, compare-and-set replace, soft delete.

use rusqlite::{CachedStatement, Connection, OptionalExtension, params};
use taskcenter_core::{Task, TaskId};

use super::counts::Tally;
use super::rows::{
    STATUS_DELETED, TASK_COLUMNS, dedup_hash, read_task, state, status_code, task_id,
};
use crate::model::{InsertOutcome, TaskFilter, TaskOrder};

/// Inserts the tasks of several adds in order, each add with its own `dedup` flag; with
/// it, a live task with the same `(name, data)` (possibly inserted earlier in this call)
/// is answered instead. One call per group commit keeps the counters' row and the
/// statement journal to one write each, however many adds it carries.
pub(crate) fn insert<'a>(
    conn: &Connection,
    adds: impl IntoIterator<Item = (&'a [Task], bool)>,
) -> rusqlite::Result<Vec<Vec<InsertOutcome>>> {
    let mut tally = Tally::default();
    let mut statements = InsertStatements::prepare(conn)?;
    let mut answers = Vec::new();
    for (tasks, dedup) in adds {
        let mut out = Vec::with_capacity(tasks.len());
        for task in tasks {
            out.push(statements.insert_one(conn, task, dedup, &mut tally)?);
        }
        answers.push(out);
    }
    tally.apply(conn)?;
    Ok(answers)
}

/// The three statements of an insert, looked up in the statement cache once per call
/// rather than once per task.
struct InsertStatements<'c> {
    find_live: CachedStatement<'c>,
    task: CachedStatement<'c>,
    payload: CachedStatement<'c>,
}

impl<'c> InsertStatements<'c> {
    fn prepare(conn: &'c Connection) -> rusqlite::Result<Self> {
        Ok(Self {
            // A live task with this `(name, data)`: an index probe on the hash,
            // confirmed on the real values so a collision never merges two tasks.
            find_live: conn.prepare_cached(
                "SELECT t.id FROM tasks t INDEXED BY tasks_dedup \
                 JOIN task_payloads p ON p.rid = t.rid \
                 WHERE t.dedup_hash = ?1 AND t.status < 2 AND t.name = ?2 AND p.data = ?3 \
                 ORDER BY t.rid LIMIT 1",
            )?,
            task: conn.prepare_cached(
                "INSERT INTO tasks (id, name, kind, crontab, loop_time, loop_count, \
                 start_time, end_time, max_runtime, ack, timezone, misfire, created_at_ms, \
                 status, next_fire_ms, fire_count, version, dedup_hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, \
                 ?16, ?17, ?18)",
            )?,
            payload: conn
                .prepare_cached("INSERT INTO task_payloads (rid, data) VALUES (?1, ?2)")?,
        })
    }

    fn insert_one(
        &mut self,
        conn: &Connection,
        task: &Task,
        dedup: bool,
        tally: &mut Tally,
    ) -> rusqlite::Result<InsertOutcome> {
        let hash = dedup_hash(&task.name, &task.data);
        if dedup
            && let Some(id) = self
                .find_live
                .query_row(params![hash, task.name, task.data], |row| task_id(row, 0))
                .optional()?
        {
            return Ok(InsertOutcome::Existing(id));
        }
        write_row(
            &mut self.task,
            &&task.id.as_bytes()[..],
            task,
            task.version,
            hash,
        )?;
        let rid = conn.last_insert_rowid();
        self.payload.execute(params![rid, task.data])?;
        tally.task_in(status_code(task.status));
        Ok(InsertOutcome::Created(task.id))
    }
}

/// One task that is not deleted.
pub(crate) fn get(conn: &Connection, id: TaskId) -> rusqlite::Result<Option<Task>> {
    conn.prepare_cached(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks t JOIN task_payloads p ON p.rid = t.rid \
         WHERE t.id = ?1 AND t.status < 3"
    ))?
    .query_row([&id.as_bytes()[..]], read_task)
    .optional()
}

/// A part of the name, in any case (`?5`; every shape takes it).
const SEARCH: &str = "AND (?5 IS NULL OR instr(lower(t.name), lower(?5)) > 0)";

/// Tasks by name and/or status, newest first, paged.
pub(crate) fn list(conn: &Connection, filter: &TaskFilter) -> rusqlite::Result<Vec<Task>> {
    let status = filter.status.map(status_code);
    let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
    // Newest first is rowid order. A shape per index: by next fire (leaves ?2, the status,
    // unused: only scheduled tasks have one), by name, or over the whole table (leaves ?1
    // unused).
    let sql = match (filter.order, &filter.name) {
        (TaskOrder::NextFire, _) => format!(
            "SELECT {TASK_COLUMNS} FROM tasks t INDEXED BY tasks_due \
             JOIN task_payloads p ON p.rid = t.rid \
             WHERE t.status = 0 AND t.next_fire_ms IS NOT NULL \
             AND (?1 IS NULL OR t.name = ?1) {SEARCH} \
             ORDER BY t.next_fire_ms, t.rid LIMIT ?3 OFFSET ?4"
        ),
        (TaskOrder::Newest, Some(_)) => format!(
            "SELECT {TASK_COLUMNS} FROM tasks t INDEXED BY tasks_name \
             JOIN task_payloads p ON p.rid = t.rid \
             WHERE t.name = ?1 AND t.status < 3 AND (?2 IS NULL OR t.status = ?2) {SEARCH} \
             ORDER BY t.rid DESC LIMIT ?3 OFFSET ?4"
        ),
        (TaskOrder::Newest, None) => format!(
            "SELECT {TASK_COLUMNS} FROM tasks t \
             JOIN task_payloads p ON p.rid = t.rid \
             WHERE t.status < 3 AND (?2 IS NULL OR t.status = ?2) {SEARCH} \
             ORDER BY t.rid DESC LIMIT ?3 OFFSET ?4"
        ),
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![filter.name, status, limit, offset, filter.search],
        read_task,
    )?;
    rows.collect()
}

/// Compare-and-set: writes `task` only if its stored version is `expected`.
pub(crate) fn replace(conn: &Connection, task: &Task, expected: i64) -> rusqlite::Result<bool> {
    let Some((rid, old_status)) = live_row(conn, task.id, Some(expected))? else {
        return Ok(false);
    };
    let new_status = status_code(task.status);
    let mut update = conn.prepare_cached(
        "UPDATE tasks SET name = ?2, kind = ?3, crontab = ?4, loop_time = ?5, \
         loop_count = ?6, start_time = ?7, end_time = ?8, max_runtime = ?9, ack = ?10, \
         timezone = ?11, misfire = ?12, created_at_ms = ?13, status = ?14, \
         next_fire_ms = ?15, fire_count = ?16, version = ?17, dedup_hash = ?18 \
         WHERE rid = ?1",
    )?;
    let hash = dedup_hash(&task.name, &task.data);
    write_row(&mut update, &rid, task, expected + 1, hash)?;
    conn.prepare_cached("UPDATE task_payloads SET data = ?2 WHERE rid = ?1 AND data <> ?2")?
        .execute(params![rid, task.data])?;
    let mut tally = Tally::default();
    tally.task_moved(old_status, new_status);
    tally.apply(conn)?;
    Ok(true)
}

/// Binds a task row as the INSERT and the UPDATE above number it: `?1` is the row's key
/// (the id for an insert, the rowid for an update), `?2..?18` the columns.
fn write_row(
    stmt: &mut CachedStatement<'_>,
    key: &dyn rusqlite::ToSql,
    task: &Task,
    version: i64,
    hash: i64,
) -> rusqlite::Result<usize> {
    stmt.execute(params![
        key,
        task.name,
        task.kind.code(),
        task.crontab,
        task.loop_time,
        task.loop_count,
        task.start_time,
        task.end_time,
        task.max_runtime,
        task.ack,
        task.timezone,
        task.misfire.as_str(),
        task.created_at_ms,
        status_code(task.status),
        task.next_fire_ms,
        task.fire_count,
        version,
        hash,
    ])
}

/// `(rid, status)` of a task that is not deleted (and has version `version` if given).
fn live_row(
    conn: &Connection,
    id: TaskId,
    version: Option<i64>,
) -> rusqlite::Result<Option<(i64, i16)>> {
    conn.prepare_cached(
        "SELECT rid, status FROM tasks \
         WHERE id = ?1 AND status < 3 AND (?2 IS NULL OR version = ?2)",
    )?
    .query_row(params![&id.as_bytes()[..], version], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })
    .optional()
}

/// Deletes tasks by id; returns those that existed and were not deleted yet.
pub(crate) fn delete(conn: &Connection, ids: &[TaskId]) -> rusqlite::Result<Vec<TaskId>> {
    let mut deleted = Vec::new();
    let mut tally = Tally::default();
    for id in ids {
        let Some((rid, status)) = live_row(conn, *id, None)? else {
            continue;
        };
        // Never fired: nothing refers to it, so it goes at once. Otherwise it is kept,
        // marked deleted: its dead letters still show its payload, and retention forgets
        // it with its last fire.
        if !forget_if_unfired(conn, rid, status, &mut tally)? {
            conn.prepare_cached(
                "UPDATE tasks SET status = ?2, version = version + 1 WHERE rid = ?1",
            )?
            .execute(params![rid, STATUS_DELETED])?;
            tally.task_moved(status, STATUS_DELETED);
            cancel_deliveries(conn, rid, &mut tally)?;
        }
        deleted.push(*id);
    }
    tally.apply(conn)?;
    Ok(deleted)
}

/// Removes the task at `rid` (whose status code is `status`) for good if no fire of it is
/// stored; answers whether it did.
pub(crate) fn forget_if_unfired(
    conn: &Connection,
    rid: i64,
    status: i16,
    tally: &mut Tally,
) -> rusqlite::Result<bool> {
    let fired = conn
        .prepare_cached("SELECT 1 FROM fires WHERE task_rid = ?1 LIMIT 1")?
        .exists([rid])?;
    if fired {
        return Ok(false);
    }
    conn.prepare_cached("DELETE FROM tasks WHERE rid = ?1")?
        .execute([rid])?;
    conn.prepare_cached("DELETE FROM task_payloads WHERE rid = ?1")?
        .execute([rid])?;
    tally.task_out(status);
    Ok(true)
}

/// Deletes every task of a name.
pub(crate) fn delete_by_name(conn: &Connection, name: &str) -> rusqlite::Result<Vec<TaskId>> {
    let ids = conn
        .prepare_cached("SELECT id FROM tasks WHERE name = ?1 AND status < 3 ORDER BY rid")?
        .query_map([name], |row| task_id(row, 0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    delete(conn, &ids)
}

/// Cancels a deleted task's deliveries that nobody has consumed yet, one statement per
/// counter so the counters know how many left each.
fn cancel_deliveries(conn: &Connection, rid: i64, tally: &mut Tally) -> rusqlite::Result<()> {
    let groups: [&[i16]; 3] = [
        &[state::PUBLISHED, state::RETRYING],
        &[state::LEASED, state::LEASED_FINAL],
        &[state::UNCLAIMED],
    ];
    for from in groups {
        let (a, b) = (from[0], from[from.len() - 1]);
        let n = conn
            .prepare_cached(
                "UPDATE deliveries SET state = ?2 WHERE id IN \
                 (SELECT d.id FROM fires f JOIN deliveries d \
                  ON d.id BETWEEN f.first_delivery AND f.first_delivery + f.delivery_count - 1 \
                  WHERE f.task_rid = ?1 AND d.state IN (?3, ?4))",
            )?
            .execute(params![rid, state::CANCELLED, a, b])?;
        tally.moved(a, state::CANCELLED, n as i64);
    }
    Ok(())
}

/// Scheduled tasks due by `until_ms`, soonest first.
pub(crate) fn due(conn: &Connection, until_ms: i64, limit: usize) -> rusqlite::Result<Vec<Task>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks t JOIN task_payloads p ON p.rid = t.rid \
         WHERE t.status = 0 AND t.next_fire_ms <= ?1 \
         ORDER BY t.next_fire_ms, t.rid LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![until_ms, limit], read_task)?;
    rows.collect()
}

/// `(scheduled, paused, finished)`, from the trigger-maintained counters.
pub(crate) fn counts(conn: &Connection) -> rusqlite::Result<(i64, i64, i64)> {
    let mut n = [0i64; 3];
    let mut stmt = conn.prepare_cached("SELECT status, n FROM task_counts WHERE status < ?1")?;
    let rows = stmt.query_map([STATUS_DELETED], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (status, count) = row?;
        if let Some(slot) = usize::try_from(status).ok().and_then(|i| n.get_mut(i)) {
            *slot = count;
        }
    }
    Ok((n[0], n[1], n[2]))
}
