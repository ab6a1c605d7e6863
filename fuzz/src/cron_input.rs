//! One crontab fuzz input: parse random text in a random zone, then compute fire times
//! from a random instant. Nothing may panic; refusals are fine.
//!
//! Input layout (readable, so corpus files are plain crontabs): line 1 is the crontab,
//! line 2 the zone (default UTC), line 3 the instant in unix ms; without a number there,
//! the instant is made from the input's bytes so extreme values get tried too.

use taskcenter_core::cron::CronExpr;
use taskcenter_core::schedule::TaskPlan;
use taskcenter_core::{Limits, TaskDraft, TaskId, TaskKind};

/// A creation instant as a real clock gives it (1970 to 9999), from any number.
fn clock_reading(x: i64) -> i64 {
    x.rem_euclid(253_402_300_799_000)
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(3, '\n');
    let crontab = lines.next().unwrap_or_default();
    let zone = lines.next().map(str::trim).filter(|z| !z.is_empty());
    let instant = lines
        .next()
        .and_then(|t| t.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            data.iter()
                .fold(0i64, |acc, b| acc.rotate_left(8) ^ i64::from(*b))
        });
    let zone = zone.unwrap_or("UTC");
    let _ = CronExpr::canonical_text(crontab);
    if let Ok(expr) = CronExpr::parse(crontab, zone) {
        let _ = expr.shortest_gap_ms();
        if let CronExpr::Calendar(cron) = &expr {
            let mut after = instant;
            for _ in 0..3 {
                match cron.next_after(after) {
                    Some(next) => after = next,
                    None => break,
                }
            }
        }
    }
    let draft = TaskDraft {
        crontab: crontab.to_owned(),
        timezone: zone.to_owned(),
        ..TaskDraft::new("fuzz", TaskKind::Cron, "")
    };
    let now = clock_reading(instant);
    let limits = Limits::default();
    if let Ok(task) = draft
        .clone()
        .into_task(TaskId::from_bytes([0; 12]), now, &limits)
        && let (Ok(plan), Some(due)) = (TaskPlan::of(&task), task.next_fire_ms)
    {
        let _ = plan.fires_due(due, due.saturating_add(5_000), 0, 1000);
    }
    let _ = draft.preview(now, instant, 5, &limits);
}
