//! `retry_delays` in the file: a TOML list of durations, or one string of them separated
//! by commas, as `--retry-delays` takes them.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// A list of durations as written, parsed later with the other durations.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DurationList(Vec<String>);

impl DurationList {
    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

impl<'de> Deserialize<'de> for DurationList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ListVisitor)
    }
}

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = DurationList;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(r#"a list of durations like ["10s", "30s"], or a string like "10s,30s""#)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<DurationList, E> {
        Ok(DurationList(
            text.split(',').map(|d| d.trim().to_string()).collect(),
        ))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DurationList, A::Error> {
        let mut list = Vec::new();
        while let Some(item) = seq.next_element::<String>()? {
            list.push(item);
        }
        Ok(DurationList(list))
    }
}
