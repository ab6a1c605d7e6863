//! Schedules in the words people use (`--in 10m`, `--at 2026-12-01T09:00:00+08:00`,
//! `--every 30s --count 5`, `--cron '0 3 * * *' --tz Europe/Berlin`) turned into the
//! fields of an add body.

use anyhow::{Context, bail};
use clap::Args;
use jiff::Timestamp;
use taskcenter_api::TaskSpec;
use taskcenter_core::duration::parse_duration_ms;

/// When a task fires. None of `--in`, `--at`, `--every`, `--cron`: once, now.
#[derive(Debug, Clone, Default, Args)]
pub struct ScheduleArgs {
    /// Fire once, this long from now: 90s, 10m, 1h30m, 2d.
    #[arg(long = "in", value_name = "DURATION", conflicts_with = "at")]
    pub in_: Option<String>,
    /// Fire once at this time: RFC 3339 (2026-12-01T09:00:00+08:00) or unix seconds.
    /// With --every or --cron: the first fire is not before it.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Fire every DURATION (whole seconds: 30s, 5m, 1h), the first time now or at --at/--in.
    #[arg(long, value_name = "DURATION", conflicts_with = "cron")]
    pub every: Option<String>,
    /// Fire on a crontab: 'MIN HOUR DAY MONTH WEEKDAY' (e.g. '0 3 * * *'), six fields
    /// with seconds first, or @hourly, @daily, @weekly, @monthly, '@every 5m'.
    #[arg(long, value_name = "EXPR")]
    pub cron: Option<String>,
    /// Time zone of --cron, an IANA name such as Europe/Berlin [default: the server's, UTC].
    #[arg(long, value_name = "ZONE", requires = "cron")]
    pub tz: Option<String>,
    /// Stop after this many fires (with --every or --cron).
    #[arg(long, value_name = "N")]
    pub count: Option<i64>,
    /// No fire after this time: RFC 3339, unix seconds, or a duration from now (2h).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

/// Unix seconds of `text`: an integer, an RFC 3339 time, or (if `durations`) a duration
/// from `now_ms`. Fractions of a second round up: nothing fires before the given time.
pub fn parse_time(flag: &str, text: &str, now_ms: i64, durations: bool) -> anyhow::Result<i64> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs);
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ceil_secs(ts.as_millisecond()));
    }
    if let Some(ms) = durations.then(|| parse_duration_ms(text).ok()).flatten() {
        return Ok(ceil_secs(now_ms.saturating_add(ms)));
    }
    let also = if durations {
        ", a duration like 2h"
    } else {
        ""
    };
    bail!(
        "{flag} {text:?}: expected an RFC 3339 time like 2026-12-01T09:00:00+08:00, \
         unix seconds{also}"
    )
}

fn ceil_secs(ms: i64) -> i64 {
    ms.div_euclid(1000) + i64::from(ms.rem_euclid(1000) > 0)
}

fn duration_ms(flag: &str, text: &str) -> anyhow::Result<i64> {
    parse_duration_ms(text).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

impl ScheduleArgs {
    /// The schedule fields of an add body, as of `now_ms`: with neither `--every` nor
    /// `--cron` the task fires once.
    pub fn apply(&self, spec: &mut TaskSpec, now_ms: i64) -> anyhow::Result<()> {
        if self.every.is_none() && self.cron.is_none() {
            if self.count.is_some() {
                bail!("--count needs --every or --cron: a once task fires once");
            }
            spec.kind = Some(1);
        }
        self.patch(spec, now_ms)
    }

    /// Only the fields these flags give, as of `now_ms`: what an update changes, the
    /// others keep their values.
    pub fn patch(&self, spec: &mut TaskSpec, now_ms: i64) -> anyhow::Result<()> {
        match (&self.in_, &self.at) {
            (Some(d), _) => {
                let ms = duration_ms("--in", d)?;
                spec.start_time = Some(ceil_secs(now_ms.saturating_add(ms)));
            }
            (None, Some(at)) => spec.start_time = Some(parse_time("--at", at, now_ms, false)?),
            (None, None) => {}
        }
        if let Some(every) = &self.every {
            let ms = duration_ms("--every", every)?;
            if ms < 1000 || ms % 1000 != 0 {
                bail!("--every {every:?}: the period must be whole seconds, at least 1s");
            }
            spec.kind = Some(2);
            spec.loop_time = Some(ms / 1000);
        } else if let Some(cron) = &self.cron {
            spec.kind = Some(3);
            spec.crontab = Some(cron.clone());
            spec.timezone.clone_from(&self.tz);
        }
        if self.count.is_some() {
            spec.loop_count = self.count;
        }
        if let Some(until) = &self.until {
            spec.end_time = Some(
                parse_time("--until", until, now_ms, true)
                    .context("--until sets the end of the schedule")?,
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_500;

    fn spec(args: ScheduleArgs) -> anyhow::Result<TaskSpec> {
        let mut spec = TaskSpec::default();
        args.apply(&mut spec, NOW)?;
        Ok(spec)
    }

    #[test]
    fn words_become_fields() -> anyhow::Result<()> {
        let s = spec(ScheduleArgs::default())?;
        assert_eq!((s.kind, s.start_time), (Some(1), None));
        let s = spec(ScheduleArgs {
            in_: Some("10m".into()),
            ..Default::default()
        })?;
        assert_eq!(s.start_time, Some(1_800_000_601));
        let s = spec(ScheduleArgs {
            at: Some("2026-12-01T09:00:00+08:00".into()),
            ..Default::default()
        })?;
        assert_eq!(s.start_time, Some(1_796_086_800));
        let s = spec(ScheduleArgs {
            every: Some("30s".into()),
            count: Some(5),
            ..Default::default()
        })?;
        assert_eq!(
            (s.kind, s.loop_time, s.loop_count),
            (Some(2), Some(30), Some(5))
        );
        let s = spec(ScheduleArgs {
            cron: Some("0 3 * * *".into()),
            tz: Some("Europe/Berlin".into()),
            until: Some("1h".into()),
            ..Default::default()
        })?;
        assert_eq!(s.kind, Some(3));
        assert_eq!(s.timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(s.end_time, Some(1_800_003_601));
        Ok(())
    }

    #[test]
    fn refuses_nonsense() {
        let bad = |args: ScheduleArgs| spec(args).is_err();
        assert!(bad(ScheduleArgs {
            every: Some("500ms".into()),
            ..Default::default()
        }));
        assert!(bad(ScheduleArgs {
            count: Some(3),
            ..Default::default()
        }));
        assert!(bad(ScheduleArgs {
            at: Some("tomorrow".into()),
            ..Default::default()
        }));
        assert!(bad(ScheduleArgs {
            in_: Some("10 minutes".into()),
            ..Default::default()
        }));
    }

    #[test]
    fn a_patch_sets_only_what_the_flags_give() -> anyhow::Result<()> {
        let mut s = TaskSpec::default();
        ScheduleArgs::default().patch(&mut s, NOW)?;
        assert_eq!(s, TaskSpec::default());
        let mut s = TaskSpec::default();
        ScheduleArgs {
            count: Some(7),
            ..Default::default()
        }
        .patch(&mut s, NOW)?;
        assert_eq!((s.kind, s.loop_count, s.start_time), (None, Some(7), None));
        let mut s = TaskSpec::default();
        ScheduleArgs {
            every: Some("1m".into()),
            in_: Some("1s".into()),
            ..Default::default()
        }
        .patch(&mut s, NOW)?;
        assert_eq!(
            (s.kind, s.loop_time, s.start_time, s.loop_count),
            (Some(2), Some(60), Some(1_800_000_002), None)
        );
        Ok(())
    }
}
