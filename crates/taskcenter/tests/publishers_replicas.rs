//! Three replicas on one PostgreSQL database publishing to NATS JetStream: one is killed
//! with `kill -9` mid-burst, and every fire is still published (its leased outbox messages
//! run out and another replica publishes them), as an async-nats subscriber sees.

mod common;
mod publish_support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::pg::TestDb;
use common::replicas::*;
use common::*;
use publish_support::{Broker, nats::Nats, next};
use tokio::runtime::Runtime;

const TASKS: usize = 1000;
const SPREAD_S: i64 = 10;

#[test]
fn three_replicas_publish_every_fire_while_one_is_killed() {
    let rt = Runtime::new().expect("runtime");
    let topic = publish_support::topic("replicas");
    let (nats, rx) = Nats::start(&rt, &topic);
    let url = nats.publisher_url();
    let extra = ["--publisher", &url, "--topic", &topic];
    let mut cluster = Cluster::start_with(3, TestDb::new("publish_kill9"), &extra);
    let first_s = now_s() + 3;
    cluster.add_spread(TASKS, first_s, SPREAD_S);

    sleep_until_ms((first_s + SPREAD_S / 2) * 1000);
    cluster.servers[1].kill9();

    // Each task fires once; a message whose confirmation died with the replica may be
    // published again, always with the same fire id.
    let mut fires: BTreeMap<String, String> = BTreeMap::new();
    let until = Instant::now() + Duration::from_secs(90);
    while fires.len() < TASKS && Instant::now() < until {
        let Some(m) = next(&rx, Duration::from_millis(500)) else {
            continue;
        };
        let fire_id = m.prop("fire_id");
        let before = fires.insert(m.prop("taskid"), fire_id.clone());
        assert!(
            before.is_none_or(|f| f == fire_id),
            "one fire per task: {m:?}"
        );
    }
    assert_eq!(fires.len(), TASKS, "every fire published, none lost");
    cluster.assert_fired_once_each(TASKS as i64);
}
