//! The consumer against the real server binary: handlers by tag expression get exactly
//! their messages; a failing handler is retried with rising attempts into the dead letters.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Server;
use common::client::{consumer_config as config, eventually, logs, states};
use taskcenter_client::{Client, ClientError, Config, Message, Page, TaskBuilder};

/// Messages a handler saw: (handler label, message).
type Seen = Arc<Mutex<Vec<(String, Message)>>>;

fn record(client: &Client, label: &str, tags: &str, seen: &Seen) {
    let (label, seen) = (label.to_string(), seen.clone());
    client
        .register_message(tags, move |m| {
            let (label, seen) = (label.clone(), seen.clone());
            async move {
                seen.lock().expect("seen").push((label, m));
                Ok::<(), String>(())
            }
        })
        .expect("register");
}

fn tags_by_label(seen: &Seen) -> BTreeMap<String, Vec<String>> {
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (label, m) in seen.lock().expect("seen").iter() {
        by.entry(label.clone()).or_default().push(m.tag.clone());
    }
    by.values_mut().for_each(|v| v.sort());
    by
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_handlers_get_exactly_their_tags() {
    logs();
    let server = Server::start(&[]);
    let seen: Seen = Arc::default();
    let client = Client::new(config(&server, "work").with_client_id("billing-7")).expect("client");
    record(&client, "alpha", "t.alpha", &seen);
    record(&client, "beta-gamma", "t.beta || t.gamma", &seen);
    record(&client, "delta", " t.delta ", &seen);
    client.start().expect("start");
    let audit = Client::new(config(&server, "audit")).expect("audit client");
    record(&audit, "all", "*", &seen);
    audit.start().expect("start audit");
    // Both groups subscribe with their first long-poll; give them a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let api = client.api().clone();
    let mut ids = BTreeMap::new();
    for tag in ["t.alpha", "t.beta", "t.gamma", "t.delta", "t.other"] {
        let added = api
            .add(&TaskBuilder::once(tag, tag).build())
            .await
            .expect("add");
        ids.insert(tag, added.taskid);
    }
    let done = eventually(Duration::from_secs(10), || {
        seen.lock().expect("seen").len() >= 9
    })
    .await;
    assert!(done, "got {:?}", tags_by_label(&seen));
    tokio::time::sleep(Duration::from_millis(500)).await; // anything extra would show now
    client.release().await;
    audit.release().await;

    let by = tags_by_label(&seen);
    let want: BTreeMap<String, Vec<String>> = [
        ("alpha", vec!["t.alpha"]),
        ("beta-gamma", vec!["t.beta", "t.gamma"]),
        ("delta", vec!["t.delta"]),
        (
            "all",
            vec!["t.alpha", "t.beta", "t.delta", "t.gamma", "t.other"],
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(by, want);
    for (label, m) in seen.lock().expect("seen").iter() {
        assert_eq!(m.data, m.tag, "{label} got the payload unchanged");
        assert_eq!(ids[m.tag.as_str()], m.taskid);
    }
    // The server's queues view names each consumer as it named itself.
    let addr = server.addr.clone();
    let queues = tokio::task::spawn_blocking(move || common::Api::new(&addr).get("/v1/api/queues"))
        .await
        .expect("queues");
    assert_eq!(queues.0, 200, "{}", queues.1);
    let clients: BTreeMap<String, String> = queues.1["consumers"]
        .as_array()
        .expect("consumers")
        .iter()
        .map(|c| {
            (
                c["group"].as_str().unwrap_or("").to_string(),
                c["client"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(clients.get("work").map(String::as_str), Some("billing-7"));
    let own = format!("-{}", std::process::id());
    assert!(
        clients.get("audit").is_some_and(|c| c.ends_with(&own)),
        "{clients:?}"
    );
    // Every delivery was acked (the work group never subscribed to t.other).
    for tag in ["t.alpha", "t.beta", "t.gamma", "t.delta", "t.other"] {
        let s = states(&api, &ids[tag]).await;
        assert!(s.iter().all(|s| s == "acked"), "{tag}: {s:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_handler_is_retried_until_dead() {
    logs();
    let server = Server::start(&["--retry-delays", "1s,1s"]);
    let attempts: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::default();
    let client = Client::new(config(&server, "retry")).expect("client");
    let log = attempts.clone();
    client
        .register_message("flaky", move |m| {
            let log = log.clone();
            async move {
                log.lock().expect("log").push((m.attempt, Instant::now()));
                Err(format!("attempt {} failed", m.attempt))
            }
        })
        .expect("register");
    client.start().expect("start");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let api = client.api().clone();
    let added = api
        .add(&TaskBuilder::once("flaky", "boom").build())
        .await
        .expect("add");

    let dead = eventually(Duration::from_secs(15), || {
        attempts.lock().expect("log").len() >= 3
    })
    .await;
    assert!(dead, "attempts: {:?}", attempts.lock().expect("log"));
    let mut letters = Vec::new();
    for _ in 0..50 {
        letters = api
            .dead_letters(Some("retry"), Page::default())
            .await
            .expect("dlq")
            .dead_letters;
        if !letters.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // no fourth attempt comes
    client.release().await;

    let log = attempts.lock().expect("log").clone();
    let numbers: Vec<i64> = log.iter().map(|(a, _)| *a).collect();
    assert_eq!(numbers, [1, 2, 3], "rising attempts, ladder of two delays");
    for pair in log.windows(2) {
        let gap = pair[1].1 - pair[0].1;
        assert!(
            gap >= Duration::from_millis(900),
            "retry came after {gap:?}"
        );
    }
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(
        (letters[0].taskid.as_str(), letters[0].attempts),
        (added.taskid.as_str(), 3)
    );
    assert_eq!(states(&api, &added.taskid).await, ["dead"]);
}

/// The process-wide style (`init`, `add_task_handler`, `start`, `release`), and the
/// mistakes the consumer refuses. The only test of this binary that touches the
/// process-wide client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_client_and_misuse() {
    logs();
    let server = Server::start(&[]);
    assert!(matches!(
        taskcenter_client::add_task_handler("x", |_, _, _| async { Ok::<(), String>(()) }),
        Err(ClientError::NotInitialized)
    ));
    assert!(matches!(
        taskcenter_client::start(),
        Err(ClientError::NotInitialized)
    ));
    taskcenter_client::init(config(&server, "global")).expect("init");
    assert!(matches!(
        taskcenter_client::init(config(&server, "global")),
        Err(ClientError::AlreadyInitialized)
    ));
    let got: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let log = got.clone();
    taskcenter_client::add_task_handler("test1", move |taskid, data, msgid| {
        let log = log.clone();
        async move {
            log.lock().expect("got").push((taskid, data, msgid));
            Ok::<(), String>(())
        }
    })
    .expect("add handler");
    taskcenter_client::start().expect("start");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let api = taskcenter_client::global().expect("global").api().clone();
    let added = api
        .add(&TaskBuilder::once("test1", "hello").build())
        .await
        .expect("add");
    assert!(
        eventually(Duration::from_secs(5), || got.lock().expect("got").len()
            == 1)
        .await
    );
    taskcenter_client::release().await;
    let (taskid, data, msgid) = got.lock().expect("got")[0].clone();
    assert_eq!(
        (taskid.as_str(), data.as_str()),
        (added.taskid.as_str(), "hello")
    );
    assert!(!msgid.is_empty());
    assert_eq!(states(&api, &added.taskid).await, ["acked"]);
    // released: a new init is allowed
    taskcenter_client::init(config(&server, "global")).expect("init again");
    taskcenter_client::release().await;

    // the explicit client's refusals
    let c = Client::new(config(&server, "misuse")).expect("client");
    assert!(matches!(c.start(), Err(ClientError::NoHandlers)));
    for bad in ["", "a ||", "a b", "a|b"] {
        let r = c.register(bad, |_, _, _| async { Ok::<(), String>(()) });
        assert!(matches!(r, Err(ClientError::InvalidTags { .. })), "{bad:?}");
    }
    c.register("ok", |_, _, _| async { Ok::<(), String>(()) })
        .expect("register");
    c.start().expect("start");
    assert!(c.is_running());
    let again = c.register("late", |_, _, _| async { Ok::<(), String>(()) });
    assert!(matches!(again, Err(ClientError::AlreadyStarted)));
    assert!(matches!(c.start(), Err(ClientError::AlreadyStarted)));
    c.release().await;
    assert!(!c.is_running());
    assert!(matches!(
        Client::new(Config::new("localhost:1")),
        Err(ClientError::BadUrl(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_handler_nacks_and_the_retry_succeeds() {
    logs();
    let server = Server::start(&["--retry-delays", "1s"]);
    let client = Client::new(config(&server, "panics")).expect("client");
    let attempts: Arc<Mutex<Vec<i64>>> = Arc::default();
    let log = attempts.clone();
    client
        .register_message("fragile", move |m| {
            log.lock().expect("log").push(m.attempt);
            // Panics while making the future, the worst place for it.
            assert!(m.attempt > 1, "first attempt panics");
            async { Ok::<(), String>(()) }
        })
        .expect("register");
    client.start().expect("start");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let api = client.api().clone();
    let added = api
        .add(&TaskBuilder::once("fragile", "x").build())
        .await
        .expect("add");
    let acked = eventually(Duration::from_secs(8), || {
        attempts.lock().expect("log").len() == 2
    })
    .await;
    assert!(acked, "attempts: {:?}", attempts.lock().expect("log"));
    client.release().await;
    assert_eq!(*attempts.lock().expect("log"), [1, 2]);
    assert_eq!(states(&api, &added.taskid).await, ["acked"]);
}
