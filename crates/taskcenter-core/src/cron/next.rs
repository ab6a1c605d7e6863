//! From local matches to instants: walks the zone's offset segments forward in instant
//! order and applies cronie's DST rules for fixed-time and wildcard jobs.
//!
//! Between two transitions the offset is constant, so local time and instants move
//! together and the first local match in the segment is the first instant. A fall-back
//! segment starts at an earlier local time than its predecessor ended (the repeated hour);
//! a spring-forward segment starts later (the skipped hour). Walking segments, rather than
//! local time, yields candidates in instant order even when local order differs.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::CronSchedule;
use super::calendar::DAY_SECS;
use super::matcher::Fields;

/// How far ahead to look before giving up: a century covers every expression that
/// `parse` accepts (the sparsest, like Feb 29 on a given weekday, recur within 40 years).
const HORIZON_SECS: i64 = 100 * 366 * DAY_SECS;

/// A transition into the current segment: when it happened and the offset before it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    at: i64,
    offset_before: i64,
}

impl CronSchedule {
    /// See [`CronSchedule::next_after`].
    pub(super) fn find_next(&self, after_ms: i64) -> Option<i64> {
        let start = after_ms.div_euclid(1000).checked_add(1)?;
        let horizon = start.saturating_add(HORIZON_SECS);
        let local_limit = horizon.saturating_add(2 * DAY_SECS);
        let start_ts = Timestamp::from_second(start).ok()?;

        let mut offset = offset_at(&self.tz, start_ts);
        let mut entry = Timestamp::from_second(start + 1)
            .ok()
            .and_then(|ts| self.tz.preceding(ts).next())
            .map(|tr| {
                let at = tr.timestamp().as_second();
                let before =
                    Timestamp::from_second(at - 1).map_or(offset, |ts| offset_at(&self.tz, ts));
                Entry {
                    at,
                    offset_before: before,
                }
            });
        let mut transitions = self.tz.following(start_ts);
        let mut cursor = start;
        let mut memo = Memo::default();
        loop {
            let next = transitions
                .next()
                .map(|tr| (tr.timestamp().as_second(), i64::from(tr.offset().seconds())));
            let segment_end = next.map_or(i64::MAX, |(at, _)| at);
            let (from, gap) = self.segment_start(cursor, offset, entry);
            let found = memo.next_local(&self.fields, from, local_limit);
            if let Some(local) = found.filter(|&l| l < segment_end.saturating_add(offset)) {
                let instant = match gap {
                    Some(gap) if local < gap.end_local => gap.at,
                    _ => local - offset,
                };
                return instant.checked_mul(1000);
            }
            let (at, offset_after) = next?;
            if at > horizon {
                return None;
            }
            entry = Some(Entry {
                at,
                offset_before: offset,
            });
            offset = offset_after;
            cursor = at;
        }
    }

    /// Where to start matching in the segment that has `offset` from instant `cursor` on,
    /// and, for a fixed-time job right after a spring-forward, the skipped local range
    /// whose matches all fire at the transition instant.
    fn segment_start(&self, cursor: i64, offset: i64, entry: Option<Entry>) -> (i64, Option<Gap>) {
        let from = cursor + offset;
        match entry {
            // Fall back: a fixed-time job already fired in the first pass of the
            // repeated local times, so skip them.
            Some(e) if self.fixed_time && e.offset_before > offset => {
                (from.max(e.at + e.offset_before), None)
            }
            // Spring forward that has not happened yet at `cursor`: the skipped local
            // times fire once, at the first valid instant after the gap.
            Some(e) if self.fixed_time && e.offset_before < offset && e.at >= cursor => {
                let gap = Gap {
                    at: e.at,
                    end_local: e.at + offset,
                };
                (e.at + e.offset_before, Some(gap))
            }
            _ => (from, None),
        }
    }
}

/// Local times skipped by a spring-forward transition at instant `at`, ending (exclusive)
/// at local second `end_local`.
#[derive(Debug, Clone, Copy)]
struct Gap {
    at: i64,
    end_local: i64,
}

/// The UTC offset in seconds in effect at `ts`.
fn offset_at(tz: &TimeZone, ts: Timestamp) -> i64 {
    i64::from(tz.to_offset(ts).seconds())
}

/// Remembers the last local search so that segments with no match (e.g. a sparse
/// Feb 29 job across dozens of DST transitions) reuse one scan instead of repeating it.
#[derive(Debug, Default)]
struct Memo {
    last: Option<(i64, Option<i64>)>,
}

impl Memo {
    fn next_local(&mut self, fields: &Fields, from: i64, limit: i64) -> Option<i64> {
        if let Some((last_from, found)) = self.last {
            // Nothing matched in [last_from, found), so the answer from `from` is the same.
            if from >= last_from && found.is_none_or(|f| f >= from) {
                return found;
            }
        }
        let found = fields.next_local(from, limit);
        self.last = Some((from, found));
        found
    }
}
