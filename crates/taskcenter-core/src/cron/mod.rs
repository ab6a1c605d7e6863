//! Crontab expressions with Vixie cron / cronie semantics.
//!
//! INTERFACE CONTRACT (used by `schedule.rs`; keep these signatures):
//! - `CronExpr::parse(text, default_tz) -> Result<CronExpr, CronError>`
//! - `CronExpr::Every(ms)` for `@every <duration>`; `CronExpr::Calendar(CronSchedule)` otherwise.
//! - `CronSchedule::next_after(after_ms) -> Option<i64>`: the first fire instant strictly
//!   after `after_ms` (unix ms), `None` if it never fires again.
//!
//! Layout: `parse.rs` reads the text (zone prefix, macros, field count), `fields.rs` turns
//! one field into a bit set, `days.rs` resolves the two day fields for a whole month,
//! `matcher.rs` finds the next matching local wall-clock second, and `next.rs` maps local
//! times to instants across DST transitions.

mod calendar;
mod days;
mod fields;
mod gap;
mod matcher;
mod next;
mod parse;
#[cfg(test)]
mod tests;

use jiff::tz::TimeZone;

use matcher::Fields;

/// Why a crontab expression was refused; the message is shown to the API caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CronError(pub String);

/// A parsed crontab field set bound to a time zone.
///
/// Fields are matched against local wall-clock time in that zone, so "9:00" stays 9:00
/// across DST changes; [`CronSchedule::next_after`] turns the matches into instants.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    fields: Fields,
    /// Neither the minute nor the hour field starts with `*`: cronie's "fixed-time" job,
    /// which fires once when its local time is skipped or repeated by a DST change.
    fixed_time: bool,
    tz: TimeZone,
    tz_name: String,
}

/// What a `crontab` string means.
#[derive(Debug, Clone)]
pub enum CronExpr {
    /// `@every <duration>`: a fixed period in milliseconds.
    Every(i64),
    /// A calendar expression.
    Calendar(CronSchedule),
}

impl CronExpr {
    /// Parses `text`; `default_tz` (IANA name) applies unless the text starts with `CRON_TZ=`.
    ///
    /// Accepts the 5-field form, a 6-field form with seconds first, the `@` macros and
    /// `@every <duration>`. Refuses anything malformed and any expression whose day and
    /// month fields can never match a real date (such as `0 0 30 2 *`), so a stored task
    /// always has a next fire time.
    ///
    /// Day-of-month also takes `L`, `L-n`, `LW` and `nW`; day-of-week takes `dL` and `d#k`
    /// (k = 1–5), with numbers or names for `d`. `nW` never leaves the month: when n is
    /// past the month's end (`30W` in February) it is clamped to the last day first and
    /// then moved to the nearest weekday, so `30W` in February acts like `LW`.
    pub fn parse(text: &str, default_tz: &str) -> Result<Self, CronError> {
        parse::parse(text, default_tz)
    }

    /// A lower bound of the time between two consecutive fires, in milliseconds.
    pub fn shortest_gap_ms(&self) -> i64 {
        match self {
            Self::Every(ms) => *ms,
            Self::Calendar(cron) => cron.shortest_gap_ms(),
        }
    }

    /// `text` with the zone of a `CRON_TZ=` prefix spelled as its canonical IANA name
    /// (`CRON_TZ=europe/berlin` becomes `CRON_TZ=Europe/Berlin`), so a stored crontab
    /// names its zone the way answers do; any other text is returned as it is.
    pub fn canonical_text(text: &str) -> String {
        parse::canonical_text(text).unwrap_or_else(|| text.to_owned())
    }
}

impl CronSchedule {
    /// The first fire instant (unix ms, whole seconds) strictly after `after_ms`.
    ///
    /// `None` when nothing fires within the search horizon of about a century, which for
    /// an expression accepted by [`CronExpr::parse`] only happens near the end of the
    /// representable time range.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        self.find_next(after_ms)
    }

    /// Whether this is a cronie "fixed-time" job (neither minute nor hour starts with `*`).
    ///
    /// Such a job fires once at the end of a DST gap that swallows its local time and only
    /// in the first pass of a repeated hour; wildcard jobs skip the gap and fire in both.
    pub fn is_fixed_time(&self) -> bool {
        self.fixed_time
    }

    /// The IANA name of the zone the fields are matched in (canonical spelling when known).
    pub fn timezone_name(&self) -> &str {
        &self.tz_name
    }
}
