//! Keeps W1a's wrk driver from rotting: `w1-wrk` and `ceiling-wrk` run with a tiny N
//! against the real binary (and the bare server), and the report carries their figures.
//! The stored count comes from SQLite's own shell, so a 200 that stored nothing, or a
//! task stored twice, shows here. No timing is looked at. Needs `wrk` and `sqlite3`.

use std::path::PathBuf;

use serde_json::{Value, json};

mod common;
use common::{run, scratch, server_bin};

fn script() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/wrk/add.lua");
    path.to_str().expect("utf-8 path").to_string()
}

#[test]
fn wrk_adds_exactly_n_tasks_and_sqlite_counts_each_once() {
    let dir = scratch("w1");
    let bin = server_bin();
    let script = script();
    let v = run(&[
        "w1-wrk",
        "--bin",
        bin.to_str().expect("utf-8 path"),
        "--work",
        dir.to_str().expect("utf-8 path"),
        "--script",
        &script,
        "--n",
        "300",
        "--connections",
        "8",
    ]);
    assert_eq!(v["tasks"], json!(300), "{v}");
    assert_eq!(v["issued"], json!(300), "exactly n adds were sent: {v}");
    assert_eq!(v["accepted"], json!(300), "every add answered 200: {v}");
    assert_eq!(v["errors"], json!(0), "{v}");
    assert_eq!(
        v["stored"],
        json!(300),
        "sqlite3 counts every add once: {v}"
    );
    assert_eq!(v["stored_distinct"], json!(300), "{v}");
    assert_eq!(v["stored_matches"], json!(true), "{v}");
    assert!(v["per_sec"].is_number() && v["secs"].is_number());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn wrk_against_the_bare_server_counts_its_answers() {
    let script = script();
    let v = run(&[
        "ceiling-wrk",
        "--script",
        &script,
        "--n",
        "200",
        "--connections",
        "4",
    ]);
    assert_eq!(v["accepted"], json!(200), "{v}");
    assert_eq!(v["errors"], json!(0), "{v}");
}

#[test]
fn the_report_puts_the_wrk_figures_and_one_batch_in_flight_beside_bullmq() {
    let dir = scratch("report");
    let write = |name: &str, v: Value| {
        std::fs::write(dir.join(name), format!("{v}\n")).expect("write");
    };
    write(
        "tc-w1a-wrk.json",
        json!({"tasks": 10, "accepted": 10, "per_sec": 300.0, "stored": 10, "stored_distinct": 10, "stored_matches": true}),
    );
    write(
        "bq-w1a.json",
        json!({"tasks": 10, "accepted": 10, "per_sec": 100.0}),
    );
    write("tc-w1b-1.json", json!({"tasks": 10, "per_sec": 500.0}));
    write("bq-w1b-1.json", json!({"tasks": 10, "per_sec": 100.0}));
    let report = run(&["report", "--dir", dir.to_str().expect("utf-8 path")]);
    let w1a = &report["w1a"];
    assert_eq!(w1a["wrk"]["per_sec"], json!(300.0), "{report}");
    assert_eq!(w1a["wrk_ratio"]["per_sec"], json!(3.0), "{report}");
    let holds: Vec<&Value> = w1a["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter(|t| t["target"].as_str().is_some_and(|s| s.starts_with("wrk")))
        .map(|t| &t["holds"])
        .collect();
    assert_eq!(holds, vec![&json!(true), &json!(true)], "{report}");
    let one = &report["w1b"]["one_in_flight"];
    assert_eq!(one["ratio"]["per_sec"], json!(5.0), "{report}");
    assert_eq!(one["taskcenter"]["per_sec"], json!(500.0), "{report}");
    let _ = std::fs::remove_dir_all(dir);
}
