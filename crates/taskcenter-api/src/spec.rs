//! The add-task body as it travels, and its one conversion into the domain's draft.

use serde::{Deserialize, Serialize};
use taskcenter_core::{MisfirePolicy, SpecError, TaskDraft, TaskKind};

/// The add-task body of the original HTTP API (plus extensions); also the fields of an update
/// and a preview. Every field may be absent so an update can name only what it changes.
/// Unknown fields are ignored so old clients keep working; a wrong JSON type is refused by
/// the decoder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// Delivery tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// 1 once, 2 loop, 3 crontab.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<i64>,
    /// Payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Crontab (type 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crontab: Option<String>,
    /// Loop period in seconds (type 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loop_time: Option<i64>,
    /// Max fires; 0 or absent = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loop_count: Option<i64>,
    /// No fire before (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// No fire after (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Ack deadline in seconds; 0 or absent = the server's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime: Option<i64>,
    /// Track each fire until acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<bool>,
    /// IANA zone for the crontab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// `coalesce` (default), `skip` or `all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misfire: Option<String>,
}

impl TaskSpec {
    /// The draft of a new task: `name`, `type` and `data` are required.
    pub fn into_draft(self) -> Result<TaskDraft, SpecError> {
        self.convert(None)
    }

    /// The draft of an update: the fields given replace those of `stored`.
    pub fn patch(self, stored: TaskDraft) -> Result<TaskDraft, SpecError> {
        self.convert(Some(stored))
    }

    /// Reads the wire fields into typed ones over `base` (a new task has none).
    fn convert(self, base: Option<TaskDraft>) -> Result<TaskDraft, SpecError> {
        let kind = match self.kind {
            Some(code) => Some(TaskKind::from_code(code).ok_or_else(|| {
                SpecError::invalid(
                    "type",
                    format!("type {code} is not 1 (once), 2 (loop) or 3 (crontab)"),
                )
            })?),
            None => None,
        };
        let misfire = match self.misfire.as_deref() {
            Some(text) => Some(MisfirePolicy::parse(text).ok_or_else(|| {
                SpecError::invalid(
                    "misfire",
                    "misfire must be \"coalesce\", \"skip\" or \"all\"",
                )
            })?),
            None => None,
        };
        let base = match base {
            Some(stored) => stored,
            None => TaskDraft::new(
                self.name
                    .clone()
                    .ok_or_else(|| SpecError::invalid("name", "name is required"))?,
                kind.ok_or_else(|| {
                    SpecError::invalid("type", "type is required (1 once, 2 loop, 3 crontab)")
                })?,
                self.data
                    .clone()
                    .ok_or_else(|| SpecError::invalid("data", "data is required"))?,
            ),
        };
        Ok(TaskDraft {
            name: self.name.unwrap_or(base.name),
            kind: kind.unwrap_or(base.kind),
            data: self.data.unwrap_or(base.data),
            crontab: self.crontab.unwrap_or(base.crontab),
            loop_time_s: self.loop_time.unwrap_or(base.loop_time_s),
            loop_count: self.loop_count.unwrap_or(base.loop_count),
            start_time_s: self.start_time.unwrap_or(base.start_time_s),
            end_time_s: self.end_time.unwrap_or(base.end_time_s),
            max_runtime_s: self.max_runtime.unwrap_or(base.max_runtime_s),
            ack: self.ack.unwrap_or(base.ack),
            timezone: self.timezone.unwrap_or(base.timezone),
            misfire: misfire.unwrap_or(base.misfire),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> TaskSpec {
        TaskSpec {
            name: Some("order.timeout".into()),
            kind: Some(1),
            data: Some("{}".into()),
            ..TaskSpec::default()
        }
    }

    fn field_of(spec: TaskSpec) -> Option<&'static str> {
        spec.into_draft().expect_err("must be refused").field
    }

    #[test]
    fn name_type_and_data_are_required_for_a_new_task() {
        let draft = base().into_draft().expect("complete");
        assert_eq!(draft, TaskDraft::new("order.timeout", TaskKind::Once, "{}"));
        assert_eq!(
            field_of(TaskSpec {
                name: None,
                ..base()
            }),
            Some("name")
        );
        assert_eq!(
            field_of(TaskSpec {
                kind: None,
                ..base()
            }),
            Some("type")
        );
        assert_eq!(
            field_of(TaskSpec {
                data: None,
                ..base()
            }),
            Some("data")
        );
    }

    #[test]
    fn type_must_be_one_two_or_three_and_misfire_a_known_policy() {
        for bad in [0, 4, -1, 99] {
            let spec = TaskSpec {
                kind: Some(bad),
                ..base()
            };
            assert_eq!(field_of(spec), Some("type"), "{bad}");
        }
        let never = TaskSpec {
            misfire: Some("never".into()),
            ..base()
        };
        assert_eq!(field_of(never), Some("misfire"));
        let all = TaskSpec {
            misfire: Some("all".into()),
            ..base()
        };
        assert_eq!(all.into_draft().expect("valid").misfire, MisfirePolicy::All);
    }

    #[test]
    fn a_patch_changes_only_the_fields_it_names() {
        let stored = TaskDraft {
            loop_time_s: 30,
            ack: true,
            timezone: "Europe/Berlin".into(),
            ..TaskDraft::new("t", TaskKind::Loop, "payload")
        };
        let patch = TaskSpec {
            loop_time: Some(60),
            data: Some(String::new()),
            ..TaskSpec::default()
        };
        let got = patch.patch(stored.clone()).expect("valid");
        assert_eq!(
            got,
            TaskDraft {
                loop_time_s: 60,
                data: String::new(),
                ..stored.clone()
            }
        );
        assert_eq!(TaskSpec::default().patch(stored.clone()), Ok(stored));
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
}
