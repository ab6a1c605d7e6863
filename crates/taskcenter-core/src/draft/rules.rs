//! The single-field rules of a task definition.

use jiff::tz::TimeZone;

use super::error::SpecError;
use super::limits::Limits;

/// The last second of year 9999 UTC: times past it are almost surely milliseconds sent
/// where seconds were meant, and would schedule a task tens of millennia away.
pub const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

/// Checks a task name: 1–128 chars of letters, digits and `_ - . : /`.
pub fn validate_name(name: &str) -> Result<(), SpecError> {
    let len = name.chars().count();
    if len == 0 || len > 128 {
        return Err(SpecError::invalid("name", "name must be 1-128 characters"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/')))
    {
        return Err(SpecError::invalid(
            "name",
            format!("name contains {bad:?}: only letters, digits and _ - . : / are allowed"),
        ));
    }
    Ok(())
}

pub(super) fn non_negative(field: &'static str, value: i64) -> Result<i64, SpecError> {
    if value < 0 {
        return Err(SpecError::invalid(
            field,
            format!("{field} must not be negative"),
        ));
    }
    Ok(value)
}

/// A time field in unix seconds (0 = none), refusing what cannot be seconds.
pub(super) fn unix_seconds(field: &'static str, value: i64) -> Result<i64, SpecError> {
    let value = non_negative(field, value)?;
    if value > MAX_UNIX_SECONDS {
        return Err(SpecError::invalid(
            field,
            format!(
                "{field} {value} is past the year 9999: it must be in unix seconds, not milliseconds"
            ),
        ));
    }
    Ok(value)
}

/// The ack deadline: 0 takes the configured default (older clients send 0 for "unset").
pub(super) fn max_runtime(value: i64, limits: &Limits) -> Result<i64, SpecError> {
    match value {
        v if v < 0 => Err(SpecError::invalid(
            "max_runtime",
            "max_runtime must not be negative (0 takes the default)",
        )),
        0 => Ok(limits.default_max_runtime_s),
        v => Ok(v),
    }
}

/// The canonical IANA name of a zone however it was typed (`europe/berlin` is
/// `Europe/Berlin`), so stored tasks and answers spell it one way.
pub(super) fn canonical_zone(text: &str, limits: &Limits) -> Result<String, SpecError> {
    let text = if text.is_empty() {
        limits.default_timezone.as_str()
    } else {
        text
    };
    let tz = TimeZone::get(text)
        .map_err(|_| SpecError::invalid("timezone", format!("unknown time zone {text:?}")))?;
    Ok(tz.iana_name().unwrap_or(text).to_owned())
}

/// Refuses a schedule that may fire twice within less than the minimum interval.
pub(super) fn min_interval(
    field: &'static str,
    shortest_ms: i64,
    limits: &Limits,
) -> Result<(), SpecError> {
    if shortest_ms < limits.min_interval_ms {
        return Err(SpecError::invalid(
            field,
            format!(
                "{field} fires every {shortest_ms} ms, more often than the minimum interval of {} ms",
                limits.min_interval_ms
            ),
        ));
    }
    Ok(())
}
