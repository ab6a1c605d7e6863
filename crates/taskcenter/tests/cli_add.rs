//! `taskcenter add` and `taskcenter preview` run as a user runs them: the real binary
//! against a real server, schedules given in words.

mod common;

use common::{Server, is_hex24, now_ms};
use serde_json::Value;

#[test]
fn add_in_the_words_people_use() {
    let server = Server::start(&[]);
    // none of the schedule flags: once, now; prints the id
    let id = server
        .cli(&["add", "--name", "cli.now", "--data", "hello"])
        .ok()
        .trim()
        .to_string();
    assert!(is_hex24(&id), "{id:?}");
    let t = server.cli(&["get", &id, "--json"]).json();
    assert_eq!(
        (t["type"].as_i64(), t["data"].as_str()),
        (Some(1), Some("hello"))
    );

    // --json prints the server's answer
    let added = server
        .cli(&[
            "add", "--name", "cli.in", "--data", "x", "--in", "10m", "--json",
        ])
        .json();
    assert_eq!(added["name"], "cli.in");
    let t = server
        .cli(&["get", added["taskid"].as_str().expect("taskid"), "--json"])
        .json();
    let start = t["start_time"].as_i64().expect("start_time");
    let want = now_ms() / 1000 + 600;
    assert!(
        (want - 5..=want + 1).contains(&start),
        "start {start}, want about {want}"
    );

    let id = server
        .cli(&[
            "add",
            "--name",
            "cli.at",
            "--data",
            "x",
            "--at",
            "2030-12-01T09:00:00+08:00",
        ])
        .ok()
        .trim()
        .to_string();
    let t = server.cli(&["get", &id, "--json"]).json();
    assert_eq!(t["start_time"].as_i64(), Some(1_922_317_200));
    assert_eq!(t["next_fire_time"].as_i64(), Some(1_922_317_200_000));

    let id = server
        .cli(&[
            "add",
            "--name",
            "cli.every",
            "--data",
            "x",
            "--every",
            "30s",
            "--count",
            "5",
        ])
        .ok()
        .trim()
        .to_string();
    let t = server.cli(&["get", &id, "--json"]).json();
    assert_eq!(
        (
            t["type"].as_i64(),
            t["loop_time"].as_i64(),
            t["loop_count"].as_i64()
        ),
        (Some(2), Some(30), Some(5))
    );
    let text = server.cli(&["get", &id]).ok().to_string();
    assert!(
        text.contains("every 30s, 5 times") && text.contains("cli.every"),
        "{text}"
    );

    let id = server
        .cli(&[
            "add",
            "--name",
            "cli.cron",
            "--data",
            "x",
            "--cron",
            "0 3 * * *",
            "--tz",
            "Europe/Berlin",
        ])
        .ok()
        .trim()
        .to_string();
    let t = server.cli(&["get", &id, "--json"]).json();
    assert_eq!(
        (t["type"].as_i64(), t["crontab"].as_str()),
        (Some(3), Some("0 3 * * *"))
    );
    assert_eq!(t["timezone"], "Europe/Berlin");
    // 03:00 in Berlin is 01:00 or 02:00 UTC, and the CLI prints in TZ (UTC here).
    let text = server.cli(&["get", &id]).ok().to_string();
    assert!(
        text.contains(":00:00 +00:00") && text.contains("cron 0 3 * * * (Europe/Berlin)"),
        "{text}"
    );

    // --ack, --max-runtime, --misfire, --until, --data-file
    let file = server.root.join("payload.json");
    std::fs::write(&file, "{\"big\": true}\n").expect("write payload");
    let id = server
        .cli(&[
            "add",
            "--name",
            "cli.full",
            "--data-file",
            file.to_str().expect("path"),
            "--every",
            "1m",
            "--ack",
            "--max-runtime",
            "2m",
            "--misfire",
            "skip",
            "--until",
            "2h",
        ])
        .ok()
        .trim()
        .to_string();
    let t = server.cli(&["get", &id, "--json"]).json();
    assert_eq!(
        (t["ack"].as_bool(), t["max_runtime"].as_i64()),
        (Some(true), Some(120))
    );
    assert_eq!(
        (t["misfire"].as_str(), t["data"].as_str()),
        (Some("skip"), Some("{\"big\": true}\n"))
    );
    assert!(t["end_time"].as_i64().expect("end") > now_ms() / 1000 + 7000);
}

#[test]
fn preview_shows_fire_times() {
    let server = Server::start(&[]);
    let resp = server
        .cli(&[
            "preview", "--every", "10s", "-n", "3", "--from", "1000", "--json",
        ])
        .json();
    let times: Vec<i64> = resp["fire_times"]
        .as_array()
        .expect("times")
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    assert_eq!(times.len(), 3);
    assert!(times.windows(2).all(|w| w[1] - w[0] == 10_000), "{times:?}");
    let text = server
        .cli(&[
            "preview",
            "--cron",
            "0 3 * * *",
            "--tz",
            "Europe/Berlin",
            "-n",
            "2",
            "--from",
            "2030-01-01T00:00:00Z",
        ])
        .ok()
        .to_string();
    assert_eq!(
        text,
        "2030-01-01 03:00:00 +01:00\n2030-01-02 03:00:00 +01:00\n"
    );
    let nothing = server.cli(&[
        "preview",
        "--every",
        "10s",
        "--count",
        "2",
        "--from",
        "2100-01-01T00:00:00Z",
    ]);
    assert_eq!(nothing.ok(), "This schedule never fires again.\n");
}

#[test]
fn add_says_when_it_returned_an_existing_task() {
    let server = Server::start(&[]);
    let args = ["add", "--name", "cli.dup", "--data", "same", "--in", "1h"];
    let first = server.cli(&args);
    assert!(is_hex24(first.ok().trim()), "{first:?}");
    assert!(!first.stderr.contains("exists"), "{first:?}");
    let again = server.cli(&args);
    assert_eq!(
        again.ok().trim(),
        first.stdout.trim(),
        "the same id on stdout"
    );
    assert!(
        again.stderr.contains("returned its id, added nothing"),
        "{again:?}"
    );
    let mut json_args = args.to_vec();
    json_args.push("--json");
    assert_eq!(server.cli(&json_args).json()["deduplicated"], true);
}
