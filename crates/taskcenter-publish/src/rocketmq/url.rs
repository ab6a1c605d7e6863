//! Where a RocketMQ producer connects and as whom: the name servers of the URL
//! `rocketmq://HOST:9876[;HOST:9876…][?group=G]`, the producer group, the instance name and
//! the ACL credentials.

use taskcenter_core::RocketMqUrl;

use crate::{OpenError, PublisherOptions};

/// Producer group used when neither the URL nor the options name one.
const DEFAULT_GROUP: &str = "taskcenter";

/// Everything the producer is built from.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// Name server addresses, `;`-separated as RocketMQ writes them.
    pub(crate) name_servers: String,
    pub(crate) group: String,
    pub(crate) instance_name: Option<String>,
    /// ACL access and secret key, both or neither.
    pub(crate) credentials: Option<(String, String)>,
}

// The secret key stays out of logs.
impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name_servers", &self.name_servers)
            .field("group", &self.group)
            .field("instance_name", &self.instance_name)
            .field("acl", &self.credentials.is_some())
            .finish()
    }
}

impl Endpoint {
    /// Reads `url`; a `group` in the URL wins over the options' one.
    pub(crate) fn parse(url: &str, o: &PublisherOptions) -> Result<Self, OpenError> {
        let bad = |why: &str| OpenError::Invalid(format!("{url:?}: {why}"));
        let parsed = RocketMqUrl::parse(url).map_err(|e| OpenError::Invalid(e.to_string()))?;
        let group = parsed
            .group
            .or_else(|| o.rocketmq.group.clone().filter(|g| !g.is_empty()));
        let credentials = match (&o.rocketmq.access_key, &o.rocketmq.secret_key) {
            (Some(a), Some(s)) if !a.is_empty() && !s.is_empty() => Some((a.clone(), s.clone())),
            (None, None) => None,
            (Some(a), Some(s)) if a.is_empty() && s.is_empty() => None,
            _ => {
                return Err(bad(
                    "an access key needs a secret key and the other way round",
                ));
            }
        };
        Ok(Self {
            name_servers: parsed.name_servers,
            group: group.unwrap_or_else(|| DEFAULT_GROUP.into()),
            instance_name: o.rocketmq.instance_name.clone().filter(|n| !n.is_empty()),
            credentials,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RocketMqOptions;

    fn with(rocketmq: RocketMqOptions) -> PublisherOptions {
        PublisherOptions {
            rocketmq,
            ..PublisherOptions::default()
        }
    }

    #[test]
    fn name_servers_and_group_come_from_the_url() {
        let e = Endpoint::parse(
            "rocketmq://10.0.0.1:9876;10.0.0.2:9876?group=orders",
            &PublisherOptions::default(),
        )
        .expect("valid");
        assert_eq!(e.name_servers, "10.0.0.1:9876;10.0.0.2:9876");
        assert_eq!(e.group, "orders");
        assert_eq!(e.credentials, None);
        let e = Endpoint::parse("rocketmq://h:9876/", &PublisherOptions::default()).expect("valid");
        assert_eq!(e.group, "taskcenter");
    }

    #[test]
    fn options_fill_in_what_the_url_leaves_out() {
        let o = with(RocketMqOptions {
            group: Some("seed_group".into()),
            instance_name: Some("tc-1".into()),
            access_key: Some("ak".into()),
            secret_key: Some("sk".into()),
        });
        let e = Endpoint::parse("rocketmq://h:9876", &o).expect("valid");
        assert_eq!(e.group, "seed_group");
        assert_eq!(e.instance_name.as_deref(), Some("tc-1"));
        assert_eq!(e.credentials, Some(("ak".into(), "sk".into())));
        assert!(!format!("{e:?}").contains("sk\""), "no secret in {e:?}");
        let e = Endpoint::parse("rocketmq://h:9876?group=url", &o).expect("valid");
        assert_eq!(e.group, "url");
    }

    #[test]
    fn unusable_urls_and_half_credentials_are_refused() {
        // Which URLs are unusable is the shared reader's business (taskcenter-core).
        let o = PublisherOptions::default();
        assert!(matches!(
            Endpoint::parse("rocketmq://h:9876?topic=x", &o),
            Err(OpenError::Invalid(_))
        ));
        let half = with(RocketMqOptions {
            access_key: Some("ak".into()),
            ..RocketMqOptions::default()
        });
        assert!(Endpoint::parse("rocketmq://h:9876", &half).is_err());
    }
}
