//! The two day fields: cronie's OR/AND rule plus Quartz's `L`, `L-n`, `LW`, `nW`, `dL`
//! and `d#k`, resolved for a whole month at a time.

use super::calendar::{days_from_civil, days_in_month, weekday};
use super::fields::{Field, bits, parse_item, parse_value};

/// Which days of a month fire, kept as bit sets so a month is resolved in a few operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct DaySpec {
    /// Plain days of month, bits 1–31.
    dom: u64,
    /// `L-n`: bit n means "n days before the last day of the month" (`L` is bit 0).
    before_last: u64,
    /// `LW`: the last weekday (Monday–Friday) of the month.
    last_weekday: bool,
    /// `nW`: bit n means "the weekday (Monday–Friday) nearest to day n".
    nearest_weekday: u64,
    /// Plain weekdays, bits 0–6 with 0 = Sunday.
    dow: u64,
    /// `dL`: bit d means "the last weekday d of the month".
    last_of_weekday: u64,
    /// `d#k`: bit d of `nth[k - 1]` means "the k-th weekday d of the month".
    nth: [u64; 5],
    /// The day-of-month field starts with `*` or `?`, so only day-of-week restricts.
    dom_star: bool,
    /// The day-of-week field starts with `*` or `?`, so only day-of-month restricts.
    dow_star: bool,
}

impl DaySpec {
    /// Parses the day-of-month and day-of-week fields together (they combine, see
    /// [`DaySpec::days_in`]).
    pub(super) fn parse(dom: &str, dow: &str) -> Result<Self, String> {
        let is_star = |text: &str| text.starts_with('*') || text.starts_with('?');
        let mut spec = DaySpec {
            dom_star: is_star(dom),
            dow_star: is_star(dow),
            ..Self::default()
        };
        for item in dom.split(',') {
            spec.add_dom_item(item)?;
        }
        for item in dow.split(',') {
            spec.add_dow_item(item)?;
        }
        Ok(spec)
    }

    fn add_dom_item(&mut self, item: &str) -> Result<(), String> {
        let up = item.to_ascii_uppercase();
        let range = up.split_once('/').map_or(up.as_str(), |(range, _)| range);
        if up.contains('/') && (range.starts_with('L') || range.ends_with('W')) {
            return Err(format!(
                "day-of-month {item:?}: a step cannot be combined with L or W"
            ));
        }
        if up == "L" {
            self.before_last |= 1;
        } else if let Some(n) = up.strip_prefix("L-") {
            self.before_last |= 1 << number(n, (0, 30), item, "offset", Field::DayOfMonth)?;
        } else if up == "LW" {
            self.last_weekday = true;
        } else if let Some(n) = up.strip_suffix('W') {
            self.nearest_weekday |= 1 << number(n, (1, 31), item, "day", Field::DayOfMonth)?;
        } else {
            self.dom |= parse_item(item, Field::DayOfMonth)?;
        }
        Ok(())
    }

    fn add_dow_item(&mut self, item: &str) -> Result<(), String> {
        let up = item.to_ascii_uppercase();
        let range = up.split_once('/').map_or(up.as_str(), |(range, _)| range);
        if up.contains('/') && (range.contains('#') || range.ends_with('L')) {
            return Err(format!(
                "day-of-week {item:?}: a step cannot be combined with L or #"
            ));
        }
        if up == "L" {
            return Err(
                "day-of-week L needs a weekday before it, e.g. 5L for the last Friday".into(),
            );
        }
        if let Some((day, index)) = up.split_once('#') {
            let index = number(index, (1, 5), item, "index", Field::DayOfWeek)?;
            self.nth[index as usize - 1] |= 1 << weekday_value(day)?;
        } else if let Some(day) = up.strip_suffix('L') {
            self.last_of_weekday |= 1 << weekday_value(day)?;
        } else {
            self.dow |= parse_item(item, Field::DayOfWeek)?;
        }
        Ok(())
    }

    /// The days of `month` in `year` that fire, as bits 1–31.
    ///
    /// Vixie cron / cronie rule: when both fields are restricted a day matching either one
    /// fires; when either field starts with `*` or `?` a day must match both (so the other
    /// field alone decides, and `*/2` still restricts to odd days).
    ///
    /// `nW` with n beyond the month's length (`30W` in February) is clamped to the last day
    /// first, then moved to the nearest weekday, so it behaves like `LW` in short months.
    pub(super) fn days_in(&self, year: i64, month: u32) -> u64 {
        let len = days_in_month(year, month);
        let first = weekday(days_from_civil(year, month, 1));
        let weekday_of = |day: u32| (first + day - 1) % 7;
        let nearest = |day: u32| match weekday_of(day) {
            6 if day == 1 => 3,
            6 => day - 1,
            0 if day == len => day - 2,
            0 => day + 1,
            _ => day,
        };

        let mut dom = self.dom;
        for n in bits(self.before_last).filter(|&n| n < len) {
            dom |= 1 << (len - n);
        }
        if self.last_weekday {
            dom |= 1 << nearest(len);
        }
        for n in bits(self.nearest_weekday) {
            dom |= 1 << nearest(n.min(len));
        }

        let mut dow = 0u64;
        for day in (1..=len).filter(|&day| self.dow & 1 << weekday_of(day) != 0) {
            dow |= 1 << day;
        }
        for wd in bits(self.last_of_weekday) {
            dow |= 1 << (len - (weekday_of(len) + 7 - wd) % 7);
        }
        for (k, set) in (0u32..).zip(self.nth) {
            for wd in bits(set) {
                let day = 1 + (wd + 7 - first) % 7 + 7 * k;
                if day <= len {
                    dow |= 1 << day;
                }
            }
        }

        let all_days = (1u64 << (len + 1)) - 2;
        let days = if self.dom_star || self.dow_star {
            dom & dow
        } else {
            dom | dow
        };
        days & all_days
    }
}

/// A weekday number or name with 7 folded onto Sunday.
fn weekday_value(text: &str) -> Result<u32, String> {
    Ok(parse_value(text, Field::DayOfWeek)? % 7)
}

/// A plain number in `min..=max` found inside the day-field item `item`.
fn number(
    text: &str,
    (min, max): (u32, u32),
    item: &str,
    what: &str,
    field: Field,
) -> Result<u32, String> {
    let name = field.name();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid {name} value {item:?}"));
    }
    match text.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "{name} {item}: {what} {text} out of range {min}-{max}"
        )),
    }
}
