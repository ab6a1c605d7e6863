//! `ls`, `get`, `rm`, `pause`, `resume`, `trigger`, `history`, `update` and `dlq` run as a
//! user runs them: tables for people, JSON for scripts, exit codes.

mod common;

use common::{Server, run_cli};
use serde_json::{Value, json};

#[test]
fn ls_get_rm_pause_resume_trigger_history() {
    let server = Server::start(&[]);
    let a = server
        .cli(&["add", "--name", "ls.a", "--data", "1", "--every", "1h"])
        .ok()
        .trim()
        .to_string();
    let b = server
        .cli(&["add", "--name", "ls.a", "--data", "2", "--in", "1h"])
        .ok()
        .trim()
        .to_string();
    let c = server
        .cli(&["add", "--name", "ls.c", "--data", "3", "--in", "1h"])
        .ok()
        .trim()
        .to_string();

    let table = server.cli(&["ls"]).ok().to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("NAME") && lines[0].contains("NEXT FIRE"),
        "{table}"
    );
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[1].starts_with(&c), "newest first: {table}");
    let named = server.cli(&["ls", "--name", "ls.a", "--json"]).json();
    assert_eq!(task_ids(&named), [b.as_str(), a.as_str()]);
    let page = server.cli(&["ls", "--limit", "1", "--json"]).json();
    assert_eq!(page["next_offset"].as_i64(), Some(1));
    let upcoming = server.cli(&["ls", "--next", "--json"]).json();
    assert_eq!(
        task_ids(&upcoming),
        [a.as_str(), b.as_str(), c.as_str()],
        "soonest fire first"
    );

    let paused = server.cli(&["pause", &a]).ok().to_string();
    assert!(paused.contains("paused"), "{paused}");
    let listed = server.cli(&["ls", "--status", "paused"]).ok().to_string();
    assert!(listed.contains(&a) && !listed.contains(&b), "{listed}");
    let resumed = server.cli(&["resume", &a, "--json"]).json();
    assert_eq!(resumed["status"], "scheduled");

    let fired = server.cli(&["trigger", &c]).ok().to_string();
    assert!(fired.starts_with(&format!("fired {c} now")), "{fired}");
    let history = server.cli(&["history", &c, "--json"]).json();
    assert_eq!(history["fires"].as_array().map(Vec::len), Some(1));
    let text = server.cli(&["history", &c]).ok().to_string();
    assert!(
        text.starts_with("FIRE TIME") && text.contains("unclaimed"),
        "{text}"
    );

    let rm = server.cli(&["rm", &a, &b]).ok().to_string();
    assert_eq!(rm, format!("deleted {a}\ndeleted {b}\n"));
    let again = server.cli(&["rm", &a]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(
        again.stderr.contains(&format!("not found: {a}")),
        "{again:?}"
    );
    assert_eq!(server.cli(&["rm", "-f", &a]).code, 0);
    let by_name = server.cli(&["rm", "--name", "ls.c", "--json"]).json();
    assert_eq!(by_name["SucIds"], serde_json::json!([c]));
    assert_eq!(server.cli(&["ls"]).ok(), "No tasks.\n");
}

#[test]
fn update_changes_only_the_fields_given() {
    let server = Server::start(&[]);
    let id = server
        .cli(&[
            "add", "--name", "up.a", "--data", "old", "--every", "1h", "--count", "2",
        ])
        .ok()
        .trim()
        .to_string();

    let data = server
        .cli(&["update", &id, "--data", "new", "--json"])
        .json();
    assert_eq!(
        (&data["_id"], &data["name"], &data["data"], &data["type"]),
        (&json!(id), &json!("up.a"), &json!("new"), &json!(2))
    );
    assert_eq!(
        (&data["loop_time"], &data["loop_count"]),
        (&json!(3600), &json!(2))
    );

    let every = server
        .cli(&["update", &id, "--every", "90s", "--count", "7", "--json"])
        .json();
    assert_eq!(
        (&every["loop_time"], &every["loop_count"]),
        (&json!(90), &json!(7))
    );
    assert_eq!(every["data"], "new");

    let cron = server
        .cli(&[
            "update",
            &id,
            "--cron",
            "0 4 * * *",
            "--tz",
            "Europe/Berlin",
            "--ack",
            "--json",
        ])
        .json();
    assert_eq!(
        (
            &cron["type"],
            &cron["crontab"],
            &cron["timezone"],
            &cron["ack"]
        ),
        (
            &json!(3),
            &json!("0 4 * * *"),
            &json!("Europe/Berlin"),
            &json!(true)
        )
    );
    assert_eq!(cron["loop_count"], 7);
    let stored = server.task_ok(&id);
    assert_eq!(stored["crontab"], "0 4 * * *");
    assert_eq!(stored["data"], "new");

    let text = server
        .cli(&["update", &id, "--no-ack", "--name", "up.b"])
        .ok()
        .to_string();
    assert!(text.starts_with("id ") && text.contains(&id), "{text}");
    assert!(
        text.contains("up.b") && text.contains("cron 0 4 * * * (Europe/Berlin)"),
        "{text}"
    );
    assert_eq!(server.task_ok(&id)["ack"], false);

    let file = server.root.join("payload.txt");
    std::fs::write(&file, "from a file").expect("write payload");
    let path = file.display().to_string();
    let from_file = server
        .cli(&["update", &id, "--data-file", &path, "--json"])
        .json();
    assert_eq!(from_file["data"], "from a file");

    let unknown = server.cli(&["update", "0123456789abcdef01234567", "--data", "x"]);
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(unknown.stderr.contains("not found"), "{unknown:?}");
    let invalid = server.cli(&["update", &id, "--cron", "0 0 31 2 *"]);
    assert_eq!(invalid.code, 1, "{invalid:?}");
    assert_eq!(
        server.task_ok(&id)["crontab"],
        "0 4 * * *",
        "a refused update changed the task"
    );
    let nothing = run_cli(&["update", &id]);
    assert_eq!(
        nothing.code, 2,
        "an update without a change is a usage error: {nothing:?}"
    );
}

#[test]
fn dlq_ls_requeue_purge() {
    let server = Server::start(&["--retry-delays", "1s"]);
    assert_eq!(server.cli(&["dlq", "ls"]).ok(), "No dead letters.\n");
    // Two deliveries of a message, both failed: it is dead.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let api = taskcenter_client::ApiClient::new(&server.base_url()).expect("api");
    let req = taskcenter_client::types::ConsumeRequest {
        group: Some("g".into()),
        tags: Some("dlq.t".into()),
        max: Some(1),
        wait_ms: Some(0),
    };
    rt.block_on(api.consume(&req)).expect("subscribe");
    let id = server
        .cli(&["add", "--name", "dlq.t", "--data", "payload"])
        .ok()
        .trim()
        .to_string();
    rt.block_on(async {
        let req = taskcenter_client::types::ConsumeRequest {
            wait_ms: Some(5_000),
            ..req.clone()
        };
        for _ in 0..2 {
            let got = api.consume(&req).await.expect("consume").messages;
            assert_eq!(got.len(), 1);
            api.nack("g", vec![got[0].msgid.clone()], Some(0))
                .await
                .expect("nack");
        }
    });
    let listed = server.cli(&["dlq", "ls", "--json"]).json();
    let dead = listed["dead_letters"].as_array().expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0]["taskid"].as_str(), dead[0]["attempts"].as_i64()),
        (Some(id.as_str()), Some(2))
    );
    let msgid = dead[0]["msgid"].as_str().expect("msgid").to_string();
    let table = server.cli(&["dlq", "ls", "--group", "g"]).ok().to_string();
    assert!(
        table.starts_with("MSGID") && table.contains(&id) && table.contains("payload"),
        "{table}"
    );

    assert_eq!(
        server.cli(&["dlq", "requeue", &msgid]).ok(),
        "requeued 1 dead letter\n"
    );
    let again = server.cli(&["dlq", "requeue", &msgid]);
    assert_eq!(again.code, 1, "{again:?}");
    // Back in the queue: the consume command prints it and acks it.
    let line = server
        .cli(&["consume", "dlq.t", "--group", "g", "--json", "--count", "1"])
        .ok()
        .to_string();
    let m: Value = serde_json::from_str(line.trim()).expect("json line");
    assert_eq!(
        (m["taskid"].as_str(), m["data"].as_str()),
        (Some(id.as_str()), Some("payload"))
    );
    assert_eq!(
        server.cli(&["dlq", "purge", "--all", "--json"]).json()["count"],
        0
    );
    assert_eq!(
        server.cli(&["dlq", "purge"]).code,
        2,
        "purge needs msgids or --all"
    );
}

/// The `_id`s of `ls --json`, in order.
fn task_ids(list: &Value) -> Vec<&str> {
    let tasks = list["tasks"].as_array().expect("tasks");
    tasks.iter().filter_map(|t| t["_id"].as_str()).collect()
}
