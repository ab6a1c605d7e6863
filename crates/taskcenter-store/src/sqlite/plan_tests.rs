//! Checks that the hot statements use their indexes, so they stay fast at millions of rows.

use rusqlite::Connection;

use super::SqliteOptions;
use super::conn::{open_writer, schema_version};

fn plan(conn: &Connection, sql: &str) -> String {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("explain");
    // Parameters left unbound: the plan does not depend on their values.
    let mut rows = stmt.raw_query();
    let mut steps = Vec::new();
    while let Some(row) = rows.next().expect("plan row") {
        steps.push(row.get::<_, String>(3).expect("plan step"));
    }
    steps.join("; ")
}

fn fresh() -> (Connection, tempfile::TempDir) {
    let dir = crate::fixtures::temp_dir();
    let conn = open_writer(&dir.path().join("plan.db"), &SqliteOptions::default()).expect("open");
    (conn, dir)
}

#[test]
fn hot_statements_use_indexes() {
    let (conn, _dir) = fresh();
    assert_eq!(
        schema_version(&conn).expect("version"),
        super::conn::MIGRATIONS.len() as i64
    );
    let cases = [
        (
            "SELECT t.id FROM tasks t INDEXED BY tasks_due JOIN task_payloads p ON p.rid = t.rid \
             WHERE t.status = 0 AND t.next_fire_ms IS NOT NULL AND (NULL IS NULL OR t.name = NULL) \
             ORDER BY t.next_fire_ms, t.rid LIMIT 10 OFFSET 5",
            "tasks_due",
        ),
        (
            "SELECT t.rid FROM tasks t WHERE t.status = 0 AND t.next_fire_ms <= 5 \
             ORDER BY t.next_fire_ms, t.rid LIMIT 10",
            "tasks_due",
        ),
        (
            "SELECT t.id FROM tasks t INDEXED BY tasks_dedup JOIN task_payloads p ON p.rid = t.rid \
             WHERE t.dedup_hash = 1 AND t.status < 2 AND t.name = 'a' AND p.data = 'b'",
            "tasks_dedup",
        ),
        (
            "UPDATE deliveries SET state = 5 WHERE grp = 'g' AND state = 3 AND visible_at <= 5",
            "deliveries_final",
        ),
        (
            "UPDATE deliveries SET grp = 'g', state = 0 WHERE state = 7 AND tag = 'a'",
            "deliveries_unclaimed",
        ),
        (
            "UPDATE deliveries SET state = 6 WHERE id IN \
             (SELECT d.id FROM fires f JOIN deliveries d \
              ON d.id BETWEEN f.first_delivery AND f.first_delivery + f.delivery_count - 1 \
              WHERE f.task_rid = 1 AND d.state IN (0, 1))",
            "PRIMARY KEY",
        ),
        (
            "SELECT d.id FROM deliveries d INDEXED BY deliveries_ready \
             JOIN tasks t ON t.rid = d.task_rid JOIN task_payloads p ON p.rid = d.task_rid \
             WHERE d.grp = 'g' AND d.state < 3 AND d.visible_at <= 5 \
             ORDER BY d.visible_at, d.id LIMIT 10",
            "deliveries_ready",
        ),
        (
            "SELECT d.id FROM deliveries d INDEXED BY deliveries_ready_tag \
             JOIN tasks t ON t.rid = d.task_rid JOIN task_payloads p ON p.rid = d.task_rid \
             WHERE d.grp = 'g' AND d.tag = 'a' AND d.state < 3 AND d.visible_at <= 5 \
             AND d.grp <> '@outbox' \
             ORDER BY d.visible_at, d.id LIMIT 10",
            "deliveries_ready_tag",
        ),
        (
            "SELECT t.id FROM tasks t INDEXED BY tasks_name JOIN task_payloads p ON p.rid = t.rid \
             WHERE t.name = 'a' AND t.status < 3 AND (NULL IS NULL OR t.status = NULL) \
             ORDER BY t.rid DESC LIMIT 10 OFFSET 5",
            "tasks_name",
        ),
        (
            "SELECT t.id FROM tasks t \
             JOIN task_payloads p ON p.rid = t.rid WHERE t.status < 3 \
             ORDER BY t.rid DESC LIMIT 10 OFFSET 5",
            "SCAN t",
        ),
        (
            "SELECT d.id FROM deliveries d INDEXED BY deliveries_dead_grp \
             JOIN tasks t ON t.rid = d.task_rid JOIN task_payloads p ON p.rid = d.task_rid \
             WHERE d.state = 5 AND d.grp = 'g' ORDER BY d.done_at DESC, d.id DESC LIMIT 10",
            "deliveries_dead_grp",
        ),
        (
            "SELECT MIN(visible_at) FROM deliveries INDEXED BY deliveries_ready \
             WHERE grp = 'g' AND state < 3",
            "deliveries_ready",
        ),
        (
            "SELECT id, state, attempt, lease_until FROM deliveries \
             WHERE state IN (2, 3) AND lease_until <= 5 ORDER BY lease_until LIMIT 10",
            "deliveries_leased",
        ),
        (
            super::outbox::SENT_DONE,
            "USING INTEGER PRIMARY KEY (rowid=?)",
        ),
        (
            super::queue::MARK_LEASED,
            "USING INTEGER PRIMARY KEY (rowid=?)",
        ),
        (
            super::outbox::HELD_SENT,
            "USING INTEGER PRIMARY KEY (rowid=?)",
        ),
        (
            super::outbox::HELD_AGAIN,
            "USING INTEGER PRIMARY KEY (rowid=?)",
        ),
        (
            super::outbox::HELD_DEAD,
            "USING INTEGER PRIMARY KEY (rowid=?)",
        ),
        (super::queue::READY_IDS, "USING INDEX deliveries_ready "),
        (
            "SELECT f.fire_time, d.id FROM fires f LEFT JOIN deliveries d \
             ON d.id BETWEEN f.first_delivery AND f.first_delivery + f.delivery_count - 1 \
             WHERE f.task_rid = 1 ORDER BY f.fire_time DESC, d.id LIMIT 10",
            "INTEGER PRIMARY KEY (rowid>? AND rowid<?)",
        ),
    ];
    for (sql, index) in cases {
        let plan = plan(&conn, sql);
        assert!(plan.contains(index), "{sql}\n  uses {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{sql}\n  sorts: {plan}");
    }
    drop(conn);
}

/// Hot statements must not be recompiled when their parameters change (SQLite does that
/// when a bound value can change the plan, e.g. against a partial index's condition).
#[test]
fn hot_statements_are_not_reprepared() {
    use rusqlite::StatementStatus;
    let (conn, _dir) = fresh();
    use rusqlite::types::Value;
    let (i, t) = (Value::Integer, |s: &str| Value::Text(s.into()));
    let cases: Vec<(&str, Vec<Vec<Value>>)> = vec![
        (
            "SELECT t.id FROM tasks t INDEXED BY tasks_dedup JOIN task_payloads p ON p.rid = t.rid \
             WHERE t.dedup_hash = ?1 AND t.status < 2 AND t.name = ?2 AND p.data = ?3",
            vec![vec![i(1), t("a"), t("b")], vec![i(2), t("c"), t("d")]],
        ),
        (
            "SELECT d.id FROM deliveries d INDEXED BY deliveries_ready \
             JOIN tasks t ON t.rid = d.task_rid JOIN task_payloads p ON p.rid = d.task_rid \
             WHERE d.grp = ?1 AND d.state < 3 AND d.visible_at <= ?2 \
             ORDER BY d.visible_at, d.id LIMIT ?3",
            vec![vec![t("g"), i(1), i(5)], vec![t("h"), i(2), i(6)]],
        ),
        (
            "SELECT t.id FROM tasks t JOIN task_payloads p ON p.rid = t.rid \
             WHERE t.status = 0 AND t.next_fire_ms <= ?1 ORDER BY t.next_fire_ms, t.rid LIMIT ?2",
            vec![vec![i(1), i(5)], vec![i(2), i(6)]],
        ),
        (
            super::outbox::SENT_DONE,
            vec![
                vec![i(1), t("g"), t("b"), i(5), i(1), i(0)],
                vec![i(2), t("h"), t("c"), i(6), i(2), i(1)],
            ],
        ),
    ];
    for (sql, runs) in cases {
        let mut stmt = conn.prepare(sql).expect("prepare");
        for params in runs {
            let params = rusqlite::params_from_iter(params.iter());
            if stmt.readonly() {
                let mut rows = stmt.query(params).expect("query");
                while rows.next().expect("row").is_some() {}
            } else {
                stmt.execute(params).expect("execute");
            }
        }
        let n = stmt.get_status(StatementStatus::RePrepare);
        assert_eq!(n, 0, "recompiled on rebinding: {sql}");
    }
    drop(conn);
}

/// A file made by the first schema version is brought up to date when opened, its rows
/// kept: the creation-time index is gone and the name index holds only the name.
#[test]
fn a_version_1_file_is_migrated_on_open() {
    let dir = crate::fixtures::temp_dir();
    let path = dir.path().join("v1.db");
    {
        let old = Connection::open(&path).expect("open v1");
        old.execute_batch(super::conn::MIGRATIONS[0])
            .expect("schema v1");
        old.pragma_update(None, "user_version", 1).expect("version");
        old.execute_batch(
            "INSERT INTO tasks VALUES (1, x'000000000000000000000001', 'a', 0, '', 0, 0, 0, 0, \
             60, 0, 'UTC', 'coalesce', 5, 0, 100, 0, 0, 7); \
             INSERT INTO task_payloads VALUES (1, 'd');",
        )
        .expect("a v1 row");
    }
    let conn = open_writer(&path, &SqliteOptions::default()).expect("open and migrate");
    assert_eq!(
        schema_version(&conn).expect("version"),
        super::conn::MIGRATIONS.len() as i64
    );
    let indexes: Vec<String> = conn
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks' AND sql IS NOT NULL")
        .expect("indexes")
        .query_map([], |row| row.get(0))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    assert!(
        !indexes.iter().any(|sql| sql.contains("tasks_created")),
        "{indexes:?}"
    );
    assert!(
        indexes
            .iter()
            .any(|sql| sql.ends_with("tasks_name ON tasks (name)")),
        "{indexes:?}"
    );
    let rows: i64 = conn
        .query_row(
            "SELECT count(*) FROM tasks t JOIN task_payloads p ON p.rid = t.rid",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(rows, 1, "the row survived the migration");
    drop(conn);
}
