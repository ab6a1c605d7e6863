//! The rules a task definition must pass, one by one.

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::id::IdGenerator;

const NOW: i64 = 1_800_000_000_000;

fn base() -> TaskDraft {
    TaskDraft::new("order.timeout", TaskKind::Once, "{}")
}

fn looping(period_s: i64) -> TaskDraft {
    TaskDraft {
        loop_time_s: period_s,
        ..TaskDraft::new("t", TaskKind::Loop, "")
    }
}

fn cron(text: &str) -> TaskDraft {
    TaskDraft {
        crontab: text.into(),
        ..TaskDraft::new("t", TaskKind::Cron, "")
    }
}

fn check_with(draft: TaskDraft, limits: &Limits) -> Result<Task, SpecError> {
    let clock = ManualClock::new(NOW);
    draft.into_task(
        IdGenerator::new().next(clock.now_ms()),
        clock.now_ms(),
        limits,
    )
}

fn check(draft: TaskDraft) -> Result<Task, SpecError> {
    check_with(draft, &Limits::default())
}

fn refusal(draft: TaskDraft) -> SpecError {
    check(draft).expect_err("must be refused")
}

fn field_of(draft: TaskDraft) -> Option<&'static str> {
    refusal(draft).field
}

#[test]
fn a_plain_once_task_is_accepted() {
    let t = check(base()).expect("valid");
    assert_eq!(t.name, "order.timeout");
    assert_eq!(t.max_runtime, 60);
    assert_eq!(t.timezone, "UTC");
    assert_eq!(t.status, TaskStatus::Scheduled);
    assert_eq!(t.next_fire_ms, Some(NOW));
}

#[test]
fn names_follow_the_charset_and_length() {
    for good in ["a", "a_b-c.d:e/f", "X9", &"n".repeat(128)] {
        let name = good.to_string();
        assert!(check(TaskDraft { name, ..base() }).is_ok(), "{good}");
    }
    for bad in ["", "a b", "a|b", "a*", &"n".repeat(129), "a\nb", "tab\t"] {
        let name = bad.to_string();
        assert_eq!(
            field_of(TaskDraft { name, ..base() }),
            Some("name"),
            "{bad:?}"
        );
    }
}

#[test]
fn data_may_be_empty_and_has_a_size_limit() {
    assert!(check(TaskDraft::new("a", TaskKind::Once, "")).is_ok());
    assert!(check(TaskDraft::new("a", TaskKind::Once, "x".repeat(256 * 1024))).is_ok());
    let err = refusal(TaskDraft::new(
        "a",
        TaskKind::Once,
        "x".repeat(256 * 1024 + 1),
    ));
    assert_eq!(err.kind, SpecErrorKind::TooLarge);
    assert_eq!(err.field, Some("data"));
}

#[test]
fn loop_needs_a_positive_loop_time() {
    assert_eq!(field_of(looping(0)), Some("loop_time"));
    assert_eq!(field_of(looping(-3)), Some("loop_time"));
    assert_eq!(check(looping(5)).expect("valid").loop_time, 5);
}

#[test]
fn crontab_is_required_for_type_three() {
    assert_eq!(field_of(cron("")), Some("crontab"));
    assert_eq!(field_of(cron("  ")), Some("crontab"));
    assert_eq!(field_of(cron("61 * * * *")), Some("crontab"));
    assert_eq!(field_of(cron("0 0 31 2 *")), Some("crontab"));
}

#[test]
fn negative_counts_and_times_are_refused() {
    let cases = [
        (
            "loop_count",
            TaskDraft {
                loop_count: -1,
                ..base()
            },
        ),
        (
            "start_time",
            TaskDraft {
                start_time_s: -1,
                ..base()
            },
        ),
        (
            "end_time",
            TaskDraft {
                end_time_s: -1,
                ..base()
            },
        ),
        (
            "max_runtime",
            TaskDraft {
                max_runtime_s: -1,
                ..base()
            },
        ),
    ];
    for (field, draft) in cases {
        assert_eq!(field_of(draft), Some(field));
    }
}

#[test]
fn max_runtime_zero_takes_the_configured_default() {
    assert_eq!(check(base()).expect("valid").max_runtime, 60);
    let limits = Limits {
        default_max_runtime_s: 90,
        ..Limits::default()
    };
    assert_eq!(check_with(base(), &limits).expect("valid").max_runtime, 90);
    let given = TaskDraft {
        max_runtime_s: 7,
        ..base()
    };
    assert_eq!(check(given).expect("valid").max_runtime, 7);
}

#[test]
fn times_past_year_9999_are_refused_as_not_unix_seconds() {
    let ms = 1_796_449_134_000_000;
    for (field, draft) in [
        (
            "start_time",
            TaskDraft {
                start_time_s: ms,
                ..base()
            },
        ),
        (
            "end_time",
            TaskDraft {
                end_time_s: ms,
                ..base()
            },
        ),
    ] {
        let err = refusal(draft);
        assert_eq!(err.field, Some(field));
        assert!(err.msg.contains("unix seconds"), "{}", err.msg);
        assert!(err.msg.contains(field), "{}", err.msg);
    }
    let last = TaskDraft {
        start_time_s: MAX_UNIX_SECONDS,
        ..base()
    };
    assert_eq!(
        check(last)
            .expect("the last second of 9999 is fine")
            .start_time,
        MAX_UNIX_SECONDS
    );
    let past = TaskDraft {
        start_time_s: MAX_UNIX_SECONDS + 1,
        ..base()
    };
    assert_eq!(field_of(past), Some("start_time"));
}

#[test]
fn end_time_must_be_future_and_after_start() {
    let now_s = NOW / 1000;
    let past = refusal(TaskDraft {
        end_time_s: now_s - 1,
        ..base()
    });
    assert_eq!(
        (past.field, past.kind),
        (Some("end_time"), SpecErrorKind::NeverFires)
    );
    let equal = TaskDraft {
        start_time_s: now_s + 100,
        end_time_s: now_s + 100,
        ..base()
    };
    assert_eq!(field_of(equal), Some("end_time"));
    let ok = TaskDraft {
        start_time_s: now_s + 10,
        end_time_s: now_s + 100,
        ..base()
    };
    assert!(check(ok).is_ok());
}

#[test]
fn timezones_are_checked_and_stored_canonically() {
    let zone = |tz: &str| TaskDraft {
        timezone: tz.into(),
        ..base()
    };
    assert_eq!(field_of(zone("Mars/Base")), Some("timezone"));
    for typed in ["Europe/Berlin", "europe/berlin", "EUROPE/BERLIN"] {
        assert_eq!(check(zone(typed)).expect("valid").timezone, "Europe/Berlin");
    }
    let prefixed = check(cron("CRON_TZ=america/new_york 0 9 * * *")).expect("valid");
    assert_eq!(prefixed.crontab, "CRON_TZ=America/New_York 0 9 * * *");
    assert_eq!(
        check(cron("0 9 * * *")).expect("valid").crontab,
        "0 9 * * *"
    );
}

#[test]
fn one_minimum_interval_for_loops_every_and_crontabs() {
    let err = refusal(cron("@every 1ms"));
    assert_eq!(err.field, Some("crontab"));
    assert!(err.msg.contains("minimum interval"), "{}", err.msg);
    assert_eq!(field_of(cron("@every 999ms")), Some("crontab"));
    assert!(check(cron("@every 1s")).is_ok());
    assert!(
        check(cron("* * * * * *")).is_ok(),
        "every second is the minimum"
    );
    assert!(check(looping(1)).is_ok());

    let limits = Limits {
        min_interval_ms: 10_000,
        ..Limits::default()
    };
    assert_eq!(
        check_with(looping(5), &limits)
            .expect_err("5 s < 10 s")
            .field,
        Some("loop_time")
    );
    assert!(check_with(looping(10), &limits).is_ok());
    assert!(check_with(cron("@every 5s"), &limits).is_err());
    assert!(check_with(cron("*/5 * * * * *"), &limits).is_err());
    assert!(check_with(cron("*/10 * * * * *"), &limits).is_ok());
    assert!(check_with(cron("* * * * *"), &limits).is_ok());
}

#[test]
fn the_draft_of_a_task_builds_the_same_task() {
    let task = check(TaskDraft {
        loop_count: 4,
        end_time_s: NOW / 1000 + 3600,
        max_runtime_s: 9,
        ack: true,
        timezone: "Asia/Tokyo".into(),
        misfire: MisfirePolicy::Skip,
        ..looping(30)
    })
    .expect("valid");
    let again = TaskDraft::of(&task)
        .into_task(task.id, NOW, &Limits::default())
        .expect("still valid");
    assert_eq!(again, task);
}

#[test]
fn every_previews_from_the_given_instant() {
    let limits = Limits::default();
    let from = NOW + 86_400_000 + 123;
    let got = cron("@every 1h")
        .preview(NOW, from, 3, &limits)
        .expect("valid");
    assert_eq!(
        got,
        vec![from + 3_600_000, from + 7_200_000, from + 10_800_000]
    );
    let past = NOW - 5_000;
    let got = cron("@every 2s")
        .preview(NOW, past, 2, &limits)
        .expect("valid");
    assert_eq!(got, vec![past + 2000, past + 4000]);
    let anchored = TaskDraft {
        start_time_s: NOW / 1000,
        ..cron("@every 1h")
    };
    let got = anchored.preview(NOW, from, 1, &limits).expect("valid");
    assert_eq!(got, vec![NOW + 25 * 3_600_000], "start_time keeps its grid");
}

#[test]
fn loop_preview_far_ahead_is_exact_with_count_and_window() {
    let limits = Limits::default();
    let start_s = NOW / 1000 + 10;
    let counted = TaskDraft {
        start_time_s: start_s,
        loop_count: 5_000_000,
        ..looping(1)
    };
    // Fire k is at start + k s; the last one (k = 4,999,999) lies 57.9 days ahead.
    let last = start_s * 1000 + 4_999_999_000;
    let got = counted
        .clone()
        .preview(NOW, last - 2_500, 10, &limits)
        .expect("valid");
    assert_eq!(got, vec![last - 2000, last - 1000, last]);
    assert_eq!(
        counted.preview(NOW, last, 10, &limits).expect("valid"),
        Vec::<i64>::new()
    );
    let windowed = TaskDraft {
        loop_count: 3_000_000,
        end_time_s: NOW / 1000 + 2_000_000,
        ..looping(1)
    };
    let got = windowed
        .preview(NOW, NOW + 1_999_998_500, 10, &limits)
        .expect("valid");
    assert_eq!(got, vec![NOW + 1_999_999_000, NOW + 2_000_000_000]);
}

#[test]
fn a_schedule_that_never_fires_previews_as_empty() {
    let once = TaskDraft {
        end_time_s: NOW / 1000 - 1,
        ..base()
    };
    assert_eq!(
        once.preview(NOW, NOW, 5, &Limits::default()),
        Ok(Vec::new())
    );
    assert!(
        cron("@every 1ms")
            .preview(NOW, NOW, 5, &Limits::default())
            .is_err()
    );
}

#[test]
fn previews_from_the_ends_of_time_do_not_overflow() {
    let limits = Limits::default();
    let got = cron("@every 1h")
        .preview(NOW, i64::MIN, 2, &limits)
        .expect("valid");
    assert_eq!(got, vec![i64::MIN + 3_600_000, i64::MIN + 7_200_000]);
    let got = cron("@every 1s")
        .preview(NOW, i64::MAX, 2, &limits)
        .expect("valid");
    assert_eq!(got, Vec::<i64>::new());
    let got = looping(1)
        .preview(NOW, i64::MAX - 1, 2, &limits)
        .expect("valid");
    assert_eq!(got, Vec::<i64>::new());
    let got = looping(1)
        .preview(NOW, i64::MIN, 1, &limits)
        .expect("valid");
    assert_eq!(
        got,
        vec![i64::MIN + 1],
        "created just after `from`, as for any past `from`"
    );
}
