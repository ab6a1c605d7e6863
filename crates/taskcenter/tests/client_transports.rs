//! The consumer of `taskcenter-client` over every transport, against the real `taskcenter
//! serve`: its built-in queue, and `--publisher …` to the machine's NATS (JetStream), Redis
//! and RabbitMQ (scripts/test.sh starts them) and, in a build with the `rocketmq` feature,
//! RocketMQ (scripts/rocketmq.sh). One suite (`consumer_suite!`) runs for each, the same
//! handler code every time with only the configuration changed; a test of what only a
//! broker transport does (`broker_suite!`) runs for the brokers. Dead letters are read back
//! with each broker's own client library, the built-in queue's from the server's API. The
//! consumer reaches its broker (or the server) through a TCP proxy the test cuts to play a
//! broker restart (RocketMQ's broker is stopped and started).

mod common;
mod publish_support;
mod transport_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::Server;
use common::client::logs;
use publish_support::proxy::Proxy;
use serde_json::json;
use taskcenter_client::{Client, Config, Message, RecentFires};
use tokio::runtime::Runtime;
#[cfg(feature = "rocketmq")]
use transport_support::RocketMq;
use transport_support::{Amqp, Builtin, Nats, Redis, Terms, Transport, proxy};

/// One handler call: which handler, the message, when.
#[derive(Debug, Clone)]
struct Call {
    label: String,
    message: Message,
    at: Instant,
}

type Calls = Arc<Mutex<Vec<Call>>>;

/// A broker, a server publishing to it on a topic of the test's own, and a proxy the
/// consumers reach the broker through; every consumer of the test retries and leases by the
/// same terms (the built-in queue's are the server's).
struct Rig<T: Transport> {
    rt: Runtime,
    topic: String,
    terms: Terms,
    server: Server,
    proxy: Proxy,
    _t: std::marker::PhantomData<T>,
    _turn: Option<MutexGuard<'static, ()>>,
}

impl<T: Transport> Rig<T> {
    /// Consumers that retry after each delay of `ladder_ms`, with the default lease.
    fn start(test: &str, ladder_ms: &[u64]) -> Self {
        Self::start_leased(test, ladder_ms, None)
    }

    /// Consumers that retry after each delay of `ladder_ms` and lease for `lease`.
    fn start_leased(test: &str, ladder_ms: &[u64], lease: Option<Duration>) -> Self {
        logs();
        let turn = T::turn();
        let rt = Runtime::new().expect("runtime");
        let topic = publish_support::topic(test);
        let terms = Terms {
            ladder_ms: ladder_ms.to_vec(),
            lease,
        };
        let flags = T::server_flags(&topic, &terms);
        let args: Vec<&str> = flags.iter().map(String::as_str).collect();
        let server = Server::start(&args);
        let proxy = proxy::<T>(&rt, &server);
        Rig {
            rt,
            topic,
            terms,
            server,
            proxy,
            _t: std::marker::PhantomData,
            _turn: turn,
        }
    }

    /// The consumer configuration of `group`: only the transport's part differs from one
    /// transport to the next; quick reconnects, the default 10 s polls (a message that
    /// arrives during one is handled at once).
    fn config(&self, group: &str) -> Config {
        T::config(&self.server, &self.proxy, &self.topic, &self.terms)
            .with_group(group)
            .with_backoff(Duration::from_millis(50), Duration::from_millis(500))
    }

    fn dead_letters(&self, group: &str) -> Vec<transport_support::DeadLetter> {
        T::dead_letters(&self.rt, &self.server, &self.topic, group)
    }

    /// A started client of `config` whose handlers are `(label, tags, behaviour)`.
    fn client(
        &self,
        config: Config,
        handlers: &[(&str, &str, Behaviour)],
        calls: &Calls,
    ) -> Client {
        self.client_on(&self.rt, config, handlers, calls)
    }

    /// Like [`client`](Self::client), running on `rt`.
    fn client_on(
        &self,
        rt: &Runtime,
        config: Config,
        handlers: &[(&str, &str, Behaviour)],
        calls: &Calls,
    ) -> Client {
        let client = Client::new(config).expect("client");
        for (label, tags, behaviour) in handlers {
            let (label, calls, behaviour) = (label.to_string(), calls.clone(), *behaviour);
            client
                .register_message(tags, move |m| {
                    let (label, calls) = (label.clone(), calls.clone());
                    async move { behaviour.run(label, m, calls).await }
                })
                .expect("register");
        }
        let _in_runtime = rt.enter();
        client.start().expect("start");
        client
    }

    fn release(&self, client: &Client) {
        self.rt.block_on(client.release());
    }

    fn add(&self, tag: &str, data: &str) -> String {
        self.server
            .add_task(json!({"name": tag, "type": 1, "data": data}))
    }
}

/// What a test handler does with a message.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// Records it and succeeds.
    Succeed,
    /// Records it and fails.
    Fail,
    /// Records it; panics on attempt 1, succeeds after.
    PanicFirst,
    /// Records it, sleeps this long, records it again as `<label>.done`, succeeds.
    Sleep(Duration),
}

impl Behaviour {
    async fn run(self, label: String, m: Message, calls: Calls) -> Result<(), String> {
        let push = |label: String, m: Message| {
            calls.lock().expect("calls").push(Call {
                label,
                message: m,
                at: Instant::now(),
            })
        };
        push(label.clone(), m.clone());
        match self {
            Behaviour::Succeed => Ok(()),
            Behaviour::Fail => Err(format!("failing on attempt {}", m.attempt)),
            Behaviour::PanicFirst if m.attempt == 1 => panic!("a handler panics"),
            Behaviour::PanicFirst => Ok(()),
            Behaviour::Sleep(d) => {
                tokio::time::sleep(d).await;
                push(format!("{label}.done"), m);
                Ok(())
            }
        }
    }
}

fn calls_of(calls: &Calls, label: &str) -> Vec<Call> {
    calls
        .lock()
        .expect("calls")
        .iter()
        .filter(|c| c.label == label)
        .cloned()
        .collect()
}

/// Polls `check` every 50 ms until it holds or `within` passes; whether it held.
fn until(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

/// Lets consumers set up their durable consumer, group or bound queue before fires come.
fn settle_in() {
    std::thread::sleep(Duration::from_millis(1500));
}

/// Handlers by tag expression get exactly their fires, with the fire's metadata; a
/// second group with `*` gets every fire; a tag no handler takes is not handled.
fn handlers_by_tag_get_exactly_their_fires<T: Transport>() {
    let rig = Rig::<T>::start("bytag", &[1000]);
    let calls = Calls::default();
    let work = rig.client(
        rig.config("work"),
        &[
            ("alpha", "t.alpha", Behaviour::Succeed),
            ("beta-gamma", "t.beta || t.gamma", Behaviour::Succeed),
        ],
        &calls,
    );
    let audit = rig.client(
        rig.config("audit"),
        &[("all", "*", Behaviour::Succeed)],
        &calls,
    );
    settle_in();
    let (started, started_ms) = (Instant::now(), common::now_ms());
    let mut ids = BTreeMap::new();
    for tag in ["t.alpha", "t.beta", "t.gamma", "t.other"] {
        ids.insert(rig.add(tag, &format!("data of {tag}")), tag);
    }
    assert!(
        until(Duration::from_secs(15), || calls
            .lock()
            .expect("calls")
            .len()
            >= 7),
        "calls: {:?}",
        calls.lock().expect("calls")
    );
    std::thread::sleep(Duration::from_millis(1000)); // anything extra would show now
    rig.release(&work);
    rig.release(&audit);
    let tags = |label: &str| -> Vec<String> {
        let mut t: Vec<String> = calls_of(&calls, label)
            .into_iter()
            .map(|c| c.message.tag)
            .collect();
        t.sort();
        t
    };
    assert_eq!(tags("alpha"), ["t.alpha"]);
    assert_eq!(tags("beta-gamma"), ["t.beta", "t.gamma"]);
    assert_eq!(tags("all"), ["t.alpha", "t.beta", "t.gamma", "t.other"]);
    for call in calls.lock().expect("calls").iter() {
        let m = &call.message;
        assert_eq!(ids.get(&m.taskid).copied(), Some(m.tag.as_str()), "{m:?}");
        assert_eq!(m.data, format!("data of {}", m.tag));
        assert_eq!(m.attempt, 1);
        assert_eq!(m.fire_id, format!("{}-{}", m.taskid, m.fire_time));
        let handled_ms = call.at.duration_since(started).as_millis() as i64 + started_ms;
        assert!(
            handled_ms - m.fire_time < 3000,
            "handled {} ms after its fire time",
            handled_ms - m.fire_time
        );
        assert!(!m.msgid.is_empty());
    }
}

/// A failing handler is retried with rising attempt after each delay of the ladder; after
/// the last one the fire is in the broker's dead-letter place.
fn error_retries_along_the_ladder_into_the_dead_letters<T: Transport>() {
    let ladder = T::LADDER_MS;
    let rig = Rig::<T>::start("ladder", &ladder);
    let calls = Calls::default();
    let client = rig.client(
        rig.config("retry"),
        &[("f", "t.fail", Behaviour::Fail)],
        &calls,
    );
    settle_in();
    let taskid = rig.add("t.fail", "never works");
    assert!(
        until(Duration::from_secs(20), || calls_of(&calls, "f").len() >= 3),
        "three deliveries: {:?}",
        calls_of(&calls, "f")
    );
    let mut dead = Vec::new();
    assert!(
        until(Duration::from_secs(10), || {
            dead = rig.dead_letters("retry");
            !dead.is_empty()
        }),
        "a dead letter"
    );
    std::thread::sleep(Duration::from_millis(3000)); // no fourth delivery
    rig.release(&client);
    let got = calls_of(&calls, "f");
    let attempts: Vec<i64> = got.iter().map(|c| c.message.attempt).collect();
    assert_eq!(attempts, [1, 2, 3], "{got:?}");
    let msgids: BTreeSet<&str> = got.iter().map(|c| c.message.msgid.as_str()).collect();
    assert_eq!(msgids.len(), 1, "one message redelivered: {msgids:?}");
    for (i, delay) in ladder.iter().enumerate() {
        let gap = got[i + 1].at - got[i].at;
        let delay = Duration::from_millis(*delay);
        assert!(
            gap >= delay - Duration::from_millis(100) && gap <= delay + Duration::from_millis(2500),
            "retry {} came after {gap:?}, the ladder says {delay:?}",
            i + 1
        );
    }
    assert_eq!(dead.len(), 1, "{dead:?}");
    let letter = &dead[0];
    assert_eq!(letter.get("taskid"), Some(&taskid), "{letter:?}");
    assert_eq!(letter.get("tag").map(String::as_str), Some("t.fail"));
    assert_eq!(letter.get("data").map(String::as_str), Some("never works"));
    assert_eq!(letter.get("fire_id"), Some(&got[0].message.fire_id));
}

/// A panicking handler fails its message, which is retried; the consumer lives on and
/// handles the next fire.
fn a_panic_is_a_failure_not_a_dead_worker<T: Transport>() {
    let rig = Rig::<T>::start("panic", &[500, 500]);
    let calls = Calls::default();
    let client = rig.client(
        rig.config("panics").with_concurrency(1),
        &[
            ("p", "t.panic", Behaviour::PanicFirst),
            ("ok", "t.after", Behaviour::Succeed),
        ],
        &calls,
    );
    settle_in();
    rig.add("t.panic", "boom");
    assert!(until(Duration::from_secs(15), || calls_of(&calls, "p")
        .len()
        >= 2));
    rig.add("t.after", "still alive");
    assert!(until(Duration::from_secs(10), || calls_of(&calls, "ok")
        .len()
        == 1));
    std::thread::sleep(Duration::from_millis(1500));
    rig.release(&client);
    let attempts: Vec<i64> = calls_of(&calls, "p")
        .iter()
        .map(|c| c.message.attempt)
        .collect();
    assert_eq!(attempts, [1, 2]);
    assert!(rig.dead_letters("panics").is_empty());
}

/// Shutdown while handlers run: a handler that finishes within the shutdown timeout
/// completes and its fire is acked; one that does not is stopped and its fire goes back to
/// the broker at once, so the next consumer of the group handles it. Nothing is lost and
/// nothing finished is handled again.
fn shutdown_mid_handler_loses_nothing<T: Transport>() {
    let rig = Rig::<T>::start("shutdown", &[1000]);
    let calls = Calls::default();
    let first = rig.client(
        rig.config("stop")
            .with_shutdown_timeout(Duration::from_secs(2)),
        &[
            (
                "quick",
                "t.quick",
                Behaviour::Sleep(Duration::from_millis(800)),
            ),
            ("slow", "t.slow", Behaviour::Sleep(Duration::from_secs(60))),
        ],
        &calls,
    );
    settle_in();
    rig.add("t.quick", "q");
    rig.add("t.slow", "s");
    assert!(until(Duration::from_secs(10), || {
        calls_of(&calls, "quick").len() == 1 && calls_of(&calls, "slow").len() == 1
    }));
    let stopping = Instant::now();
    rig.release(&first);
    let took = stopping.elapsed();
    assert_eq!(
        calls_of(&calls, "quick.done").len(),
        1,
        "the quick handler finished"
    );
    assert!(calls_of(&calls, "slow.done").is_empty());
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    let second = rig.client(
        rig.config("stop"),
        &[
            ("quick2", "t.quick", Behaviour::Succeed),
            ("slow2", "t.slow", Behaviour::Succeed),
        ],
        &calls,
    );
    assert!(
        until(Duration::from_secs(15), || calls_of(&calls, "slow2").len()
            == 1),
        "the stopped fire was handed to the next consumer"
    );
    std::thread::sleep(Duration::from_millis(1500));
    rig.release(&second);
    assert!(
        calls_of(&calls, "quick2").is_empty(),
        "a finished fire is not handled again"
    );
    assert_eq!(calls_of(&calls, "slow2")[0].message.data, "s");
}

/// An `ack` task's fire is acked to the server once handled: the server shows it acked and
/// does not publish it again after its max_runtime.
fn ack_task_is_acked_end_to_end<T: Transport>() {
    let rig = Rig::<T>::start("acktask", &[1000, 1000]);
    let calls = Calls::default();
    let client = rig.client(
        rig.config("acker"),
        &[("a", "t.ack", Behaviour::Succeed)],
        &calls,
    );
    settle_in();
    let id = rig
        .server
        .add_task(json!({"name": "t.ack", "type": 1, "data": "a", "ack": true, "max_runtime": 2}));
    let mut state = String::new();
    assert!(
        until(Duration::from_secs(15), || {
            let (_, body) = rig.server.get(&format!("/v1/api/task-history?taskid={id}"));
            state = body["fires"][0]["state"].as_str().unwrap_or("").to_string();
            state == "acked"
        }),
        "history state {state}"
    );
    std::thread::sleep(Duration::from_secs(4)); // past max_runtime: no second publish
    rig.release(&client);
    assert_eq!(
        calls_of(&calls, "a").len(),
        1,
        "{:?}",
        calls_of(&calls, "a")
    );
}

/// The broker goes away mid-run and comes back: the consumer reconnects with backoff and
/// every fire published meanwhile is handled; the dedup helper runs each fire once.
fn broker_restart_mid_run_loses_nothing<T: Transport>() {
    let rig = Rig::<T>::start_leased("restart", &[500], Some(Duration::from_secs(2)));
    let calls = Calls::default();
    let client = rig.client(
        // A message the broker sent down the connection that was cut comes back after
        // the lease.
        rig.config("survivor")
            .with_dedup(Arc::new(RecentFires::new(1000))),
        &[("r", "t.restart", Behaviour::Succeed)],
        &calls,
    );
    settle_in();
    let mut ids = BTreeSet::new();
    for i in 0..3 {
        ids.insert(rig.add("t.restart", &format!("before {i}")));
    }
    assert!(until(Duration::from_secs(10), || calls_of(&calls, "r")
        .len()
        >= 3));
    T::set_reachable(&rig.proxy, false);
    for i in 0..3 {
        ids.insert(rig.add("t.restart", &format!("during {i}")));
    }
    std::thread::sleep(Duration::from_secs(2));
    T::set_reachable(&rig.proxy, true);
    for i in 0..3 {
        ids.insert(rig.add("t.restart", &format!("after {i}")));
    }
    let handled = || -> BTreeSet<String> {
        calls_of(&calls, "r")
            .into_iter()
            .map(|c| c.message.taskid)
            .collect()
    };
    assert!(
        until(Duration::from_secs(30), || handled() == ids),
        "handled {} of {}",
        handled().len(),
        ids.len()
    );
    std::thread::sleep(Duration::from_millis(1500));
    rig.release(&client);
    assert_eq!(
        calls_of(&calls, "r").len(),
        ids.len(),
        "each fire handled once"
    );
}

/// At most `concurrency` handlers run at once, and all of them do run.
fn concurrency_is_bounded<T: Transport>() {
    let rig = Rig::<T>::start("bounded", &[1000]);
    let calls = Calls::default();
    let client = rig.client(
        rig.config("bounded").with_concurrency(2),
        &[("c", "t.busy", Behaviour::Sleep(Duration::from_millis(400)))],
        &calls,
    );
    settle_in();
    for i in 0..6 {
        rig.add("t.busy", &format!("{i}"));
    }
    assert!(until(Duration::from_secs(20), || calls_of(
        &calls, "c.done"
    )
    .len()
        == 6));
    rig.release(&client);
    // Walk the starts and ends in order: how many ran at once at most.
    let mut events: Vec<(Instant, i32)> = calls_of(&calls, "c")
        .iter()
        .map(|c| (c.at, 1))
        .chain(calls_of(&calls, "c.done").iter().map(|c| (c.at, -1)))
        .collect();
    events.sort_by_key(|(at, delta)| (*at, *delta));
    let (mut running, mut most) = (0, 0);
    for (_, delta) in events {
        running += delta;
        most = most.max(running);
    }
    assert_eq!(most, 2, "handlers running at once");
}

/// With the fire acks to the server off, the server publishes an `ack` task's fire again
/// after its max_runtime (same fire id, attempt 2); the dedup helper skips it, so the
/// handler runs once.
fn dedup_runs_a_republished_fire_once<T: Transport>() {
    let rig = Rig::<T>::start("dedup", &[1000, 1000]);
    let calls = Calls::default();
    let client = rig.client(
        rig.config("dedup")
            .with_ack_fires(false)
            .with_dedup(Arc::new(RecentFires::new(100))),
        &[("d", "t.dup", Behaviour::Succeed)],
        &calls,
    );
    settle_in();
    let id = rig.server.add_task(
        json!({"name": "t.dup", "type": 1, "data": "once", "ack": true, "max_runtime": 1}),
    );
    let mut attempts = 0;
    assert!(
        until(Duration::from_secs(15), || {
            let (_, body) = rig.server.get(&format!("/v1/api/task-history?taskid={id}"));
            attempts = body["fires"][0]["attempts"].as_i64().unwrap_or(0);
            attempts >= 2
        }),
        "the server published the fire again (attempts {attempts})"
    );
    std::thread::sleep(Duration::from_millis(1500));
    rig.release(&client);
    assert_eq!(
        calls_of(&calls, "d").len(),
        1,
        "{:?}",
        calls_of(&calls, "d")
    );
}

/// A consumer that dies mid-handler (its process gone, nothing settled): another
/// consumer of the group gets the fire once the lease ran out.
fn a_dead_consumer_s_fire_is_taken_over<T: Transport>() {
    let rig = Rig::<T>::start_leased("takeover", &[500], Some(Duration::from_secs(1)));
    let calls = Calls::default();
    let doomed_rt = Runtime::new().expect("runtime");
    let _doomed = rig.client_on(
        &doomed_rt,
        rig.config("takeover"),
        &[(
            "doomed",
            "t.work",
            Behaviour::Sleep(Duration::from_secs(600)),
        )],
        &calls,
    );
    settle_in();
    rig.add("t.work", "w");
    assert!(until(Duration::from_secs(10), || calls_of(
        &calls, "doomed"
    )
    .len()
        == 1));
    doomed_rt.shutdown_background();
    let heir = rig.client(
        rig.config("takeover"),
        &[("heir", "t.work", Behaviour::Succeed)],
        &calls,
    );
    assert!(
        until(Duration::from_secs(15), || calls_of(&calls, "heir").len()
            == 1),
        "the fire was taken over"
    );
    std::thread::sleep(Duration::from_millis(1500));
    rig.release(&heir);
    assert_eq!(calls_of(&calls, "heir").len(), 1);
    assert_eq!(calls_of(&calls, "heir")[0].message.data, "w");
}

/// A consumer that dies during the last delivery its ladder allows: the fire is not run
/// again, it goes to the dead letters.
fn a_dead_consumer_s_last_delivery_still_dead_letters<T: Transport>() {
    let rig = Rig::<T>::start_leased("lastgasp", &[], Some(Duration::from_secs(1)));
    let calls = Calls::default();
    let doomed_rt = Runtime::new().expect("runtime");
    let _doomed = rig.client_on(
        &doomed_rt,
        rig.config("lastgasp"),
        &[(
            "doomed",
            "t.last",
            Behaviour::Sleep(Duration::from_secs(600)),
        )],
        &calls,
    );
    settle_in();
    let taskid = rig.add("t.last", "l");
    assert!(until(Duration::from_secs(10), || calls_of(
        &calls, "doomed"
    )
    .len()
        == 1));
    doomed_rt.shutdown_background();
    let heir = rig.client(
        rig.config("lastgasp"),
        &[("heir", "t.last", Behaviour::Succeed)],
        &calls,
    );
    let mut dead = Vec::new();
    assert!(
        until(Duration::from_secs(15), || {
            dead = rig.dead_letters("lastgasp");
            !dead.is_empty()
        }),
        "a dead letter"
    );
    rig.release(&heir);
    assert!(calls_of(&calls, "heir").is_empty(), "not run again");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].get("taskid"), Some(&taskid));
}

/// A handler running three times its lease keeps its message: no other consumer of the
/// group gets it meanwhile.
fn a_long_handler_keeps_its_message<T: Transport>() {
    let lease = Duration::from_secs(1);
    let rig = Rig::<T>::start_leased("longrun", &[500], Some(lease));
    let calls = Calls::default();
    let clients: Vec<Client> = (0..2)
        .map(|_| {
            rig.client(
                rig.config("longrun"),
                &[("long", "t.long", Behaviour::Sleep(lease * 3))],
                &calls,
            )
        })
        .collect();
    settle_in();
    rig.add("t.long", "l");
    assert!(until(Duration::from_secs(15), || calls_of(
        &calls,
        "long.done"
    )
    .len()
        == 1));
    std::thread::sleep(Duration::from_millis(2000));
    for c in &clients {
        rig.release(c);
    }
    assert_eq!(
        calls_of(&calls, "long").len(),
        1,
        "{:?}",
        calls_of(&calls, "long")
    );
}

/// What every transport does the same way.
macro_rules! consumer_suite {
    ($($module:ident => $transport:ty),* $(,)?) => {$(
        mod $module {
            use super::*;

            #[test]
            fn handlers_by_tag_get_exactly_their_fires() {
                super::handlers_by_tag_get_exactly_their_fires::<$transport>();
            }

            #[test]
            fn error_retries_along_the_ladder_into_the_dead_letters() {
                super::error_retries_along_the_ladder_into_the_dead_letters::<$transport>();
            }

            #[test]
            fn a_panic_is_a_failure_not_a_dead_worker() {
                super::a_panic_is_a_failure_not_a_dead_worker::<$transport>();
            }

            #[test]
            fn shutdown_mid_handler_loses_nothing() {
                super::shutdown_mid_handler_loses_nothing::<$transport>();
            }

            #[test]
            fn ack_task_is_acked_end_to_end() {
                super::ack_task_is_acked_end_to_end::<$transport>();
            }

            #[test]
            fn concurrency_is_bounded() {
                super::concurrency_is_bounded::<$transport>();
            }

            #[test]
            fn a_dead_consumer_s_fire_is_taken_over() {
                super::a_dead_consumer_s_fire_is_taken_over::<$transport>();
            }

            #[test]
            fn a_dead_consumer_s_last_delivery_still_dead_letters() {
                super::a_dead_consumer_s_last_delivery_still_dead_letters::<$transport>();
            }

            #[test]
            fn broker_restart_mid_run_loses_nothing() {
                super::broker_restart_mid_run_loses_nothing::<$transport>();
            }

            #[test]
            fn a_long_handler_keeps_its_message() {
                super::a_long_handler_keeps_its_message::<$transport>();
            }
        }
    )*};
}

/// What only a broker transport does: the fire acks to the server can be turned off (the
/// built-in queue's ack is the fire's ack).
macro_rules! broker_suite {
    ($($module:ident => $transport:ty),* $(,)?) => {$(
        mod $module {
            use crate::*;

            #[test]
            fn dedup_runs_a_republished_fire_once() {
                crate::dedup_runs_a_republished_fire_once::<$transport>();
            }
        }
    )*};
}

consumer_suite!(builtin => Builtin, nats => Nats, redis => Redis, amqp => Amqp);
#[cfg(feature = "rocketmq")]
consumer_suite!(rocketmq => RocketMq);

/// The broker-only tests, under `brokers::<broker>`.
mod brokers {
    broker_suite!(nats => Nats, redis => Redis, amqp => Amqp);
    #[cfg(feature = "rocketmq")]
    broker_suite!(rocketmq => RocketMq);
}
