//! One crontab field (lists, ranges, steps and names) turned into a bit set of values.

/// Which crontab field is being read; decides bounds, names and error wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Field {
    /// The name used in error messages.
    pub(super) fn name(self) -> &'static str {
        match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        }
    }

    /// Smallest and largest value written in the field (day-of-week allows 7 for Sunday).
    fn bounds(self) -> (u32, u32) {
        match self {
            Field::Second | Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (0, 7),
        }
    }

    /// How many distinct values the field cycles through; the largest sensible step.
    fn cycle(self) -> u32 {
        match self {
            Field::Second | Field::Minute => 60,
            Field::Hour => 24,
            Field::DayOfMonth => 31,
            Field::Month => 12,
            Field::DayOfWeek => 7,
        }
    }

    /// Names accepted instead of numbers; `names()[i]` means the value `min + i`.
    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &MONTHS,
            Field::DayOfWeek => &WEEKDAYS,
            _ => &[],
        }
    }

    fn is_day(self) -> bool {
        matches!(self, Field::DayOfMonth | Field::DayOfWeek)
    }
}

/// Parses a whole comma-separated field without `L`, `W` or `#` into a bit set.
pub(super) fn parse_field(text: &str, field: Field) -> Result<u64, String> {
    text.split(',')
        .try_fold(0, |set, item| Ok(set | parse_item(item, field)?))
}

/// Parses one list item: `*`, `?` (day fields), `a`, `a-b`, each optionally `/step`.
///
/// `a/n` means `a` through the field's maximum in steps of `n`, as in cronie. In the
/// day-of-week field the value 7 is folded onto Sunday (bit 0).
pub(super) fn parse_item(item: &str, field: Field) -> Result<u64, String> {
    let name = field.name();
    if item.is_empty() {
        return Err(format!("{name} has an empty list item"));
    }
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => (range, Some(parse_step(step, field)?)),
        None => (item, None),
    };
    let (min, max) = field.bounds();
    let (low, high) = if range == "*" || range == "?" {
        if range == "?" && !field.is_day() {
            return Err("'?' is only allowed in day-of-month and day-of-week".into());
        }
        (min, max)
    } else if let Some((a, b)) = range.split_once('-') {
        let (low, high) = (parse_value(a, field)?, parse_value(b, field)?);
        if low > high {
            return Err(format!("{name} range {range:?} is reversed"));
        }
        (low, high)
    } else {
        let value = parse_value(range, field)?;
        (value, if step.is_some() { max } else { value })
    };
    let step = step.unwrap_or(1);
    let set = (low..=high)
        .step_by(step as usize)
        .fold(0u64, |set, v| set | 1 << v);
    Ok(match field {
        Field::DayOfWeek if set & 1 << 7 != 0 => (set & !(1 << 7)) | 1,
        _ => set,
    })
}

fn parse_step(text: &str, field: Field) -> Result<u32, String> {
    let name = field.name();
    let cycle = field.cycle();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid {name} step {text:?}"));
    }
    match text.parse::<u32>() {
        Ok(step) if (1..=cycle).contains(&step) => Ok(step),
        _ => Err(format!("{name} step {text} out of range 1-{cycle}")),
    }
}

/// Parses one value: a number within the field's bounds or one of its names.
pub(super) fn parse_value(text: &str, field: Field) -> Result<u32, String> {
    let name = field.name();
    let (min, max) = field.bounds();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(format!("{name} {text} out of range {min}-{max}")),
        };
    }
    let names = field.names();
    if let Some(index) = names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        // At most 12 names, so the index always fits.
        return Ok(min + index as u32);
    }
    Err(explain_bad_value(text, field))
}

/// Words the refusal of a value, pointing at `L`, `W` and `#` used in the wrong field.
fn explain_bad_value(text: &str, field: Field) -> String {
    let name = field.name();
    let up = text.to_ascii_uppercase();
    let has_prefix = |suffix: char| {
        up.strip_suffix(suffix)
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    if up.contains('#') && field != Field::DayOfWeek {
        "'#' is only allowed in day-of-week".into()
    } else if (up == "LW" || has_prefix('W')) && field != Field::DayOfMonth {
        "'W' is only allowed in day-of-month".into()
    } else if (up == "L" || up.starts_with("L-") || has_prefix('L')) && !field.is_day() {
        "'L' is only allowed in day-of-month and day-of-week".into()
    } else if !field.names().is_empty()
        && !up.is_empty()
        && up.bytes().all(|b| b.is_ascii_alphabetic())
    {
        let kind = if field == Field::Month {
            "month"
        } else {
            "weekday"
        };
        format!("unknown {kind} name {text:?}")
    } else {
        format!("invalid {name} value {text:?}")
    }
}

/// The positions of the set bits of `set`, lowest first.
pub(super) fn bits(mut set: u64) -> impl Iterator<Item = u32> {
    std::iter::from_fn(move || {
        (set != 0).then(|| {
            let bit = set.trailing_zeros();
            set &= set - 1;
            bit
        })
    })
}
