//! The client library's typed API calls against the real server binary: every call, and
//! errors that carry the server's `err` and `msg`.

mod common;

use std::time::Duration;

use common::{Server, now_ms};
use taskcenter_client::types::{BatchItemResult, PreviewRequest};
use taskcenter_client::{ApiClient, ClientError, ListQuery, Page, TaskBuilder, TaskSpec};

fn api(server: &Server) -> ApiClient {
    ApiClient::new(&server.base_url()).expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_task_call() {
    let server = Server::start(&[]);
    let api = api(&server);
    let start = now_ms() / 1000 + 3600;

    // add, with every field
    let spec = TaskBuilder::every("report.daily", "payload-1", 30)
        .start_time(start)
        .end_time(start + 86_400)
        .loop_count(5)
        .ack(true)
        .max_runtime(20)
        .timezone("Europe/Berlin")
        .misfire("skip")
        .build();
    let added = api.add(&spec).await.expect("add");
    assert_eq!(added.name, "report.daily");
    assert_eq!(added.taskid.len(), 24);
    let t = api.get(&added.taskid).await.expect("get");
    assert_eq!((t.kind, t.loop_time, t.loop_count), (2, 30, 5));
    assert_eq!((t.start_time, t.end_time), (start, start + 86_400));
    assert_eq!((t.ack, t.max_runtime), (true, 20));
    assert_eq!(
        (t.timezone.as_str(), t.misfire.as_str()),
        ("Europe/Berlin", "skip")
    );
    assert_eq!(t.next_fire_time, Some(start * 1000));
    assert_eq!(t.status, "scheduled");

    // batch add: each item succeeds or fails alone
    let batch = vec![
        TaskBuilder::cron("report.cron", "c", "0 3 * * *").build(),
        TaskBuilder::once("bad name", "x").build(),
        TaskBuilder::once("report.daily", "payload-2")
            .after(Duration::from_secs(600))
            .build(),
    ];
    let results = api.add_batch(&batch).await.expect("batch");
    assert_eq!(results.len(), 3);
    let BatchItemResult::Ok(cron) = &results[0] else {
        panic!("{results:?}")
    };
    assert!(
        matches!(&results[1], BatchItemResult::Err(e) if e.err == 40000 && e.msg.contains("name"))
    );
    let BatchItemResult::Ok(second) = &results[2] else {
        panic!("{results:?}")
    };

    // query by name, list with filters and paging
    let by_name = api
        .query_by_name("report.daily", Page::default())
        .await
        .expect("by name");
    let ids: Vec<&str> = by_name.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        [second.taskid.as_str(), added.taskid.as_str()],
        "newest first"
    );
    let one = api
        .query_by_name("report.daily", Page::first(1))
        .await
        .expect("page");
    assert_eq!(one.len(), 1);
    let all = api.list(&ListQuery::default()).await.expect("list");
    assert_eq!(all.tasks.len(), 3);
    let page = api
        .list(&ListQuery {
            page: Page {
                limit: Some(2),
                offset: None,
            },
            ..Default::default()
        })
        .await
        .expect("list page");
    assert_eq!((page.tasks.len(), page.next_offset), (2, Some(2)));

    // pause, list by status, resume, update, trigger, history, preview, stat
    let paused = api.pause(&added.taskid).await.expect("pause");
    assert_eq!(
        (paused.status.as_str(), paused.next_fire_time),
        ("paused", None)
    );
    let q = ListQuery {
        status: Some("paused".into()),
        ..Default::default()
    };
    let listed = api.list(&q).await.expect("list paused");
    assert_eq!(
        listed.tasks.iter().map(|t| &t.id).collect::<Vec<_>>(),
        [&added.taskid]
    );
    let upcoming = ListQuery {
        next_fire_first: true,
        ..Default::default()
    };
    let upcoming = api.list(&upcoming).await.expect("list by next fire");
    assert!(
        upcoming
            .tasks
            .iter()
            .all(|t| t.id != added.taskid && t.status == "scheduled"),
        "a paused task has no next fire: {:?}",
        upcoming.tasks
    );
    assert!(
        upcoming
            .tasks
            .windows(2)
            .all(|w| w[0].next_fire_time <= w[1].next_fire_time),
        "soonest first"
    );
    assert_eq!(
        api.resume(&added.taskid).await.expect("resume").status,
        "scheduled"
    );
    let patch = TaskSpec {
        data: Some("payload-1b".into()),
        loop_time: Some(60),
        ..Default::default()
    };
    let updated = api.update(&added.taskid, &patch).await.expect("update");
    assert_eq!(
        (updated.data.as_str(), updated.loop_time),
        ("payload-1b", 60)
    );
    let fired = api.trigger(&cron.taskid).await.expect("trigger");
    assert_eq!(fired.taskid, cron.taskid);
    assert!(fired.fire_id.starts_with(&cron.taskid), "{fired:?}");
    let history = api.history(&cron.taskid, Some(10)).await.expect("history");
    assert_eq!(history.fires.len(), 1);
    assert_eq!(history.fires[0].fire_id, fired.fire_id);
    let preview = PreviewRequest {
        spec: TaskBuilder::every("p", "", 10).build(),
        count: Some(3),
        from: Some(1_000_000),
    };
    let times = api.preview(&preview).await.expect("preview").fire_times;
    assert_eq!(times.len(), 3);
    assert!(times.windows(2).all(|w| w[1] - w[0] == 10_000), "{times:?}");
    let stat = api.stat().await.expect("stat");
    assert!(
        stat.total >= 1 && stat.names.contains_key("report.cron"),
        "{stat:?}"
    );

    // delete by ids, by name; a deleted task is gone
    let deleted = api
        .delete(&[added.taskid.as_str(), "ffffffffffffffffffffffff"])
        .await
        .expect("delete");
    assert_eq!(deleted, [added.taskid.as_str()]);
    assert!(
        api.get(&added.taskid)
            .await
            .expect_err("deleted")
            .is_not_found()
    );
    let deleted = api
        .delete_by_name("report.daily")
        .await
        .expect("delete by name");
    assert_eq!(deleted, [second.taskid.as_str()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_err_and_msg() {
    let server = Server::start(&[]);
    let api = api(&server);
    let e = api
        .add(&TaskBuilder::once("has space", "x").build())
        .await
        .expect_err("bad name");
    assert!(
        matches!(&e, ClientError::Api { status: 400, err: 40000, msg } if msg.contains("name")),
        "{e}"
    );
    assert_eq!(e.code(), Some(40000));
    assert!(!e.is_retryable());
    let e = api
        .get("0123456789abcdef01234567")
        .await
        .expect_err("unknown");
    assert!(
        matches!(&e, ClientError::Api { status: 404, err: 40400, msg } if msg.contains("not found")),
        "{e}"
    );
    let e = api.get("nope").await.expect_err("malformed");
    assert_eq!(e.status(), Some(400));
    let e = api
        .add(&TaskBuilder::every("x", "", 0).build())
        .await
        .expect_err("loop_time 0");
    assert!(e.to_string().contains("loop_time"), "{e}");
    let e = api.delete(&[] as &[&str]).await.expect_err("empty ids");
    assert_eq!(e.code(), Some(40000));

    // nothing listens there: a transport error, worth retrying
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let down = ApiClient::new(&format!("http://127.0.0.1:{port}")).expect("client");
    let e = down.stat().await.expect_err("down");
    assert!(
        matches!(e, ClientError::Transport(_)) && e.is_retryable(),
        "{e}"
    );
    assert!(e.to_string().contains("cannot reach the server"), "{e}");
}
