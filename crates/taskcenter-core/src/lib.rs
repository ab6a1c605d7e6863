//! The domain of taskcenter: what a task is, when it fires, and which inputs are valid.
//!
//! Nothing here does I/O or reads the wall clock directly: time arrives through [`Clock`],
//! so every schedule rule is testable exactly and instantly.

pub mod clock;
pub mod cron;
pub mod duration;
pub mod id;
pub mod schedule;
pub mod spec;
pub mod tags;
pub mod task;

pub use clock::{Clock, ManualClock, SystemClock};
pub use id::{IdGenerator, TaskId};
pub use schedule::{FirePlan, Schedule};
pub use spec::{Limits, SpecError, SpecErrorKind, TaskSpec};
pub use tags::TagFilter;
pub use task::{MisfirePolicy, Task, TaskKind, TaskStatus};
