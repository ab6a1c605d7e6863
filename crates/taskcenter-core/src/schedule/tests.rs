//! Schedule rules on fixed instants.

use super::*;
use crate::id::IdGenerator;
use crate::spec::{Limits, TaskSpec};

const NOW: i64 = 1_800_000_000_000; // 2027-01-15T08:00:00Z

fn task(spec: TaskSpec) -> Task {
    spec.into_task(IdGenerator::new().next(NOW), NOW, &Limits::default())
        .expect("valid spec")
}

fn looping(period_s: i64) -> TaskSpec {
    TaskSpec {
        name: Some("t".into()),
        kind: Some(2),
        data: Some(String::new()),
        loop_time: Some(period_s),
        ..TaskSpec::default()
    }
}

#[test]
fn once_fires_now_or_at_start() {
    let now_task = task(TaskSpec {
        name: Some("t".into()),
        kind: Some(1),
        data: Some("x".into()),
        ..TaskSpec::default()
    });
    assert_eq!(now_task.next_fire_ms, Some(NOW));
    let later = task(TaskSpec {
        start_time: Some(NOW / 1000 + 90),
        ..now_task_spec()
    });
    assert_eq!(later.next_fire_ms, Some(NOW + 90_000));
    let past_start = task(TaskSpec {
        start_time: Some(NOW / 1000 - 90),
        ..now_task_spec()
    });
    assert_eq!(past_start.next_fire_ms, Some(NOW));
    let plan = TaskPlan::of(&later).expect("plan");
    let fp = plan.fires_due(NOW + 90_000, NOW + 95_000, 0, 1000);
    assert_eq!(fp.fire_times, vec![NOW + 90_000]);
    assert_eq!(fp.next, None);
}

fn now_task_spec() -> TaskSpec {
    TaskSpec {
        name: Some("t".into()),
        kind: Some(1),
        data: Some("x".into()),
        ..TaskSpec::default()
    }
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
    let t = task(TaskSpec {
        start_time: Some(NOW / 1000 + 5),
        ..looping(10)
    });
    assert_eq!(t.next_fire_ms, Some(NOW + 5_000));
    // A start in the past: the grid is anchored there; the first fire is the first point
    // not before creation.
    let t = task(TaskSpec {
        start_time: Some(NOW / 1000 - 25),
        ..looping(10)
    });
    assert_eq!(t.next_fire_ms, Some(NOW + 5_000));
}

#[test]
fn loop_count_stops_the_task() {
    let t = task(TaskSpec {
        loop_count: Some(3),
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
    let t = task(TaskSpec {
        end_time: Some(NOW / 1000 + 25),
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
    let t = task(TaskSpec {
        end_time: Some(NOW / 1000 + 20),
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
    let t = task(TaskSpec {
        misfire: Some("all".into()),
        ..looping(10)
    });
    let plan = TaskPlan::of(&t).expect("plan");
    let fp = plan.fires_due(NOW, NOW + 25_000, 0, 1000);
    assert_eq!(fp.fire_times, vec![NOW, NOW + 10_000, NOW + 20_000]);
    assert_eq!(fp.next, Some(NOW + 30_000));
}

#[test]
fn misfire_all_is_capped_and_respects_count() {
    let t = task(TaskSpec {
        misfire: Some("all".into()),
        ..looping(1)
    });
    let plan = TaskPlan::of(&t).expect("plan");
    let fp = plan.fires_due(NOW, NOW + 5_000_000, 0, 1000);
    assert_eq!(fp.fire_times.len(), MISFIRE_ALL_CAP);
    let counted = task(TaskSpec {
        misfire: Some("all".into()),
        loop_count: Some(4),
        ..looping(1)
    });
    let plan = TaskPlan::of(&counted).expect("plan");
    let fp = plan.fires_due(NOW, NOW + 60_000, 1, 1000);
    assert_eq!(fp.fire_times, vec![NOW, NOW + 1000, NOW + 2000]);
    assert_eq!(fp.next, None);
}

#[test]
fn misfire_skip_drops_late_fires() {
    let t = task(TaskSpec {
        misfire: Some("skip".into()),
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
    let counted = task(TaskSpec {
        loop_count: Some(2),
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
