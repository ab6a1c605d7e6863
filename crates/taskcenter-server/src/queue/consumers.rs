//! The consumers seen polling, and the messages each holds, for operators. In memory
//! only: a consumer is known from its consume calls, and forgotten a while after its
//! last one.

use std::collections::HashMap;
use std::sync::Mutex;

use taskcenter_api::ConsumerObject;
use taskcenter_store::Delivery;

/// How long a consumer stays listed after its last consume call.
pub const SEEN_FOR_MS: i64 = 5 * 60_000;

/// `(group, client)`.
type Key = (String, String);

#[derive(Debug)]
struct Held {
    consumer: Key,
    attempt: i64,
    lease_until: i64,
}

#[derive(Debug, Default)]
struct Inner {
    /// Last consume call per consumer.
    seen: HashMap<Key, i64>,
    /// Leased messages by msgid, with the consumer holding each.
    held: HashMap<String, Held>,
}

/// Consumers and their leases.
#[derive(Debug, Default)]
pub struct Consumers {
    inner: Mutex<Inner>,
}

impl Inner {
    /// Forgets leases that ran out and consumers quiet for too long.
    fn prune(&mut self, now_ms: i64) {
        self.held.retain(|_, h| h.lease_until > now_ms);
        self.seen.retain(|_, last| *last > now_ms - SEEN_FOR_MS);
    }
}

impl Consumers {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `client` of `group` polled at `now_ms` and was handed `messages`.
    pub fn polled(&self, group: &str, client: &str, messages: &[Delivery], now_ms: i64) {
        let key = (group.to_string(), client.to_string());
        let mut inner = self.lock();
        if inner.held.len() > 100_000 || inner.seen.len() > 10_000 {
            inner.prune(now_ms);
        }
        for m in messages {
            inner.held.insert(
                m.msgid.clone(),
                Held {
                    consumer: key.clone(),
                    attempt: m.attempt,
                    lease_until: m.lease_until,
                },
            );
        }
        inner.seen.insert(key, now_ms);
    }

    /// The messages were acked or given back; answers the attempt each was leased with,
    /// when known here.
    pub fn released<'a>(
        &self,
        msgids: impl IntoIterator<Item = &'a String>,
    ) -> Vec<(String, Option<i64>)> {
        let mut inner = self.lock();
        msgids
            .into_iter()
            .map(|id| (id.clone(), inner.held.remove(id).map(|h| h.attempt)))
            .collect()
    }

    /// The consumers that polled within [`SEEN_FOR_MS`], most recent first, each with the
    /// messages it holds under a live lease.
    pub fn snapshot(&self, now_ms: i64) -> Vec<ConsumerObject> {
        let mut inner = self.lock();
        inner.prune(now_ms);
        let mut in_flight: HashMap<&Key, i64> = HashMap::new();
        for h in inner.held.values() {
            *in_flight.entry(&h.consumer).or_default() += 1;
        }
        let mut list: Vec<ConsumerObject> = inner
            .seen
            .iter()
            .map(|(key, last)| ConsumerObject {
                group: key.0.clone(),
                client: key.1.clone(),
                last_poll: *last,
                in_flight: in_flight.get(key).copied().unwrap_or(0),
            })
            .collect();
        list.sort_by(|a, b| {
            b.last_poll
                .cmp(&a.last_poll)
                .then_with(|| (&a.group, &a.client).cmp(&(&b.group, &b.client)))
        });
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskcenter_core::TaskId;

    fn delivery(msgid: &str, attempt: i64, lease_until: i64) -> Delivery {
        Delivery {
            msgid: msgid.into(),
            taskid: TaskId::from_bytes([0; 12]),
            tag: "t".into(),
            data: String::new(),
            fire_time: 0,
            fire_id: String::new(),
            attempt,
            lease_until,
        }
    }

    #[test]
    fn in_flight_counts_live_leases_until_released_or_expired() {
        let c = Consumers::default();
        c.polled("g", "a", &[delivery("1", 1, 100), delivery("2", 2, 50)], 10);
        c.polled("g", "b", &[], 20);
        let list = c.snapshot(30);
        assert_eq!(list.len(), 2);
        assert_eq!((list[0].client.as_str(), list[0].in_flight), ("b", 0));
        assert_eq!((list[1].client.as_str(), list[1].in_flight), ("a", 2));
        assert_eq!(list[1].last_poll, 10);
        // The lease of "2" ran out at 50; "1" is acked.
        let released = c.released(&["1".to_string(), "9".to_string()]);
        assert_eq!(released, vec![("1".into(), Some(1)), ("9".into(), None)]);
        assert_eq!(c.snapshot(60)[1].in_flight, 0);
    }

    #[test]
    fn quiet_consumers_are_forgotten() {
        let c = Consumers::default();
        c.polled("g", "a", &[], 0);
        assert_eq!(c.snapshot(SEEN_FOR_MS - 1).len(), 1);
        assert!(c.snapshot(SEEN_FOR_MS).is_empty());
    }
}
