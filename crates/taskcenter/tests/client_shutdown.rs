//! The consumer's graceful shutdown and its ride through a server restart, against the
//! real server binary: nothing lost, nothing handled twice.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Server;
use common::client::{consumer_config as config, eventually, logs, states};
use taskcenter_client::types::ConsumeRequest;
use taskcenter_client::{ApiClient, Client, TaskBuilder};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_mid_handling_loses_nothing() {
    logs();
    let server = Server::start(&[]);
    let api = ApiClient::new(&server.base_url()).expect("api");
    let seen: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let finished: Arc<Mutex<Vec<String>>> = Arc::default();
    let slow = |client: &Client, pause: Duration| {
        let (seen, finished) = (seen.clone(), finished.clone());
        client
            .register_message("slow", move |m| {
                let (seen, finished) = (seen.clone(), finished.clone());
                async move {
                    seen.lock()
                        .expect("seen")
                        .push((m.taskid.clone(), m.attempt));
                    tokio::time::sleep(pause).await;
                    finished.lock().expect("finished").push(m.taskid);
                    Ok::<(), String>(())
                }
            })
            .expect("register");
    };

    // Four slots for six messages; release while four handlers run: they finish and ack.
    let first = Client::new(config(&server, "g").with_concurrency(4)).expect("client");
    slow(&first, Duration::from_millis(1500));
    first.start().expect("start");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            api.add(&TaskBuilder::once("slow", &format!("m{i}")).build())
                .await
                .expect("add")
                .taskid,
        );
    }
    assert!(
        eventually(Duration::from_secs(5), || seen.lock().expect("seen").len()
            == 4)
        .await
    );
    let t0 = Instant::now();
    first.release().await;
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "release waited {:?}",
        t0.elapsed()
    );
    assert_eq!(
        finished.lock().expect("finished").len(),
        4,
        "in-flight handlers finished"
    );
    assert_eq!(
        seen.lock().expect("seen").len(),
        4,
        "nothing pulled after release"
    );

    // A handler that outlives the deadline is stopped and its message given back at once.
    let second = Client::new(
        config(&server, "g")
            .with_concurrency(4)
            .with_shutdown_timeout(Duration::from_millis(300)),
    )
    .expect("client");
    slow(&second, Duration::from_secs(30));
    second.start().expect("start");
    assert!(
        eventually(Duration::from_secs(5), || seen.lock().expect("seen").len()
            == 6)
        .await
    );
    second.release().await;
    assert_eq!(finished.lock().expect("finished").len(), 4);

    // A third consumer gets exactly those two again, with their next attempt.
    let third = Client::new(config(&server, "g")).expect("client");
    slow(&third, Duration::from_millis(10));
    third.start().expect("start");
    let done = eventually(Duration::from_secs(5), || {
        finished.lock().expect("finished").len() == 6
    })
    .await;
    third.release().await;
    assert!(done, "seen {:?}", seen.lock().expect("seen"));
    let mut handled: Vec<String> = finished.lock().expect("finished").clone();
    handled.sort();
    ids.sort();
    assert_eq!(
        handled, ids,
        "every message handled to the end exactly once"
    );
    let retried = seen
        .lock()
        .expect("seen")
        .iter()
        .filter(|(_, a)| *a == 2)
        .count();
    assert_eq!(retried, 2);
    for id in &ids {
        assert_eq!(states(&api, id).await, ["acked"], "{id}");
    }
    // Nothing is left in the queue.
    let req = ConsumeRequest {
        group: Some("g".into()),
        tags: Some("slow".into()),
        max: Some(10),
        wait_ms: Some(0),
    };
    assert!(
        api.consume(&req)
            .await
            .expect("consume")
            .messages
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_rides_through_a_server_restart() {
    logs();
    let mut server = Server::start(&[]);
    let api = ApiClient::new(&server.base_url()).expect("api");
    let runs: Arc<Mutex<Vec<String>>> = Arc::default();
    let client = Client::new(config(&server, "g")).expect("client");
    let log = runs.clone();
    client
        .register(
            "restart.slow || restart.after || restart.delayed",
            move |_taskid, data, _msgid| {
                let log = log.clone();
                async move {
                    log.lock().expect("runs").push(format!("start {data}"));
                    if data == "slow" {
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                    log.lock().expect("runs").push(format!("done {data}"));
                    Ok::<(), String>(())
                }
            },
        )
        .expect("register");
    client.start().expect("start");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let slow = api
        .add(
            &TaskBuilder::once("restart.slow", "slow")
                .ack(true)
                .max_runtime(30)
                .build(),
        )
        .await
        .expect("add slow");
    let delayed = api
        .add(
            &TaskBuilder::once("restart.delayed", "delayed")
                .after(Duration::from_secs(2))
                .build(),
        )
        .await
        .expect("add delayed");
    let started = eventually(Duration::from_secs(5), || {
        runs.lock().expect("runs").iter().any(|r| r == "start slow")
    })
    .await;
    assert!(started);

    // The server dies while the handler of the ack task runs, so its ack cannot be sent
    // until the server is back; the delayed task falls due meanwhile.
    server.kill9();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(runs.lock().expect("runs").iter().any(|r| r == "done slow"));
    server.restart_on_same_port();
    let after = api
        .add(&TaskBuilder::once("restart.after", "after").build())
        .await
        .expect("add after");

    let all_done = eventually(Duration::from_secs(15), || {
        let runs = runs.lock().expect("runs");
        ["done slow", "done delayed", "done after"]
            .iter()
            .all(|d| runs.iter().any(|r| r == d))
    })
    .await;
    assert!(all_done, "runs: {:?}", runs.lock().expect("runs"));
    for id in [&slow.taskid, &delayed.taskid, &after.taskid] {
        let mut s = Vec::new();
        for _ in 0..50 {
            s = states(&api, id).await;
            if s == ["acked"] {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(s, ["acked"], "{id}");
    }
    client.release().await;
    let runs = runs.lock().expect("runs").clone();
    for data in ["slow", "delayed", "after"] {
        let n = runs
            .iter()
            .filter(|r| **r == format!("start {data}"))
            .count();
        assert_eq!(n, 1, "{data} handled once: {runs:?}");
    }
}
