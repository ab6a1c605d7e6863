//! Schedule rules on fixed instants.

use super::*;
use crate::draft::{Limits, TaskDraft};
use crate::id::IdGenerator;

const NOW: i64 = 1_800_000_000_000; // 2027-01-15T08:00:00Z

fn task(draft: TaskDraft) -> Task {
    draft
        .into_task(IdGenerator::new().next(NOW), NOW, &Limits::default())
        .expect("valid spec")
}

fn looping(period_s: i64) -> TaskDraft {
    TaskDraft {
        loop_time_s: period_s,
        ..TaskDraft::new("t", TaskKind::Loop, "")
    }
}

#[test]
fn once_fires_now_or_at_start() {
    let now_task = task(now_task_draft());
    assert_eq!(now_task.next_fire_ms, Some(NOW));
    let later = task(TaskDraft {
        start_time_s: NOW / 1000 + 90,
        ..now_task_draft()
    });
    assert_eq!(later.next_fire_ms, Some(NOW + 90_000));
    let past_start = task(TaskDraft {
        start_time_s: NOW / 1000 - 90,
        ..now_task_draft()
    });
    assert_eq!(past_start.next_fire_ms, Some(NOW));
    let plan = TaskPlan::of(&later).expect("plan");
    let fp = plan.fires_due(NOW + 90_000, NOW + 95_000, 0, 1000);
    assert_eq!(fp.fire_times, vec![NOW + 90_000]);
    assert_eq!(fp.next, None);
}

fn now_task_draft() -> TaskDraft {
    TaskDraft::new("t", TaskKind::Once, "x")
}

#[test]
fn loop_first_fire_is_t0_and_grid_never_drifts() {
    let t = task(looping(30));
    assert_eq!(t.next_fire_ms, Some(NOW));
    let plan = TaskPlan::of(&t).expect("plan");
    // Fired 700 ms late: the next is still on the grid.
    let fp = plan.fires_due(NOW, NOW + 700, 0, 1000);
    assert_eq!(fp.fire_times, vec![NOW]);
    assert_eq!(fp.next, Some(NOW + 30_000));
    let fp = plan.fires_due(NOW + 30_000, NOW + 30_001, 1, 1000);
    assert_eq!(fp.next, Some(NOW + 60_000));
}

#[test]
fn loop_with_start_time_uses_it_as_origin() {
    let t = task(TaskDraft {
        start_time_s: NOW / 1000 + 5,
        ..looping(10)
    });
    assert_eq!(t.next_fire_ms, Some(NOW + 5_000));
    // A start in the past: the grid is anchored there; the first fire is the first point
    // not before creation.
    let t = task(TaskDraft {
        start_time_s: NOW / 1000 - 25,
        ..looping(10)
    });
    assert_eq!(t.next_fire_ms, Some(NOW + 5_000));
}

#[test]
fn loop_count_stops_the_task() {
    let t = task(TaskDraft {
        loop_count: 3,
        ..looping(1)
    });
    let plan = TaskPlan::of(&t).expect("plan");
    let mut due = t.next_fire_ms;
    let mut count = 0;
    let mut fired = Vec::new();
    while let Some(d) = due {
        let fp = plan.fires_due(d, d, count, 1000);
        count += fp.fire_times.len() as i64;
        fired.extend(fp.fire_times);
        due = fp.next;
    }
    assert_eq!(fired, vec![NOW, NOW + 1000, NOW + 2000]);
}

#[test]
fn end_time_bounds_fires() {
    let t = task(TaskDraft {
        end_time_s: NOW / 1000 + 25,
        ..looping(10)
    });
    let plan = TaskPlan::of(&t).expect("plan");
    assert_eq!(
        plan.preview(NOW, NOW - 1, 10),
        vec![NOW, NOW + 10_000, NOW + 20_000]
    );
    let fp = plan.fires_due(NOW + 20_000, NOW + 20_000, 2, 1000);
    assert_eq!(fp.next, None);
}

#[test]
fn end_time_at_a_grid_point_includes_it() {
    let t = task(TaskDraft {
        end_time_s: NOW / 1000 + 20,
        ..looping(10)
    });
    let plan = TaskPlan::of(&t).expect("plan");
    assert_eq!(
        plan.preview(NOW, NOW - 1, 10),
        vec![NOW, NOW + 10_000, NOW + 20_000]
    );
}

#[test]
fn misfire_coalesce_fires_once_with_latest_time() {
    let t = task(looping(10));
    let plan = TaskPlan::of(&t).expect("plan");
    // Down from NOW to NOW + 55 s: 6 grid points missed.
    let fp = plan.fires_due(NOW, NOW + 55_000, 0, 1000);
    assert_eq!(fp.fire_times, vec![NOW + 50_000]);
    assert_eq!(fp.next, Some(NOW + 60_000));
}

#[test]
fn misfire_all_fires_each_missed_time() {
    let t = task(TaskDraft {
        misfire: MisfirePolicy::All,
        ..looping(10)
    });
    let plan = TaskPlan::of(&t).expect("plan");
    let fp = plan.fires_due(NOW, NOW + 25_000, 0, 1000);
    assert_eq!(fp.fire_times, vec![NOW, NOW + 10_000, NOW + 20_000]);
    assert_eq!(fp.next, Some(NOW + 30_000));
}

#[test]
fn misfire_all_is_capped_and_respects_count() {
    let t = task(TaskDraft {
        misfire: MisfirePolicy::All,
        ..looping(1)
    });
    let plan = TaskPlan::of(&t).expect("plan");
    let fp = plan.fires_due(NOW, NOW + 5_000_000, 0, 1000);
    assert_eq!(fp.fire_times.len(), MISFIRE_ALL_CAP);
    let counted = task(TaskDraft {
        misfire: MisfirePolicy::All,
        loop_count: 4,
        ..looping(1)
    });
    let plan = TaskPlan::of(&counted).expect("plan");
    let fp = plan.fires_due(NOW, NOW + 60_000, 1, 1000);
    assert_eq!(fp.fire_times, vec![NOW, NOW + 1000, NOW + 2000]);
    assert_eq!(fp.next, None);
}

#[test]
fn misfire_skip_drops_late_fires() {
    let t = task(TaskDraft {
        misfire: MisfirePolicy::Skip,
        ..looping(10)
    });
    let plan = TaskPlan::of(&t).expect("plan");
    let fp = plan.fires_due(NOW, NOW + 35_500, 0, 1000);
    assert!(fp.fire_times.is_empty());
    assert_eq!(fp.next, Some(NOW + 40_000));
    let fp = plan.fires_due(NOW, NOW + 30_400, 0, 1000);
    assert_eq!(fp.fire_times, vec![NOW + 30_000]);
}

#[test]
fn preview_from_the_past_and_future() {
    let t = task(looping(60));
    let plan = TaskPlan::of(&t).expect("plan");
    assert_eq!(
        plan.preview(NOW, NOW - 10_000, 3),
        vec![NOW, NOW + 60_000, NOW + 120_000]
    );
    assert_eq!(
        plan.preview(NOW, NOW + 60_000, 2),
        vec![NOW + 120_000, NOW + 180_000]
    );
    let counted = task(TaskDraft {
        loop_count: 2,
        ..looping(60)
    });
    let plan = TaskPlan::of(&counted).expect("plan");
    assert_eq!(plan.preview(NOW, NOW + 1, 5), vec![NOW + 60_000]);
}

#[test]
fn grid_next_after_is_strict() {
    let g = Schedule::Grid {
        t0_ms: 1000,
        period_ms: 500,
    };
    assert_eq!(g.next_after(0), Some(1000));
    assert_eq!(g.next_after(1000), Some(1500));
    assert_eq!(g.next_after(1499), Some(1500));
}
