//! The configuration file against the defaults: the example file at the repository root
//! lists every key and yields exactly the defaults, so it cannot go stale.

use std::io::Write;
use std::net::SocketAddr;

use serde::de::{self, Deserializer, Visitor};
use serde::forward_to_deserialize_any;
use taskcenter_server::ServerConfig;

use super::*;

const EXAMPLE: &str = include_str!("../../../../taskcenter.toml");

/// Sections of the Go service's file: accepted, but not part of the example's keys.
const LEGACY_SECTIONS: [&str; 4] = ["task_center", "mongodb", "redis", "rocketmq"];

/// A config file holding `text`, deleted when dropped.
fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .prefix("taskcenter-config-")
        .suffix(".toml")
        .tempfile()
        .expect("temp file");
    f.write_all(text.as_bytes()).expect("write config");
    f
}

fn load_text(text: &str, args: ServeArgs) -> anyhow::Result<Settings> {
    let f = file(text);
    load(&ServeArgs {
        config: Some(f.path().to_path_buf()),
        ..args
    })
}

fn config(text: &str) -> ServerConfig {
    load_text(text, ServeArgs::default())
        .unwrap_or_else(|e| panic!("{text:?}: {e:#}"))
        .config
}

/// The field names a `Deserialize` struct accepts, asked of its derived code.
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields read"))
        }
        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

#[test]
fn the_example_file_lists_every_key() {
    let table: toml::Table = toml::from_str(EXAMPLE).expect("the example is TOML");
    let keys = fields_of::<FileConfig>();
    assert!(keys.contains(&"listen"), "{keys:?}");
    for key in keys.iter().filter(|k| !LEGACY_SECTIONS.contains(k)) {
        assert!(
            table.contains_key(*key),
            "taskcenter.toml lacks the key {key}"
        );
    }
    for key in table.keys() {
        assert!(
            keys.contains(&key.as_str()),
            "taskcenter.toml has unknown key {key}"
        );
    }
}

#[test]
fn the_example_file_yields_exactly_the_defaults() {
    let settings = load_text(EXAMPLE, ServeArgs::default()).expect("the example loads");
    assert_eq!(
        format!("{:?}", settings.config),
        format!("{:?}", ServerConfig::default())
    );
    assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
}

#[test]
fn retry_delays_as_a_list_or_as_one_string() {
    let list = config("retry_delays = [\"1s\", \"2s\"]\n");
    let text = config("retry_delays = \"1s,2s\"\n");
    let spaced = config("retry_delays = \"1s, 2s\"\n");
    assert_eq!(list.delivery.retry_delays_ms, [1000, 2000]);
    assert_eq!(text.delivery.retry_delays_ms, [1000, 2000]);
    assert_eq!(spaced.delivery.retry_delays_ms, [1000, 2000]);
    assert_eq!(
        config("retry_delays = []\n").delivery.retry_delays_ms,
        [0i64; 0]
    );
    for bad in [
        "retry_delays = \"1s,,2s\"\n",
        "retry_delays = 5\n",
        "retry_delays = [1]\n",
    ] {
        assert!(
            load_text(bad, ServeArgs::default()).is_err(),
            "{bad:?} was accepted"
        );
    }
}

#[test]
fn the_flag_beats_the_file() -> anyhow::Result<()> {
    let args = ServeArgs {
        retry_delays: Some(vec!["3s".into()]),
        listen: Some(":9000".into()),
        ..ServeArgs::default()
    };
    let s = load_text("retry_delays = \"1s,2s\"\nlisten = \"127.0.0.1:1\"\n", args)?;
    assert_eq!(s.config.delivery.retry_delays_ms, [3000]);
    assert_eq!(s.config.listen, SocketAddr::from(([0, 0, 0, 0], 9000)));
    Ok(())
}

#[test]
fn an_empty_retry_delays_flag_means_no_retries() -> anyhow::Result<()> {
    let args = ServeArgs {
        retry_delays: Some(vec![String::new()]),
        ..ServeArgs::default()
    };
    let s = load_text("retry_delays = \"1s,2s\"\n", args)?;
    assert_eq!(s.config.delivery.retry_delays_ms, [0i64; 0]);
    Ok(())
}

#[test]
fn listen_takes_host_names_and_a_bare_port() {
    let all = config("listen = \":8081\"\n");
    assert_eq!(all.listen, SocketAddr::from(([0, 0, 0, 0], 8081)));
    let named = config("listen = \"localhost:8082\"\n");
    assert!(named.listen.ip().is_loopback(), "{}", named.listen);
    assert_eq!(named.listen.port(), 8082);
    assert!(load_text("listen = \"8081\"\n", ServeArgs::default()).is_err());
}

#[test]
fn each_unused_section_of_the_go_file_warns_once() {
    let text = "[task_center]\nport = 9090\nname_alert_count = 5\n\
                [mongodb]\nuri = \"mongodb://x\"\n[redis]\naddr = \"x:6379\"\n";
    let s = load_text(text, ServeArgs::default()).expect("the Go service's file loads");
    assert_eq!(s.config.listen, SocketAddr::from(([127, 0, 0, 1], 9090)));
    assert_eq!(s.config.name_alert_count, 5);
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    for section in ["[mongodb]", "[redis]"] {
        let hits = s.warnings.iter().filter(|w| w.contains(section)).count();
        assert_eq!(hits, 1, "{section}: {:?}", s.warnings);
    }
    let only_redis = load_text("[redis]\n", ServeArgs::default()).expect("loads");
    assert_eq!(only_redis.warnings.len(), 1);
}

/// The Go service's `[rocketmq]` section as its users wrote it.
const SEED_ROCKETMQ: &str = "[rocketmq]\nnamesvr = \"10.0.0.1:9876;10.0.0.2:9876\"\n\
                             group_id = \"GID_tasks\"\ninstance_name = \"tc-1\"\n\
                             access_key = \"AK\"\nsecret_key = \"SK\"\ntopic = \"jobs\"\n";

#[test]
fn the_go_files_rocketmq_section_configures_the_rocketmq_publisher() {
    let s = load_text(SEED_ROCKETMQ, ServeArgs::default()).expect("loads");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let c = s.config;
    assert_eq!(c.publisher, "rocketmq://10.0.0.1:9876;10.0.0.2:9876");
    assert_eq!(c.topic, "jobs");
    assert_eq!(c.rocketmq.group.as_deref(), Some("GID_tasks"));
    assert_eq!(c.rocketmq.instance_name.as_deref(), Some("tc-1"));
    assert_eq!(c.rocketmq.access_key.as_deref(), Some("AK"));
    assert_eq!(c.rocketmq.secret_key.as_deref(), Some("SK"));
    assert!(!format!("{:?}", c.rocketmq).contains("SK"), "secret logged");
    let commas = config("[rocketmq]\nnamesvr = \"a:9876, b:9876\"\n");
    assert_eq!(commas.publisher, "rocketmq://a:9876;b:9876");
    assert_eq!(commas.rocketmq.group, None);
}

#[test]
fn flags_and_the_files_own_keys_beat_the_rocketmq_section() {
    let args = ServeArgs {
        topic: Some("flag_topic".into()),
        rocketmq_access_key: Some("flag_ak".into()),
        rocketmq_secret_key: Some("flag_sk".into()),
        ..ServeArgs::default()
    };
    let c = load_text(SEED_ROCKETMQ, args).expect("loads").config;
    assert_eq!(c.topic, "flag_topic");
    assert_eq!(c.rocketmq.access_key.as_deref(), Some("flag_ak"));
    assert_eq!(c.rocketmq.secret_key.as_deref(), Some("flag_sk"));
    let text = format!("publisher = \"nats://127.0.0.1:4222\"\n{SEED_ROCKETMQ}");
    let s = load_text(&text, ServeArgs::default()).expect("loads");
    assert_eq!(s.config.publisher, "nats://127.0.0.1:4222");
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(s.warnings[0].contains("[rocketmq]"), "{:?}", s.warnings);
    let no_namesvr =
        load_text("[rocketmq]\nnamesvr = \"\"\n", ServeArgs::default()).expect("loads");
    assert_eq!(no_namesvr.config.publisher, "builtin");
    assert_eq!(no_namesvr.warnings.len(), 1, "{:?}", no_namesvr.warnings);
    let typo = load_text("[rocketmq]\nnamesrv = \"x:9876\"\n", ServeArgs::default());
    assert!(typo.is_err(), "a misspelt [rocketmq] key was accepted");
}

#[test]
fn the_example_file_documents_every_key_of_the_rocketmq_section() {
    let block: String = EXAMPLE
        .lines()
        .skip_while(|l| *l != "# [rocketmq]")
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let section: toml::Table = toml::from_str(&block).expect("the commented section is TOML");
    let documented = section["rocketmq"].as_table().expect("a [rocketmq] table");
    let keys = fields_of::<publishing::LegacyRocketMq>();
    assert!(keys.contains(&"namesvr"), "{keys:?}");
    for key in keys {
        assert!(
            documented.contains_key(*key),
            "taskcenter.toml lacks [rocketmq] {key}"
        );
    }
    assert_eq!(
        documented.len(),
        keys.len(),
        "unknown keys in {documented:?}"
    );
    let s = load_text(&block, ServeArgs::default()).expect("the section loads");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.config.publisher, "rocketmq://127.0.0.1:9876");
}

#[test]
fn publisher_timeouts_and_the_redis_stream_limit() -> anyhow::Result<()> {
    let defaults = config("");
    assert_eq!(defaults.publish_timeout, std::time::Duration::from_secs(10));
    assert_eq!(defaults.webhook_timeout, std::time::Duration::from_secs(10));
    assert_eq!(defaults.redis_maxlen, None);
    let file = "publish_timeout = \"3s\"\nwebhook_timeout = \"1500ms\"\nredis_maxlen = 1000\n";
    let c = config(file);
    assert_eq!(c.publish_timeout, std::time::Duration::from_secs(3));
    assert_eq!(c.webhook_timeout, std::time::Duration::from_millis(1500));
    assert_eq!(c.redis_maxlen, Some(1000));
    let args = ServeArgs {
        webhook_timeout: Some("2s".into()),
        redis_maxlen: Some(0),
        ..ServeArgs::default()
    };
    let flagged = load_text(file, args)?.config;
    assert_eq!(flagged.webhook_timeout, std::time::Duration::from_secs(2));
    assert_eq!(flagged.redis_maxlen, None, "0 is no limit");
    assert_eq!(flagged.publish_timeout, std::time::Duration::from_secs(3));
    for bad in ["publish_timeout = \"0s\"\n", "webhook_timeout = \"soon\"\n"] {
        assert!(
            load_text(bad, ServeArgs::default()).is_err(),
            "{bad:?} was accepted"
        );
    }
    Ok(())
}

#[test]
fn unknown_keys_and_empty_strings() {
    let typo = load_text("retry_delay = \"1s\"\n", ServeArgs::default());
    assert!(typo.is_err(), "a misspelt key was accepted");
    let empty = config("store = \"\"\nalert_webhook = \"\"\nauth_token = \"\"\n");
    assert_eq!(empty.store_url, None);
    assert_eq!(empty.alert_webhook, None);
    assert_eq!(empty.auth_token, None);
}
