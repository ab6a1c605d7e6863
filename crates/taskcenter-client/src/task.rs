//! [`TaskBuilder`]: the add-task body in words, one method per field.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use taskcenter_api::TaskSpec;

/// Builds the [`TaskSpec`] of an add, update or preview call.
///
/// Start from the schedule kind, then set the optional fields:
///
/// ```
/// use std::time::Duration;
/// use taskcenter_client::TaskBuilder;
///
/// // Once, ten minutes from now.
/// let later = TaskBuilder::once("invoice.remind", "order-42").after(Duration::from_secs(600));
/// // Every 30 s, at most 5 times, acknowledged end to end.
/// let poll = TaskBuilder::every("feed.poll", "", 30).loop_count(5).ack(true).max_runtime(20);
/// // At 03:00 every day, Berlin time.
/// let nightly = TaskBuilder::cron("db.vacuum", "{}", "0 3 * * *").timezone("Europe/Berlin");
///
/// let spec = nightly.build();
/// assert_eq!(spec.kind, Some(3));
/// assert_eq!(spec.crontab.as_deref(), Some("0 3 * * *"));
/// # let _ = (later, poll);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct TaskBuilder {
    spec: TaskSpec,
}

impl TaskBuilder {
    fn new(name: &str, data: &str, kind: i64) -> Self {
        Self {
            spec: TaskSpec {
                name: Some(name.into()),
                kind: Some(kind),
                data: Some(data.into()),
                ..TaskSpec::default()
            },
        }
    }

    /// A task that fires once: now, or at [`start_time`](Self::start_time) /
    /// [`after`](Self::after) (a delayed task). `type` 1.
    pub fn once(name: &str, data: &str) -> Self {
        Self::new(name, data, 1)
    }

    /// A task that fires every `seconds`, on a fixed grid from its start. `type` 2.
    pub fn every(name: &str, data: &str, seconds: i64) -> Self {
        let mut b = Self::new(name, data, 2);
        b.spec.loop_time = Some(seconds);
        b
    }

    /// A task that fires on a crontab (5 fields, 6 with seconds first, or a macro such as
    /// `@daily` or `@every 5m`). `type` 3.
    pub fn cron(name: &str, data: &str, crontab: &str) -> Self {
        let mut b = Self::new(name, data, 3);
        b.spec.crontab = Some(crontab.into());
        b
    }

    /// No fire before this instant (unix seconds); for a once task, its delivery time.
    pub fn start_time(mut self, unix_seconds: i64) -> Self {
        self.spec.start_time = Some(unix_seconds);
        self
    }

    /// No fire before `delay` from now (rounded up to the second).
    pub fn after(self, delay: Duration) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let at = now + delay;
        let secs = at.as_secs() + u64::from(at.subsec_nanos() > 0);
        self.start_time(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    /// No fire after this instant (unix seconds).
    pub fn end_time(mut self, unix_seconds: i64) -> Self {
        self.spec.end_time = Some(unix_seconds);
        self
    }

    /// At most this many fires; 0 means unlimited.
    pub fn loop_count(mut self, count: i64) -> Self {
        self.spec.loop_count = Some(count);
        self
    }

    /// Track each fire until a consumer acknowledges it (the client's handlers do so when
    /// they succeed); unacknowledged fires are delivered again after `max_runtime`.
    pub fn ack(mut self, ack: bool) -> Self {
        self.spec.ack = Some(ack);
        self
    }

    /// Seconds a consumer has to acknowledge a fire of an `ack` task (default 60).
    pub fn max_runtime(mut self, seconds: i64) -> Self {
        self.spec.max_runtime = Some(seconds);
        self
    }

    /// IANA zone of the crontab, e.g. `Europe/Berlin` (default: the server's, UTC).
    pub fn timezone(mut self, zone: &str) -> Self {
        self.spec.timezone = Some(zone.into());
        self
    }

    /// What to do with fires missed while the server was down: `coalesce` (default, one
    /// fire for the whole missed span), `skip` or `all`.
    pub fn misfire(mut self, policy: &str) -> Self {
        self.spec.misfire = Some(policy.into());
        self
    }

    /// The finished body.
    pub fn build(self) -> TaskSpec {
        self.spec
    }
}

impl From<TaskBuilder> for TaskSpec {
    fn from(b: TaskBuilder) -> Self {
        b.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_field() {
        let spec = TaskBuilder::every("n", "d", 30)
            .start_time(100)
            .end_time(200)
            .loop_count(5)
            .ack(true)
            .max_runtime(9)
            .timezone("UTC")
            .misfire("skip")
            .build();
        let json = serde_json::to_value(&spec).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"name": "n", "type": 2, "data": "d", "loop_time": 30,
                "start_time": 100, "end_time": 200, "loop_count": 5, "ack": true,
                "max_runtime": 9, "timezone": "UTC", "misfire": "skip"})
        );
    }

    #[test]
    fn after_rounds_up() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs() as i64;
        let spec = TaskBuilder::once("n", "")
            .after(Duration::from_millis(1500))
            .build();
        let at = spec.start_time.expect("start set");
        assert!((now + 1..=now + 3).contains(&at), "{at} vs {now}");
    }
}
