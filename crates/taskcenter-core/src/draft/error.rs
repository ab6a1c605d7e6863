//! Why a task definition was refused, with the field at fault and the status class.

/// How a definition was wrong: decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecErrorKind {
    /// 400.
    Invalid,
    /// 413.
    TooLarge,
    /// 400: valid on its own, but the schedule has no fire time left.
    NeverFires,
}

/// A refused definition, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{msg}")]
pub struct SpecError {
    /// Status class.
    pub kind: SpecErrorKind,
    /// The field at fault, if one.
    pub field: Option<&'static str>,
    /// What is wrong, for the caller; it names the field.
    pub msg: String,
}

impl SpecError {
    /// A 400 about `field`.
    pub fn invalid(field: &'static str, msg: impl Into<String>) -> Self {
        Self {
            kind: SpecErrorKind::Invalid,
            field: Some(field),
            msg: msg.into(),
        }
    }

    /// A 400 about `field` whose cause is that the schedule has no fire left.
    pub fn never_fires(field: &'static str, msg: impl Into<String>) -> Self {
        Self {
            kind: SpecErrorKind::NeverFires,
            ..Self::invalid(field, msg)
        }
    }
}
