//! The shortest time a calendar expression can leave between two fires, so that a
//! minimum interval applies to crontabs as it does to loops.
//!
//! The finest field that matches more than one value decides: two seconds of one minute,
//! else two minutes of one hour, else two hours of one day, else a day. Gaps are taken
//! cyclically (`0,59` seconds are 1 s apart across the minute boundary), which can only
//! make the answer smaller than what really happens, never larger. A DST change can bring
//! two fires of a wildcard hour closer in absolute time; that is not counted.

use super::CronSchedule;
use super::fields::bits;

/// The smallest cyclic distance between two members of `set` in a cycle of `cycle`
/// values, or `None` if fewer than two match.
fn cyclic_gap(set: u64, cycle: u32) -> Option<i64> {
    let values: Vec<u32> = bits(set).filter(|v| *v < cycle).collect();
    let (&first, &last) = (values.first()?, values.last()?);
    if values.len() < 2 {
        return None;
    }
    let inner = values.windows(2).map(|w| w[1] - w[0]).min()?;
    Some(i64::from(inner.min(cycle - last + first)))
}

impl CronSchedule {
    /// A lower bound of the time between two consecutive fires, in milliseconds.
    pub fn shortest_gap_ms(&self) -> i64 {
        let f = &self.fields;
        if let Some(s) = cyclic_gap(f.seconds, 60) {
            return s * 1000;
        }
        if let Some(m) = cyclic_gap(f.minutes, 60) {
            return m * 60_000;
        }
        if let Some(h) = cyclic_gap(f.hours, 24) {
            return h * 3_600_000;
        }
        86_400_000
    }
}

#[cfg(test)]
mod tests {
    use super::super::CronExpr;

    fn gap(text: &str) -> i64 {
        match CronExpr::parse(text, "UTC").expect("valid") {
            CronExpr::Calendar(c) => c.shortest_gap_ms(),
            CronExpr::Every(ms) => ms,
        }
    }

    #[test]
    fn the_finest_field_with_two_values_decides() {
        assert_eq!(gap("* * * * * *"), 1000);
        assert_eq!(gap("*/15 * * * * *"), 15_000);
        assert_eq!(gap("0,59 * * * * *"), 1000, "across the minute boundary");
        assert_eq!(gap("* * * * *"), 60_000);
        assert_eq!(gap("*/5 * * * *"), 300_000);
        assert_eq!(gap("0 * * * *"), 3_600_000);
        assert_eq!(gap("0 9,17 * * *"), 8 * 3_600_000);
        assert_eq!(gap("0 3 * * *"), 86_400_000);
        assert_eq!(gap("@every 1500ms"), 1500);
    }
}
