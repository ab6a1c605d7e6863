//! Output for people (aligned tables, local times, schedules in words) and for scripts
//! (the server's JSON answer, one document per command).

use std::io::Write;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use taskcenter_api::TaskObject;

/// Prints `value` as pretty JSON on stdout.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// A table whose columns are as wide as their widest cell; the last is not padded.
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with this header row.
    pub fn new(header: &[&str]) -> Self {
        Self {
            rows: vec![header.iter().map(|h| (*h).to_string()).collect()],
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The rendered text, one line per row.
    pub fn render(&self) -> String {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..cols)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if c + 1 < row.len() {
                    let pad = widths[c] - cell.chars().count() + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Prints the table on stdout.
    pub fn print(&self) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(self.render().as_bytes())?;
        Ok(())
    }
}

/// Unix ms as `2026-12-01 09:00:00 +08:00` in `tz` (milliseconds shown when not zero).
pub fn time_in(ms: i64, tz: &TimeZone) -> String {
    let Ok(ts) = Timestamp::from_millisecond(ms) else {
        return ms.to_string();
    };
    let zoned = ts.to_zoned_datetime(tz.clone());
    let fmt = if ms.rem_euclid(1000) == 0 {
        "%Y-%m-%d %H:%M:%S %:z"
    } else {
        "%Y-%m-%d %H:%M:%S%.3f %:z"
    };
    zoned.strftime(fmt).to_string()
}

/// Unix ms in the local time zone (`TZ`, else the system's).
pub fn time(ms: i64) -> String {
    time_in(ms, &TimeZone::system())
}

/// An optional time, `-` when absent.
pub fn opt_time(ms: Option<i64>) -> String {
    ms.map_or_else(|| "-".into(), time)
}

/// Seconds in the largest units that divide them: `90` → `1m30s`, `86400` → `1d`.
pub fn seconds(total: i64) -> String {
    if total <= 0 {
        return format!("{total}s");
    }
    let mut out = String::new();
    let mut rest = total;
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// The schedule of a task in words: `once`, `once at …`, `every 30s, 5 times`,
/// `cron 0 3 * * * (Europe/Berlin)`.
pub fn schedule(t: &TaskObject) -> String {
    let mut text = match t.kind {
        1 if t.start_time > 0 => format!("once at {}", time(t.start_time * 1000)),
        1 => "once".to_string(),
        2 => format!("every {}", seconds(t.loop_time)),
        3 => format!("cron {} ({})", t.crontab, t.timezone),
        other => format!("type {other}"),
    };
    if t.kind != 1 {
        if t.loop_count > 0 {
            text.push_str(&format!(", {} times", t.loop_count));
        }
        if t.start_time > 0 {
            text.push_str(&format!(", from {}", time(t.start_time * 1000)));
        }
    }
    if t.end_time > 0 {
        text.push_str(&format!(", until {}", time(t.end_time * 1000)));
    }
    text
}

/// Text cut to `max` characters, with `…` when cut; newlines shown as `\n`.
pub fn clip(text: &str, max: usize) -> String {
    let flat = text.replace('\n', "\\n");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let mut t = Table::new(&["ID", "NAME"]);
        t.row(vec!["1".into(), "long-name".into()]);
        t.row(vec!["12345".into(), "x".into()]);
        assert_eq!(t.render(), "ID     NAME\n1      long-name\n12345  x\n");
    }

    #[test]
    fn times_and_durations() {
        let utc = TimeZone::UTC;
        assert_eq!(time_in(0, &utc), "1970-01-01 00:00:00 +00:00");
        assert_eq!(time_in(1_500, &utc), "1970-01-01 00:00:01.500 +00:00");
        assert_eq!(seconds(90), "1m30s");
        assert_eq!(seconds(86_400), "1d");
        assert_eq!(seconds(30), "30s");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("a\nb", 10), "a\\nb");
    }
}
