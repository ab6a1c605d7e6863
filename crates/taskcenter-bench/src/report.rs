//! The final object of `bench/run` (a fixed shape that outside tools read): per workload the figures of taskcenter, of
//! BullMQ where it runs, their ratio, and whether the targets hold.
//!
//! Each side's figures are read from `tc-<w>.json` / `bq-<w>.json` in the results folder.
//! Every ratio is taskcenter ÷ BullMQ, whatever the figure: above 1 means taskcenter's
//! number is larger (better for rates, worse for times and bytes).

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::stats::round3;

/// The workloads compared with BullMQ, in output order (`w5` follows them).
pub const WORKLOADS: [&str; 7] = ["w1a", "w1b", "w2", "w3", "w4", "m1", "m2"];

/// Counts and settings: the same on both sides by construction, so no ratio.
const NO_RATIO: [&str; 21] = [
    "tasks",
    "accepted",
    "errors",
    "consumed",
    "batch",
    "inflight",
    "consumers",
    "polls_per_consumer",
    "count",
    "spread_s",
    "loop_count",
    "expected_fires",
    "tasks_seen",
    "tasks_exact",
    "min_fires_per_task",
    "max_fires_per_task",
    "off_grid_fires",
    "fire_time_mismatches",
    "first_error",
    "concurrency",
    "fires",
];

/// Builds the final object from the results folder.
pub fn build(dir: &Path) -> Value {
    let mut out = Map::new();
    for w in WORKLOADS {
        let tc = read(dir, &format!("tc-{w}.json"));
        let bq = read(dir, &format!("bq-{w}.json"));
        let ratio = match (&tc, &bq) {
            (Some(t), Some(b)) => ratio(t, b),
            _ => None,
        };
        let mut entry = Map::new();
        entry.insert("taskcenter".into(), tc.clone().unwrap_or(Value::Null));
        entry.insert("bullmq".into(), bq.clone().unwrap_or(Value::Null));
        entry.insert("ratio".into(), ratio.clone().unwrap_or(Value::Null));
        if w == "w1a"
            && let Some(bare) = read(dir, "tc-bare.json")
        {
            entry.insert("bare_http".into(), bare);
        }
        let ctx = Ctx {
            tc: tc.as_ref(),
            ratio: ratio.as_ref(),
        };
        let mut checks = targets(w, &ctx);
        if w == "w1a" {
            checks.extend(wrk_figures(dir, bq.as_ref(), &mut entry));
        }
        if w == "w1b" {
            checks.extend(one_in_flight(dir, &mut entry));
        }
        entry.insert("targets".into(), Value::Array(checks));
        out.insert(w.into(), Value::Object(entry));
    }
    let bq_w2 = read(dir, "bq-w2.json");
    out.insert(
        "w5".into(),
        crate::w5::report::entry(read(dir, "tc-w5.json"), bq_w2.as_ref()),
    );
    Value::Object(out)
}

/// W1a driven by wrk (`tc-w1a-wrk.json`, and `tc-bare-wrk.json` for the bare server): put
/// into `entry` as `wrk`, `wrk_ratio` (against BullMQ's `Queue.add`) and `bare_http_wrk`;
/// returns its targets.
fn wrk_figures(dir: &Path, bq: Option<&Value>, entry: &mut Map<String, Value>) -> Vec<Value> {
    if let Some(bare) = read(dir, "tc-bare-wrk.json") {
        entry.insert("bare_http_wrk".into(), bare);
    }
    let wrk = read(dir, "tc-w1a-wrk.json");
    let per_sec = |v: Option<&Value>| v?.get("per_sec")?.as_f64();
    let ratio = match (per_sec(wrk.as_ref()), per_sec(bq)) {
        (Some(t), Some(b)) if b != 0.0 => Some(round3(t / b)),
        _ => None,
    };
    let matches = wrk
        .as_ref()
        .and_then(|v| v.get("stored_matches")?.as_bool())
        .map(|m| if m { 1.0 } else { 0.0 });
    entry.insert("wrk".into(), wrk.unwrap_or(Value::Null));
    entry.insert(
        "wrk_ratio".into(),
        ratio.map_or(Value::Null, |r| json!({ "per_sec": r })),
    );
    vec![
        check("wrk_ratio per_sec >= 2", ratio, |r| r >= 2.0),
        check(
            "wrk every 200 is one stored task, no more stored (1 = yes)",
            matches,
            |v| v == 1.0,
        ),
    ]
}

/// W1b with one batch in flight (`tc-w1b-1.json`, `bq-w1b-1.json`): put into `entry` as
/// `one_in_flight` with both sides and their ratio; returns its target.
fn one_in_flight(dir: &Path, entry: &mut Map<String, Value>) -> Vec<Value> {
    let tc = read(dir, "tc-w1b-1.json");
    let bq = read(dir, "bq-w1b-1.json");
    let ratio = match (&tc, &bq) {
        (Some(t), Some(b)) => ratio(t, b),
        _ => None,
    };
    let per_sec = ratio.as_ref().and_then(|r| r.get("per_sec")?.as_f64());
    entry.insert(
        "one_in_flight".into(),
        json!({"taskcenter": tc, "bullmq": bq, "ratio": ratio}),
    );
    vec![check("one_in_flight ratio per_sec >= 4", per_sec, |r| {
        r >= 4.0
    })]
}

fn read(dir: &Path, name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join(name)).ok()?;
    // A side's output may have progress lines before its last line, the JSON.
    let last = text.lines().rev().find(|l| !l.trim().is_empty())?;
    serde_json::from_str(last).ok()
}

/// taskcenter ÷ BullMQ for every number both sides have, keeping the shape.
fn ratio(tc: &Value, bq: &Value) -> Option<Value> {
    match (tc, bq) {
        (Value::Number(t), Value::Number(b)) => {
            let (t, b) = (t.as_f64()?, b.as_f64()?);
            (b != 0.0).then(|| json!(round3(t / b)))
        }
        (Value::Object(t), Value::Object(b)) => {
            let map: Map<String, Value> = t
                .iter()
                .filter(|(k, _)| !NO_RATIO.contains(&k.as_str()))
                .filter_map(|(k, tv)| Some((k.clone(), ratio(tv, b.get(k)?)?)))
                .collect();
            (!map.is_empty()).then_some(Value::Object(map))
        }
        _ => None,
    }
}

struct Ctx<'a> {
    tc: Option<&'a Value>,
    ratio: Option<&'a Value>,
}

impl Ctx<'_> {
    fn tc(&self, path: &str) -> Option<f64> {
        self.tc?.pointer(path)?.as_f64()
    }
    fn ratio(&self, path: &str) -> Option<f64> {
        self.ratio?.pointer(path)?.as_f64()
    }
}

fn check(what: &str, value: Option<f64>, holds: impl Fn(f64) -> bool) -> Value {
    json!({"target": what, "value": value, "holds": value.map(holds)})
}

/// The targets for workload `w`.
fn targets(w: &str, c: &Ctx<'_>) -> Vec<Value> {
    const THIRD: f64 = 1.0 / 3.0;
    match w {
        "w1a" => vec![check("ratio per_sec >= 2", c.ratio("/per_sec"), |r| {
            r >= 2.0
        })],
        "w1b" => vec![check("ratio per_sec >= 4", c.ratio("/per_sec"), |r| {
            r >= 4.0
        })],
        "w2" => ["one", "two"]
            .iter()
            .flat_map(|k| {
                [
                    check(
                        &format!("ratio {k}.drain_s <= 1/3"),
                        c.ratio(&format!("/{k}/drain_s")),
                        |r| r <= THIRD,
                    ),
                    check(
                        &format!("ratio {k}.lateness_ms.p99 <= 1/3"),
                        c.ratio(&format!("/{k}/lateness_ms/p99")),
                        |r| r <= THIRD,
                    ),
                ]
            })
            .collect(),
        "w3" => vec![check(
            "taskcenter lateness_ms.p99 <= 5",
            c.tc("/lateness_ms/p99"),
            |v| v <= 5.0,
        )],
        "w4" => {
            let all = match (c.tc("/tasks_exact"), c.tc("/tasks")) {
                (Some(e), Some(t)) => Some(if e == t { 1.0 } else { 0.0 }),
                _ => None,
            };
            vec![
                check(
                    "taskcenter every task fired exactly loop_count times (1 = yes)",
                    all,
                    |v| v == 1.0,
                ),
                check("taskcenter drift_ms.p99 <= 5", c.tc("/drift_ms/p99"), |v| {
                    v <= 5.0
                }),
            ]
        }
        "m1" => vec![check(
            "ratio rss_bytes <= 0.25",
            c.ratio("/rss_bytes"),
            |r| r <= 0.25,
        )],
        "m2" => vec![
            check("taskcenter rss_bytes <= 1 GiB", c.tc("/rss_bytes"), |v| {
                v <= 1073741824.0
            }),
            check("taskcenter restart_s <= 10", c.tc("/restart_s"), |v| {
                v <= 10.0
            }),
        ],
        _ => Vec::new(),
    }
}
