//! [`Transport`]: where a consumer's messages come from, named by the same URL the server's
//! `--publisher` takes, so switching a consumer to a broker is configuration only.

use crate::error::ClientError;

/// Where a consumer takes its messages from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// The server's built-in queue, pulled over HTTP.
    Builtin,
    /// NATS JetStream at `url` (`nats://host:4222`): a durable pull consumer per group.
    Nats {
        /// The server URL.
        url: String,
    },
    /// Redis Streams at `url` (`redis://host:6379/0`): a consumer group per group.
    Redis {
        /// The connection URL.
        url: String,
    },
    /// RabbitMQ at `url` (`amqp://user:pass@host:5672/vhost`): a durable queue per group.
    Amqp {
        /// The connection URL.
        url: String,
    },
    /// RocketMQ at `url` (`rocketmq://host:9876`, its name servers `;`-separated): a push
    /// consumer of the group, retrying through the broker's retry topic.
    RocketMq {
        /// The name servers' URL.
        url: String,
    },
}

impl Transport {
    /// The transport `url` names: `builtin` (or empty), `nats://`, `redis://`/`rediss://`,
    /// `amqp://`/`amqps://`, `rocketmq://`. A broker whose cargo feature is off is refused, saying which
    /// feature builds it.
    pub fn from_url(url: &str) -> Result<Self, ClientError> {
        let url = url.trim();
        if url.is_empty() || url == "builtin" {
            return Ok(Self::Builtin);
        }
        let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
        let (feature, built) = match scheme {
            "nats" => ("nats", cfg!(feature = "nats")),
            "redis" | "rediss" => ("redis", cfg!(feature = "redis")),
            "amqp" | "amqps" => ("amqp", cfg!(feature = "amqp")),
            "rocketmq" => ("rocketmq", cfg!(feature = "rocketmq")),
            _ => return Err(ClientError::BadTransport(url.into())),
        };
        if !built {
            return Err(ClientError::TransportNotBuilt {
                scheme: scheme.into(),
                feature,
            });
        }
        let url = url.to_string();
        Ok(match feature {
            "nats" => Self::Nats { url },
            "redis" => Self::Redis { url },
            "amqp" => Self::Amqp { url },
            _ => Self::RocketMq { url },
        })
    }

    /// The broker's kind for logs: `builtin`, `nats`, `redis`, `amqp` or `rocketmq`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Builtin => "builtin",
            Self::Nats { .. } => "nats",
            Self::Redis { .. } => "redis",
            Self::Amqp { .. } => "amqp",
            Self::RocketMq { .. } => "rocketmq",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_transports() {
        assert_eq!(
            Transport::from_url("builtin").ok(),
            Some(Transport::Builtin)
        );
        assert_eq!(Transport::from_url("").ok(), Some(Transport::Builtin));
        assert!(Transport::from_url("http://x").is_err());
        for (url, kind) in [
            ("nats://h:4222", "nats"),
            ("redis://h:6379/0", "redis"),
            ("amqp://u:p@h:5672/%2f", "amqp"),
            ("rocketmq://h:9876", "rocketmq"),
        ] {
            match Transport::from_url(url) {
                Ok(t) => assert_eq!(t.kind(), kind),
                Err(ClientError::TransportNotBuilt { feature, .. }) => assert_eq!(feature, kind),
                Err(e) => panic!("{url}: {e}"),
            }
        }
    }
}
