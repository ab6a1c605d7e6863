//! [`Config`]: where the consumer pulls from, as which group, how many at once.

use std::time::Duration;

/// The server the command-line tools and [`Config::default`] use.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8081";

/// How a consumer connects and behaves. Start from [`Config::new`] (or
/// [`Config::from_env`]) and adjust with the `with_*` methods:
///
/// ```
/// use std::time::Duration;
/// use taskcenter_client::Config;
///
/// let config = Config::new("http://127.0.0.1:8081")
///     .with_group("billing")
///     .with_concurrency(4)
///     .with_shutdown_timeout(Duration::from_secs(10));
/// assert_eq!(config.group, "billing");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Server URL, e.g. `http://127.0.0.1:8081`.
    pub server: String,
    /// Consumer group: every group gets every message of its tags; inside a group each
    /// message goes to one consumer. Default `default`.
    pub group: String,
    /// Most handlers running at once (default 8, at least 1). The consumer pulls only as
    /// many messages as it has free slots, so none waits leased in a local buffer.
    pub concurrency: usize,
    /// How long one long-poll waits for messages (default 10 s, at most 60 s).
    pub poll_wait: Duration,
    /// How long [`release`](crate::Client::release) waits for running handlers before it
    /// gives their messages back for redelivery (default 30 s).
    pub shutdown_timeout: Duration,
    /// First pause after a failed call to the server (default 200 ms); it doubles up to
    /// [`max_backoff`](Self::max_backoff).
    pub min_backoff: Duration,
    /// Longest pause between attempts while the server is unreachable (default 5 s).
    pub max_backoff: Duration,
    /// Bearer token, if the server requires one.
    pub token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server: DEFAULT_SERVER.into(),
            group: "default".into(),
            concurrency: 8,
            poll_wait: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(30),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            token: None,
        }
    }
}

impl Config {
    /// Defaults, with the server at `server`.
    pub fn new(server: impl Into<String>) -> Self {
        Self {
            server: server.into(),
            ..Self::default()
        }
    }

    /// Defaults, with the server, group and token taken from `TASKCENTER_SERVER`,
    /// `TASKCENTER_GROUP` and `TASKCENTER_AUTH_TOKEN` when they are set.
    pub fn from_env() -> Self {
        Self::from_vars(|key| std::env::var(key).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let set = |key: &str| var(key).filter(|v| !v.trim().is_empty());
        let mut c = Self::default();
        if let Some(server) = set("TASKCENTER_SERVER") {
            c.server = server;
        }
        if let Some(group) = set("TASKCENTER_GROUP") {
            c.group = group;
        }
        c.token = set("TASKCENTER_AUTH_TOKEN");
        c
    }

    /// Sets the consumer group.
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.group = group.into();
        self
    }

    /// Sets how many handlers may run at once (at least 1).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Sets how long one long-poll waits (capped at 60 s).
    pub fn with_poll_wait(mut self, wait: Duration) -> Self {
        self.poll_wait = wait.min(Duration::from_secs(60));
        self
    }

    /// Sets how long shutdown waits for running handlers.
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Sets the pauses between attempts while the server is unreachable.
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min.max(Duration::from_millis(1));
        self.max_backoff = max.max(self.min_backoff);
        self
    }

    /// Sends `Authorization: Bearer <token>` with every call.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_defaults() {
        let c = Config::from_vars(|k| match k {
            "TASKCENTER_SERVER" => Some("http://h:1".into()),
            "TASKCENTER_GROUP" => Some(" ".into()),
            _ => None,
        });
        assert_eq!(c.server, "http://h:1");
        assert_eq!(c.group, "default");
        assert_eq!(c.token, None);
        assert_eq!(Config::default().with_concurrency(0).concurrency, 1);
    }
}
