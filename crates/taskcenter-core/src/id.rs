//! Task ids: 24 lowercase hex characters laid out like MongoDB ObjectIds (as the original service's were),
//! so they sort by creation time and old callers see the same shape.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

/// An opaque, time-ordered task id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId([u8; 12]);

/// The text was not 24 hex characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed task id {0:?}: expected 24 hex characters")]
pub struct MalformedId(pub String);

impl TaskId {
    /// The raw 12 bytes.
    pub fn as_bytes(&self) -> &[u8; 12] {
        &self.0
    }

    /// Rebuilds an id from its 12 bytes.
    pub fn from_bytes(bytes: [u8; 12]) -> Self {
        Self(bytes)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for TaskId {
    type Err = MalformedId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let raw = s.as_bytes();
        if raw.len() != 24 {
            return Err(MalformedId(s.to_string()));
        }
        let mut out = [0u8; 12];
        for (i, pair) in raw.chunks(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or_else(|| MalformedId(s.to_string()))?;
            let lo = hex_val(pair[1]).ok_or_else(|| MalformedId(s.to_string()))?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Self(out))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Makes ids: 4 bytes of unix seconds, 5 bytes fixed per generator, 3 bytes of a counter.
///
/// Ids from one generator are strictly increasing within a second; the random middle keeps
/// replicas from colliding.
#[derive(Debug)]
pub struct IdGenerator {
    process: [u8; 5],
    counter: AtomicU32,
}

impl Default for IdGenerator {
    fn default() -> Self {
        Self::new()
    }
}

impl IdGenerator {
    /// A generator with a random process part.
    pub fn new() -> Self {
        let mut process = [0u8; 5];
        process.iter_mut().for_each(|b| *b = fastrand::u8(..));
        Self {
            process,
            counter: AtomicU32::new(fastrand::u32(..0x00ff_ffff)),
        }
    }

    /// The next id for a task created at `now_ms`.
    pub fn next(&self, now_ms: i64) -> TaskId {
        let secs = (now_ms.div_euclid(1000)).clamp(0, u32::MAX as i64) as u32;
        let count = self.counter.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
        let mut b = [0u8; 12];
        b[..4].copy_from_slice(&secs.to_be_bytes());
        b[4..9].copy_from_slice(&self.process);
        b[9..].copy_from_slice(&count.to_be_bytes()[1..]);
        TaskId(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_sort_by_time() {
        let g = IdGenerator::new();
        let a = g.next(1_700_000_000_000);
        let b = g.next(1_700_000_001_000);
        assert!(a < b);
        let text = a.to_string();
        assert_eq!(text.len(), 24);
        assert!(
            text.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(text.parse::<TaskId>(), Ok(a));
        assert!(text.starts_with(&format!("{:08x}", 1_700_000_000u32)));
    }

    #[test]
    fn malformed_ids_are_rejected() {
        assert!("abc".parse::<TaskId>().is_err());
        assert!("zzzzzzzzzzzzzzzzzzzzzzzz".parse::<TaskId>().is_err());
        assert!("0123456789abcdef012345678".parse::<TaskId>().is_err());
    }
}
