//! Validation rules of SPEC §2, one by one.

use super::*;
use crate::id::IdGenerator;

const NOW: i64 = 1_800_000_000_000;

fn base() -> TaskSpec {
    TaskSpec {
        name: Some("order.timeout".into()),
        kind: Some(1),
        data: Some("{}".into()),
        ..TaskSpec::default()
    }
}

fn check(spec: TaskSpec) -> Result<Task, SpecError> {
    spec.into_task(IdGenerator::new().next(NOW), NOW, &Limits::default())
}

fn field_of(spec: TaskSpec) -> Option<&'static str> {
    check(spec).expect_err("must be refused").field
}

#[test]
fn a_plain_once_task_is_accepted() {
    let t = check(base()).expect("valid");
    assert_eq!(t.name, "order.timeout");
    assert_eq!(t.max_runtime, 60);
    assert_eq!(t.timezone, "UTC");
    assert_eq!(t.status, TaskStatus::Scheduled);
}

#[test]
fn names_follow_the_charset_and_length() {
    for good in ["a", "a_b-c.d:e/f", "X9", &"n".repeat(128)] {
        assert!(
            check(TaskSpec {
                name: Some(good.into()),
                ..base()
            })
            .is_ok(),
            "{good}"
        );
    }
    for bad in ["", "a b", "a|b", "a*", &"n".repeat(129), "a\nb", "tab\t"] {
        assert_eq!(
            field_of(TaskSpec {
                name: Some(bad.into()),
                ..base()
            }),
            Some("name"),
            "{bad:?}"
        );
    }
    assert_eq!(
        field_of(TaskSpec {
            name: None,
            ..base()
        }),
        Some("name")
    );
}

#[test]
fn type_must_be_one_two_or_three() {
    for bad in [0, 4, -1, 99] {
        assert_eq!(
            field_of(TaskSpec {
                kind: Some(bad),
                ..base()
            }),
            Some("type")
        );
    }
    assert_eq!(
        field_of(TaskSpec {
            kind: None,
            ..base()
        }),
        Some("type")
    );
}

#[test]
fn data_is_required_may_be_empty_and_has_a_size_limit() {
    assert_eq!(
        field_of(TaskSpec {
            data: None,
            ..base()
        }),
        Some("data")
    );
    assert!(
        check(TaskSpec {
            data: Some(String::new()),
            ..base()
        })
        .is_ok()
    );
    let exact = "x".repeat(256 * 1024);
    assert!(
        check(TaskSpec {
            data: Some(exact),
            ..base()
        })
        .is_ok()
    );
    let err = check(TaskSpec {
        data: Some("x".repeat(256 * 1024 + 1)),
        ..base()
    })
    .expect_err("too large");
    assert_eq!(err.kind, SpecErrorKind::TooLarge);
}

#[test]
fn loop_needs_a_positive_loop_time() {
    let lp = TaskSpec {
        kind: Some(2),
        ..base()
    };
    assert_eq!(field_of(lp.clone()), Some("loop_time"));
    assert_eq!(
        field_of(TaskSpec {
            loop_time: Some(0),
            ..lp.clone()
        }),
        Some("loop_time")
    );
    assert_eq!(
        field_of(TaskSpec {
            loop_time: Some(-3),
            ..lp.clone()
        }),
        Some("loop_time")
    );
    assert!(
        check(TaskSpec {
            loop_time: Some(5),
            ..lp
        })
        .is_ok()
    );
}

#[test]
fn crontab_is_required_for_type_three() {
    let cr = TaskSpec {
        kind: Some(3),
        ..base()
    };
    assert_eq!(field_of(cr.clone()), Some("crontab"));
    assert_eq!(
        field_of(TaskSpec {
            crontab: Some("  ".into()),
            ..cr.clone()
        }),
        Some("crontab")
    );
}

#[test]
fn negative_counts_and_times_are_refused() {
    assert_eq!(
        field_of(TaskSpec {
            loop_count: Some(-1),
            ..base()
        }),
        Some("loop_count")
    );
    assert_eq!(
        field_of(TaskSpec {
            start_time: Some(-1),
            ..base()
        }),
        Some("start_time")
    );
    assert_eq!(
        field_of(TaskSpec {
            max_runtime: Some(0),
            ..base()
        }),
        Some("max_runtime")
    );
}

#[test]
fn end_time_must_be_future_and_after_start() {
    let now_s = NOW / 1000;
    assert_eq!(
        field_of(TaskSpec {
            end_time: Some(now_s - 1),
            ..base()
        }),
        Some("end_time")
    );
    assert_eq!(
        field_of(TaskSpec {
            start_time: Some(now_s + 100),
            end_time: Some(now_s + 100),
            ..base()
        }),
        Some("end_time")
    );
    assert!(
        check(TaskSpec {
            start_time: Some(now_s + 10),
            end_time: Some(now_s + 100),
            ..base()
        })
        .is_ok()
    );
}

#[test]
fn unknown_timezone_and_misfire_are_refused() {
    assert_eq!(
        field_of(TaskSpec {
            timezone: Some("Mars/Base".into()),
            ..base()
        }),
        Some("timezone")
    );
    assert_eq!(
        field_of(TaskSpec {
            misfire: Some("never".into()),
            ..base()
        }),
        Some("misfire")
    );
    assert!(
        check(TaskSpec {
            timezone: Some("Europe/Berlin".into()),
            ..base()
        })
        .is_ok()
    );
}

#[test]
fn unknown_fields_are_ignored_and_types_enforced() {
    let spec: TaskSpec = serde_json::from_str(
        r#"{"name":"a","type":1,"data":"","loop_count:":3,"whatever":{"x":1}}"#,
    )
    .expect("unknown fields ignored");
    assert_eq!(spec.name.as_deref(), Some("a"));
    assert!(serde_json::from_str::<TaskSpec>(r#"{"name":"a","type":"1","data":""}"#).is_err());
}
