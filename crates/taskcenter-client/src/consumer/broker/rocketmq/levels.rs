//! RocketMQ's delay levels: a message sent back for a retry becomes visible after the delay
//! of the level it was sent back with, so each delay of the ladder is mapped to a level.

use std::time::Duration;

/// The delay of each level, level 1 first: the broker's `messageDelayLevel` as RocketMQ
/// ships it, `1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h`. Its retry
/// ladder (10 s … 2 h) is levels 3 to 18.
const LEVEL_SECS: [u64; 18] = [
    1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200,
];

/// The level a send-back gives to move the message straight to the dead-letter topic.
pub(super) const DEAD_LETTER: i32 = -1;

/// The shortest level, for a message given back unhandled: as soon as the broker allows.
pub(super) const SOONEST: i32 = 1;

/// The level of the shortest delay not shorter than `delay` (the longest level if none is).
pub(super) fn level_for(delay: Duration) -> i32 {
    let index = LEVEL_SECS
        .iter()
        .position(|secs| Duration::from_secs(*secs) >= delay)
        .unwrap_or(LEVEL_SECS.len() - 1);
    i32::try_from(index + 1).unwrap_or(i32::MAX)
}

/// The delay of `level`.
pub(super) fn delay_of(level: i32) -> Duration {
    let index = usize::try_from(level.max(1) - 1).unwrap_or(0);
    Duration::from_secs(LEVEL_SECS[index.min(LEVEL_SECS.len() - 1)])
}

/// The delays of `ladder` that are not a level, each with the delay it is retried after.
pub(super) fn rounded(ladder: &[Duration]) -> Vec<(Duration, Duration)> {
    ladder
        .iter()
        .map(|d| (*d, delay_of(level_for(*d))))
        .filter(|(asked, got)| asked != got)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_up_to_a_level() {
        assert_eq!(level_for(Duration::from_millis(500)), 1);
        assert_eq!(level_for(Duration::from_secs(1)), 1);
        assert_eq!(level_for(Duration::from_secs(2)), 2);
        assert_eq!(level_for(Duration::from_secs(10)), 3);
        assert_eq!(level_for(Duration::from_secs(7200)), 18);
        assert_eq!(level_for(Duration::from_secs(99_999)), 18);
        assert_eq!(delay_of(2), Duration::from_secs(5));
        assert_eq!(delay_of(0), Duration::from_secs(1));
        assert_eq!(delay_of(99), Duration::from_secs(7200));
    }

    #[test]
    fn the_retry_ladder_is_made_of_levels() {
        let ladder: Vec<Duration> = [10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600]
            .iter()
            .chain(&[1200, 1800, 3600, 7200])
            .map(|s| Duration::from_secs(*s))
            .collect();
        assert!(rounded(&ladder).is_empty());
        assert_eq!(
            rounded(&[Duration::from_secs(1), Duration::from_secs(2)]),
            [(Duration::from_secs(2), Duration::from_secs(5))]
        );
    }
}
