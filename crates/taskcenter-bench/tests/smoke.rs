//! Keeps the benchmark from rotting: every workload of the driver runs with a tiny N
//! against the real `taskcenter` binary, and its JSON must have the expected shape.
//! Benchmarks are not tests: nothing here looks at a timing.
//!
//! The server binary is the one `cargo test --workspace` builds beside this crate's
//! (`target/<profile>/taskcenter`); `TASKCENTER_BIN` may name another.

use std::path::Path;

use serde_json::{Value, json};

mod common;
use common::{run, scratch, server_bin};

/// Runs a workload subcommand against a fresh server in `work`.
fn workload(sub: &str, work: &Path, extra: &[&str]) -> Value {
    let bin = server_bin();
    let mut args = vec![
        sub,
        "--bin",
        bin.to_str().expect("utf-8 path"),
        "--work",
        work.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn assert_numbers(v: &Value, keys: &[&str]) {
    for k in keys {
        assert!(
            v.get(*k).is_some_and(Value::is_number),
            "`{k}` is not a number in {v}"
        );
    }
}

fn assert_summary(v: &Value, key: &str) {
    let s = v.get(key).unwrap_or_else(|| panic!("no `{key}` in {v}"));
    assert_numbers(s, &["count", "min", "p50", "p90", "p99", "max", "mean"]);
}

#[test]
fn w1_single_and_batch_adds() {
    let dir = scratch("w1");
    for (batch, n) in [("1", "40"), ("10", "40")] {
        let v = workload(
            "w1",
            &dir.join(batch),
            &["--n", n, "--batch", batch, "--inflight", "4"],
        );
        assert_numbers(
            &v,
            &[
                "tasks", "accepted", "errors", "secs", "per_sec", "batch", "inflight",
            ],
        );
        assert_eq!(v["tasks"], json!(40));
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bare_http_ceiling() {
    let v = run(&["ceiling", "--n", "40", "--inflight", "4"]);
    assert_numbers(&v, &["tasks", "accepted", "secs", "per_sec"]);
}

#[test]
fn w2_burst_with_one_and_two_consumers() {
    let dir = scratch("w2");
    let samples = dir.join("samples.txt");
    let v = workload(
        "w2",
        &dir.join("work"),
        &[
            "--n",
            "30",
            "--margin-ms",
            "1000",
            "--samples",
            samples.to_str().expect("utf-8 path"),
        ],
    );
    for key in ["one", "two"] {
        let run = &v[key];
        assert_numbers(
            run,
            &[
                "tasks",
                "accepted",
                "consumed",
                "consumers",
                "add_secs",
                "drain_s",
                "fires_per_sec",
            ],
        );
        assert!(run["added_before_due"].is_boolean());
        assert_summary(run, "lateness_ms");
    }
    assert!(samples.exists(), "lateness samples not written");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn w3_precision() {
    let dir = scratch("w3");
    let v = workload(
        "w3",
        &dir,
        &["--n", "10", "--spread-s", "1", "--lead-s", "2"],
    );
    assert_numbers(
        &v,
        &[
            "tasks",
            "accepted",
            "consumed",
            "spread_s",
            "fire_time_mismatches",
        ],
    );
    assert_summary(&v, "lateness_ms");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn w4_loops() {
    let dir = scratch("w4");
    let v = workload("w4", &dir, &["--n", "3", "--count", "2", "--lead-s", "2"]);
    assert_numbers(
        &v,
        &[
            "tasks",
            "loop_count",
            "expected_fires",
            "fires",
            "tasks_exact",
            "min_fires_per_task",
            "max_fires_per_task",
            "off_grid_fires",
        ],
    );
    assert_summary(&v, "drift_ms");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn capacity_and_the_final_report() {
    let dir = scratch("m");
    let v = workload(
        "capacity",
        &dir.join("work"),
        &["--n", "200", "--settle-ms", "100"],
    );
    assert_numbers(
        &v,
        &[
            "tasks",
            "accepted",
            "add_secs",
            "rss_bytes",
            "peak_rss_bytes",
            "disk_bytes",
            "shutdown_s",
            "restart_s",
            "rss_after_restart_bytes",
        ],
    );
    assert!(
        v["disk_bytes"].as_u64().is_some_and(|b| b > 0),
        "no bytes on disk: {v}"
    );

    // The report pairs each side's figures; BullMQ's side here is made up (no node needed).
    let results = dir.join("results");
    std::fs::create_dir_all(&results).expect("results folder");
    std::fs::write(results.join("tc-m1.json"), v.to_string()).expect("write");
    std::fs::write(results.join("tc-m2.json"), v.to_string()).expect("write");
    let bq = json!({"tasks": 200, "accepted": 200, "add_secs": 1.0, "rss_bytes": 4 * 1024 * 1024, "disk_bytes": 0});
    std::fs::write(results.join("bq-m1.json"), format!("progress line\n{bq}\n")).expect("write");
    let report = run(&["report", "--dir", results.to_str().expect("utf-8 path")]);
    for w in ["w1a", "w1b", "w2", "w3", "w4", "m1", "m2"] {
        let entry = &report[w];
        for key in ["taskcenter", "bullmq", "ratio", "targets"] {
            assert!(entry.get(key).is_some(), "{w} has no `{key}`: {report}");
        }
    }
    assert!(
        report["m1"]["ratio"]["rss_bytes"].is_number(),
        "no m1 ratio: {report}"
    );
    assert!(
        report["m1"]["ratio"].get("tasks").is_none(),
        "counts get no ratio"
    );
    assert!(
        report["m1"]["ratio"].get("disk_bytes").is_none(),
        "no ratio against 0"
    );
    assert!(report["m2"]["bullmq"].is_null());
    assert!(
        report["m2"]["targets"]
            .as_array()
            .is_some_and(|t| t.len() == 2)
    );
    assert!(report["w1a"]["taskcenter"].is_null());
    let _ = std::fs::remove_dir_all(dir);
}
