//! The `w5` entry of the final object: the driver's per-broker figures (RocketMQ's only
//! when it ran), NATS's drain beside BullMQ's W2 drain (the same number of tasks due at one
//! instant), and the targets.

use serde_json::{Map, Value, json};

use crate::stats::round3;

/// Builds the `w5` entry from `tc-w5.json` and BullMQ's `bq-w2.json`.
pub fn entry(tc: Option<Value>, bq_w2: Option<&Value>) -> Value {
    let Some(Value::Object(mut out)) = tc else {
        return json!({"targets": []});
    };
    let mut targets = Vec::new();
    // An extra broker (RocketMQ) is held to the same target when it ran.
    let extra = super::EXTRA_BROKERS
        .into_iter()
        .filter(|b| out.contains_key(*b));
    for broker in super::BROKERS.into_iter().chain(extra) {
        let ratio = out.get(broker).and_then(|b| b["ratio"].as_f64());
        targets.push(check(&format!("{broker} ratio >= 0.7"), ratio, |r| {
            r >= 0.7
        }));
    }
    let nats_drain = out
        .get("nats")
        .and_then(|b| b["taskcenter"]["drain_s"].as_f64());
    let same_n =
        bq_w2.and_then(|b| b["one"]["tasks"].as_u64()) == out.get("tasks").and_then(Value::as_u64);
    let mut vs = Map::new();
    for run in ["one", "two"] {
        let bq = bq_w2.and_then(|b| b[run]["drain_s"].as_f64());
        let ratio = match (nats_drain, bq) {
            (Some(t), Some(b)) if b > 0.0 && same_n => Some(round3(t / b)),
            _ => None,
        };
        vs.insert(format!("bullmq_w2_{run}_drain_s"), json!(bq));
        vs.insert(format!("ratio_{run}"), json!(ratio));
        targets.push(check(
            &format!("nats drain_s / bullmq w2 {run}.drain_s <= 1/3"),
            ratio,
            |r| r <= 1.0 / 3.0,
        ));
    }
    vs.insert("nats_drain_s".into(), json!(nats_drain));
    vs.insert("same_tasks".into(), json!(same_n));
    out.insert("vs_bullmq_w2".into(), Value::Object(vs));
    out.insert("targets".into(), Value::Array(targets));
    Value::Object(out)
}

fn check(what: &str, value: Option<f64>, holds: impl Fn(f64) -> bool) -> Value {
    json!({"target": what, "value": value, "holds": value.map(holds)})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(entry: &Value) -> Vec<&str> {
        entry["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["target"].as_str())
            .collect()
    }

    #[test]
    fn rocketmq_is_held_to_the_ratio_target_only_when_it_ran() {
        let without = entry(Some(json!({"tasks": 10, "nats": {"ratio": 0.9}})), None);
        assert!(!targets(&without).contains(&"rocketmq ratio >= 0.7"));
        assert!(without.get("rocketmq").is_none());
        let with = entry(Some(json!({"tasks": 10, "rocketmq": {"ratio": 0.5}})), None);
        let all = targets(&with);
        assert!(all.contains(&"nats ratio >= 0.7"));
        assert!(all.contains(&"rocketmq ratio >= 0.7"));
        let held = with["targets"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["target"] == "rocketmq ratio >= 0.7"))
            .map(|t| t["holds"].clone());
        assert_eq!(held, Some(json!(false)));
    }
}
