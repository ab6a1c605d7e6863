//! Matching in local wall-clock time: the first local second at or after a point that fits
//! every field, found by jumping over whole months, days, hours and minutes.
//!
//! Local times are counted as "local seconds": seconds since 1970-01-01T00:00:00 of the
//! zone's wall clock. Mapping them to instants is the job of `next.rs`.

use super::calendar::{DAY_SECS, civil_from_days, days_from_civil};
use super::days::DaySpec;

/// All fields of a calendar expression as bit sets (bit n set = value n matches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fields {
    pub(super) seconds: u64,
    pub(super) minutes: u64,
    pub(super) hours: u64,
    /// Bits 1–12.
    pub(super) months: u64,
    pub(super) days: DaySpec,
}

/// The fixed stretch of calendar searched to prove an expression can fire: 2000 through
/// 2030 holds every combination of leap year and weekday of January 1st.
const PROOF_START: (i64, u32, u32) = (2000, 1, 1);
const PROOF_END: (i64, u32, u32) = (2031, 1, 1);

impl Fields {
    /// The first matching local second at or after `from`, or `None` if there is none
    /// before `limit` (also local seconds).
    pub(super) fn next_local(&self, from: i64, limit: i64) -> Option<i64> {
        let from_day = from.div_euclid(DAY_SECS);
        let from_time = from.rem_euclid(DAY_SECS);
        let (mut year, mut month, first_day) = civil_from_days(from_day);
        let mut days_from = first_day;
        loop {
            let month_start = days_from_civil(year, month, 1);
            if month_start.saturating_mul(DAY_SECS) > limit {
                return None;
            }
            if self.months & 1 << month != 0 {
                let candidates = self.days.days_in(year, month) & !0u64 << days_from;
                for day in super::fields::bits(candidates) {
                    let day_start = (month_start + i64::from(day) - 1) * DAY_SECS;
                    let time_from = if day_start == from_day * DAY_SECS {
                        from_time
                    } else {
                        0
                    };
                    if let Some(time) = self.time_of_day(time_from) {
                        let found = day_start + time;
                        return (found <= limit).then_some(found);
                    }
                }
            }
            (year, month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            days_from = 1;
        }
    }

    /// The first matching second of the day at or after `from` (seconds since midnight).
    fn time_of_day(&self, from: i64) -> Option<i64> {
        let (from_hour, from_minute, from_second) = (from / 3600, from / 60 % 60, from % 60);
        let mut hour = next_bit(self.hours, from_hour)?;
        loop {
            let same_hour = hour == from_hour;
            let mut minute = next_bit(self.minutes, if same_hour { from_minute } else { 0 });
            while let Some(m) = minute {
                let start = if same_hour && m == from_minute {
                    from_second
                } else {
                    0
                };
                if let Some(second) = next_bit(self.seconds, start) {
                    return Some(hour * 3600 + m * 60 + second);
                }
                minute = next_bit(self.minutes, m + 1);
            }
            hour = next_bit(self.hours, hour + 1)?;
        }
    }

    /// True when no date in a full 28-year weekday cycle (with leap years) matches the day
    /// and month fields, i.e. the expression can never fire. Independent of the wall clock.
    pub(super) fn never_fires(&self) -> bool {
        let day = |(y, m, d)| days_from_civil(y, m, d) * DAY_SECS;
        self.next_local(day(PROOF_START), day(PROOF_END)).is_none()
    }
}

/// The lowest set bit of `set` at position `from` or above.
fn next_bit(set: u64, from: i64) -> Option<i64> {
    let from = u32::try_from(from).ok().filter(|&f| f < 64)?;
    let rest = set & !0u64 << from;
    (rest != 0).then(|| i64::from(rest.trailing_zeros()))
}
