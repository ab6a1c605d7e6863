//! The domain of taskcenter: what a task is, when it fires, and which inputs are valid.
//!
//! Nothing here does I/O or reads the wall clock directly: time arrives through [`Clock`],
//! so every schedule rule is testable exactly and instantly.

pub mod broker_url;
pub mod clock;
pub mod cron;
pub mod draft;
pub mod duration;
pub mod id;
pub mod schedule;
pub mod tags;
pub mod task;

pub use broker_url::{BadRocketMqUrl, RocketMqUrl};
pub use clock::{Clock, ManualClock, SystemClock};
pub use draft::{Limits, SpecError, SpecErrorKind, TaskDraft, validate_name};
pub use id::{IdGenerator, TaskId};
pub use schedule::{FirePlan, Schedule};
pub use tags::TagFilter;
pub use task::{MisfirePolicy, Task, TaskKind, TaskStatus};
