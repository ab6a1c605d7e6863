//! Tasks and temporary directories for the unit tests of the backends.

use taskcenter_core::{MisfirePolicy, Task, TaskId, TaskKind, TaskStatus};

/// A scheduled once task whose id ends in `n`.
pub(crate) fn once_task(n: u64, name: &str, data: &str) -> Task {
    let mut id = [0u8; 12];
    id[4..].copy_from_slice(&n.to_be_bytes());
    Task {
        id: TaskId::from_bytes(id),
        name: name.into(),
        kind: TaskKind::Once,
        data: data.into(),
        crontab: String::new(),
        loop_time: 0,
        loop_count: 0,
        start_time: 0,
        end_time: 0,
        max_runtime: 60,
        ack: false,
        timezone: "UTC".into(),
        misfire: MisfirePolicy::Coalesce,
        created_at_ms: 0,
        status: TaskStatus::Scheduled,
        next_fire_ms: Some(1_000),
        fire_count: 0,
        version: 0,
    }
}

/// A new empty directory, removed with everything in it when dropped.
pub(crate) fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("taskcenter-store-test-")
        .tempdir()
        .expect("create a temp dir")
}
