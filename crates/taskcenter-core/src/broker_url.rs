//! The RocketMQ URL the server publishes to and a consumer consumes from, read in one place
//! so that both take the same URLs: `rocketmq://HOST:PORT[;HOST:PORT…][/][?group=NAME]`.

/// A RocketMQ URL that is not `rocketmq://HOST:PORT[;HOST:PORT…][?group=NAME]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url:?}: {reason}")]
pub struct BadRocketMqUrl {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// What a RocketMQ URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RocketMqUrl {
    /// Name server addresses, `;`-separated as RocketMQ writes them.
    pub name_servers: String,
    /// The producer group the server publishes as, if the URL names one.
    pub group: Option<String>,
}

impl RocketMqUrl {
    /// Reads `url`; its only query parameter is a non-empty `group`.
    pub fn parse(url: &str) -> Result<Self, BadRocketMqUrl> {
        let bad = |reason| BadRocketMqUrl {
            url: url.to_string(),
            reason,
        };
        let rest = url
            .strip_prefix("rocketmq://")
            .ok_or_else(|| bad("not a rocketmq:// URL"))?;
        let (hosts, query) = rest.split_once('?').unwrap_or((rest, ""));
        let hosts = hosts.trim_end_matches('/');
        let valid_host = |h: &str| {
            h.rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
        };
        if hosts.is_empty() || !hosts.split(';').all(valid_host) {
            return Err(bad("name servers must be HOST:PORT[;HOST:PORT…]"));
        }
        let mut group = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("group", g)) if !g.is_empty() => group = Some(g.to_string()),
                _ => return Err(bad("the only query parameter is group=NAME")),
            }
        }
        Ok(Self {
            name_servers: hosts.to_string(),
            group,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_servers_and_group_come_from_the_url() {
        let u = RocketMqUrl::parse("rocketmq://10.0.0.1:9876;10.0.0.2:9876?group=orders");
        assert_eq!(
            u,
            Ok(RocketMqUrl {
                name_servers: "10.0.0.1:9876;10.0.0.2:9876".into(),
                group: Some("orders".into()),
            })
        );
        let u = RocketMqUrl::parse("rocketmq://h:9876/").map(|u| (u.name_servers, u.group));
        assert_eq!(u, Ok(("h:9876".into(), None)));
    }

    #[test]
    fn unusable_urls_are_refused() {
        for url in [
            "rocketmq://",
            "rocketmq://host",
            "rocketmq://host:port",
            "rocketmq://h:9876;",
            "rocketmq://h:9876?topic=x",
            "rocketmq://h:9876?group=",
            "nats://h:4222",
        ] {
            assert!(RocketMqUrl::parse(url).is_err(), "{url}");
        }
    }
}
