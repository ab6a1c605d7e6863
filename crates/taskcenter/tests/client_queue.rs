//! The client library's queue calls against the real server binary: consume, ack, nack,
//! and dead letters listed, requeued and purged.

mod common;

use common::Server;
use taskcenter_client::types::ConsumeRequest;
use taskcenter_client::{ApiClient, Page, TaskBuilder};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_and_dead_letter_calls() {
    let server = Server::start(&["--retry-delays", "1s"]);
    let api = ApiClient::new(&server.base_url()).expect("client");
    let req = ConsumeRequest {
        group: Some("g".into()),
        tags: Some("dl.a || dl.b".into()),
        max: Some(10),
        wait_ms: Some(5_000),
    };
    api.consume(&ConsumeRequest {
        wait_ms: Some(0),
        ..req.clone()
    })
    .await
    .expect("subscribe");
    let a = api
        .add(&TaskBuilder::once("dl.a", "A").build())
        .await
        .expect("add a");
    let b = api
        .add(&TaskBuilder::once("dl.b", "B").build())
        .await
        .expect("add b");

    // two deliveries each (ladder of one delay), nacked at once: both dead
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let got = api.consume(&req).await.expect("consume").messages;
        assert!(!got.is_empty(), "messages stopped after {seen:?}");
        let ids: Vec<String> = got.iter().map(|m| m.msgid.clone()).collect();
        let nacked = api.nack("g", ids.clone(), Some(0)).await.expect("nack");
        assert_eq!(nacked.msgids, ids);
        seen.extend(got.into_iter().map(|m| (m.taskid, m.attempt)));
    }
    seen.sort();
    let mut want = vec![
        (a.taskid.clone(), 1),
        (a.taskid.clone(), 2),
        (b.taskid.clone(), 1),
        (b.taskid.clone(), 2),
    ];
    want.sort();
    assert_eq!(seen, want);
    let dead = api
        .dead_letters(Some("g"), Page::default())
        .await
        .expect("dead")
        .dead_letters;
    assert_eq!(dead.len(), 2);
    assert!(
        dead.iter().all(|d| d.attempts == 2 && d.group == "g"),
        "{dead:?}"
    );
    let none = api
        .dead_letters(Some("other"), Page::default())
        .await
        .expect("dead other");
    assert!(none.dead_letters.is_empty());

    // requeue one: delivered again, and an ack settles it
    let a_dead = dead
        .iter()
        .find(|d| d.taskid == a.taskid)
        .expect("a is dead");
    assert_eq!(
        api.requeue_dead_letters(vec![a_dead.msgid.clone()])
            .await
            .expect("requeue"),
        1
    );
    let got = api.consume(&req).await.expect("consume requeued").messages;
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].taskid.as_str(), got[0].data.as_str()),
        (a.taskid.as_str(), "A")
    );
    let acked = api.ack("g", vec![got[0].msgid.clone()]).await.expect("ack");
    assert_eq!(acked.msgids, [got[0].msgid.clone()]);
    let again = api
        .ack("g", vec![got[0].msgid.clone()])
        .await
        .expect("ack twice");
    assert_eq!(
        again.msgids,
        [got[0].msgid.clone()],
        "acking an acked message is success"
    );

    // purge the one left, then purging all finds nothing
    let b_dead = dead
        .iter()
        .find(|d| d.taskid == b.taskid)
        .expect("b is dead");
    assert_eq!(
        api.purge_dead_letters(Some(vec![b_dead.msgid.clone()]))
            .await
            .expect("purge"),
        1
    );
    assert_eq!(api.purge_dead_letters(None).await.expect("purge all"), 0);
}
