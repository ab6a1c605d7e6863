//! Reading a crontab string: the `CRON_TZ=` prefix, `@` macros, `@every`, the 5- or
//! 6-field forms, and the final "can it ever fire" check.

use jiff::tz::TimeZone;

use super::days::DaySpec;
use super::fields::{Field, parse_field};
use super::matcher::Fields;
use super::{CronError, CronExpr, CronSchedule};
use crate::duration::parse_duration_ms;

/// The calendar macros and the 5-field expressions they stand for.
const MACROS: [(&str, &str); 7] = [
    ("yearly", "0 0 1 1 *"),
    ("annually", "0 0 1 1 *"),
    ("monthly", "0 0 1 * *"),
    ("weekly", "0 0 * * 0"),
    ("daily", "0 0 * * *"),
    ("midnight", "0 0 * * *"),
    ("hourly", "0 * * * *"),
];

/// Parses `text` with `default_tz` unless a `CRON_TZ=` prefix names another zone.
pub(super) fn parse(text: &str, default_tz: &str) -> Result<CronExpr, CronError> {
    parse_expr(text, default_tz)
        .map_err(|reason| CronError(format!("invalid crontab {text:?}: {reason}")))
}

fn parse_expr(text: &str, default_tz: &str) -> Result<CronExpr, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty expression".into());
    }
    let (zone, body) = split_zone(text, default_tz)?;
    let tz = TimeZone::get(zone).map_err(|_| format!("unknown time zone {zone:?}"))?;
    let tz_name = tz.iana_name().unwrap_or(zone).to_owned();
    let body = match body.strip_prefix('@') {
        Some(word_and_rest) => match expand_macro(word_and_rest)? {
            Macro::Every(ms) => return Ok(CronExpr::Every(ms)),
            Macro::Fields(fields) => fields,
        },
        None => body,
    };
    let words: Vec<&str> = body.split_whitespace().collect();
    let (second, [minute, hour, dom, month, dow]) = match *words.as_slice() {
        [minute, hour, dom, month, dow] => ("0", [minute, hour, dom, month, dow]),
        [second, minute, hour, dom, month, dow] => (second, [minute, hour, dom, month, dow]),
        _ => return Err(format!("expected 5 or 6 fields, got {}", words.len())),
    };
    let fields = Fields {
        seconds: parse_field(second, Field::Second)?,
        minutes: parse_field(minute, Field::Minute)?,
        hours: parse_field(hour, Field::Hour)?,
        months: parse_field(month, Field::Month)?,
        days: DaySpec::parse(dom, dow)?,
    };
    if fields.never_fires() {
        return Err("it can never fire: no date matches its day and month fields".into());
    }
    let fixed_time = !minute.starts_with('*') && !hour.starts_with('*');
    Ok(CronExpr::Calendar(CronSchedule {
        fields,
        fixed_time,
        tz,
        tz_name,
    }))
}

/// Splits off a `CRON_TZ=Zone/Name ` prefix; without one the zone is `default_tz`.
fn split_zone<'a>(text: &'a str, default_tz: &'a str) -> Result<(&'a str, &'a str), String> {
    let Some(rest) = text.strip_prefix("CRON_TZ=") else {
        return Ok((default_tz, text));
    };
    match rest.split_once(char::is_whitespace) {
        Some((zone, body)) if !zone.is_empty() => Ok((zone, body.trim_start())),
        _ if rest.is_empty() || rest.starts_with(char::is_whitespace) => {
            Err("CRON_TZ= needs a zone name".into())
        }
        _ => Err("CRON_TZ=<zone> must be followed by a schedule".into()),
    }
}

/// The text with its `CRON_TZ=` zone canonical, `None` when there is nothing to rewrite.
pub(super) fn canonical_text(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let (zone, body) = split_zone(trimmed, "").ok()?;
    if zone.is_empty() {
        return None;
    }
    let name = TimeZone::get(zone).ok()?.iana_name()?.to_owned();
    Some(format!("CRON_TZ={name} {body}"))
}

/// What an `@` macro stands for.
enum Macro {
    Every(i64),
    Fields(&'static str),
}

/// Expands the text after `@`: a calendar macro or `every <duration>`.
fn expand_macro(text: &str) -> Result<Macro, String> {
    let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let rest = rest.trim();
    let word = word.to_ascii_lowercase();
    if word == "every" {
        if rest.is_empty() {
            return Err("@every needs a duration, e.g. @every 1h30m".into());
        }
        let ms = parse_duration_ms(rest).map_err(|e| format!("@every: {e}"))?;
        if ms <= 0 {
            return Err("@every duration must be greater than zero".into());
        }
        return Ok(Macro::Every(ms));
    }
    let Some(&(_, fields)) = MACROS.iter().find(|(name, _)| *name == word) else {
        return Err(format!("unknown macro \"@{word}\""));
    };
    if !rest.is_empty() {
        return Err(format!("unexpected text {rest:?} after @{word}"));
    }
    Ok(Macro::Fields(fields))
}
