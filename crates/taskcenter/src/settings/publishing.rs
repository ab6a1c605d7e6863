//! Where fires go: `publisher`, `topic` and the webhook key from flags or the file, and
//! the Go service's `[rocketmq]` section, which published every fire to RocketMQ and so
//! makes that the publisher unless another is set.

use serde::Deserialize;
use taskcenter_server::ServerConfig;
use taskcenter_server::config::RocketMqOptions;

use crate::cli::ServeArgs;

/// The `[rocketmq]` section of the Go service's file: where and as whom it published.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LegacyRocketMq {
    /// Name server(s), `HOST:PORT`, several split by `;` or `,`.
    namesvr: Option<String>,
    group_id: Option<String>,
    instance_name: Option<String>,
    access_key: Option<String>,
    secret_key: Option<String>,
    topic: Option<String>,
}

/// The file's keys about publishing.
pub(super) struct FileKeys {
    pub publisher: Option<String>,
    pub topic: Option<String>,
    pub webhook_secret: Option<String>,
    pub seed: Option<LegacyRocketMq>,
}

/// Flags beat the file's own keys, which beat the `[rocketmq]` section.
pub(super) fn apply(
    args: &ServeArgs,
    file: FileKeys,
    c: &mut ServerConfig,
    warnings: &mut Vec<String>,
) {
    let has_section = file.seed.is_some();
    let seed = file.seed.unwrap_or_default();
    let seed_publisher = seed.namesvr.as_deref().and_then(rocketmq_url);
    if let Some(publisher) = args.publisher.clone().or(file.publisher).or(seed_publisher) {
        c.publisher = publisher;
    }
    let seed_topic = seed.topic.filter(|t| !t.is_empty());
    if let Some(topic) = args.topic.clone().or(file.topic).or(seed_topic) {
        c.topic = topic;
    }
    c.webhook_secret = args
        .webhook_secret
        .clone()
        .or(file.webhook_secret)
        .filter(|s| !s.is_empty());
    let non_empty = |v: Option<String>| v.filter(|s| !s.is_empty());
    c.rocketmq = RocketMqOptions {
        group: non_empty(seed.group_id),
        instance_name: non_empty(seed.instance_name),
        access_key: non_empty(args.rocketmq_access_key.clone().or(seed.access_key)),
        secret_key: non_empty(args.rocketmq_secret_key.clone().or(seed.secret_key)),
    };
    if has_section && !c.publisher.starts_with("rocketmq://") {
        let why = if c.publisher == "builtin" {
            "it names no namesvr, fires go to the built-in queue"
        } else {
            "fires go to the publisher set besides it"
        };
        warnings.push(format!(
            "config section [rocketmq] is not used and is ignored: {why}"
        ));
    }
}

/// `rocketmq://HOST:PORT[;HOST:PORT…]` from the section's `namesvr`, if it names any.
fn rocketmq_url(namesvr: &str) -> Option<String> {
    let hosts: Vec<&str> = namesvr
        .split([';', ','])
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    (!hosts.is_empty()).then(|| format!("rocketmq://{}", hosts.join(";")))
}
