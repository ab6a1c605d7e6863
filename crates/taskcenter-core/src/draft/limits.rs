//! Server-wide limits and defaults that validation applies.

/// Server-wide limits and defaults that validation applies.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted `data`, in bytes.
    pub max_data_bytes: usize,
    /// `max_runtime` when the caller gives none (or 0).
    pub default_max_runtime_s: i64,
    /// Zone for crontabs when the caller gives none.
    pub default_timezone: String,
    /// The shortest time allowed between two fires of one task, for loops, `@every` and
    /// crontabs alike: a schedule that could fire more often would flood its consumers.
    pub min_interval_ms: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_data_bytes: 256 * 1024,
            default_max_runtime_s: 60,
            default_timezone: "UTC".into(),
            min_interval_ms: 1000,
        }
    }
}
