//! The one error type of the client library: API errors carry the server's `err` and `msg`.

/// What a call or a consumer operation failed with.
///
/// API failures keep the server's answer, so callers can branch on the code:
///
/// ```
/// use taskcenter_client::ClientError;
///
/// fn describe(e: &ClientError) -> String {
///     match e {
///         ClientError::Api { err: 40400, .. } => "no such task".to_string(),
///         ClientError::Api { msg, .. } => format!("refused: {msg}"),
///         other if other.is_retryable() => "try again later".to_string(),
///         other => other.to_string(),
///     }
/// }
/// # let e = ClientError::Api { status: 404, err: 40400, msg: "task x not found".into() };
/// # assert_eq!(describe(&e), "no such task");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error body `{"err", "msg"}`.
    #[error("{msg} (HTTP {status}, err {err})")]
    Api {
        /// HTTP status.
        status: u16,
        /// The server's error code (the status times 100 plus a detail, e.g. 40400).
        err: i64,
        /// The server's message.
        msg: String,
    },
    /// The server could not be reached or its answer could not be read.
    #[error("cannot reach the server: {}", chain(.0))]
    Transport(reqwest::Error),
    /// The server URL is not usable.
    #[error("bad server url {0:?}: expected http://host:port or https://host:port")]
    BadUrl(String),
    /// A tag expression is not `tag`, `tag1 || tag2` or `*`.
    #[error("bad tag expression {expr:?}: {reason}")]
    InvalidTags {
        /// The expression as given.
        expr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `start` was called without any handler registered.
    #[error("no handler registered: register one before start")]
    NoHandlers,
    /// The consumer was already started (or released); handlers are fixed at start.
    #[error("the consumer was already started")]
    AlreadyStarted,
    /// `start` was called outside a tokio runtime.
    #[error("start must be called inside a tokio runtime")]
    NoRuntime,
    /// The transport URL names no transport.
    #[error("unknown transport URL {0:?} (builtin, nats://, redis://, amqp://, rocketmq://)")]
    BadTransport(String),
    /// The transport's broker client was compiled out.
    #[error(
        "transport {scheme}:// is not built: enable the cargo feature {feature:?} of taskcenter-client"
    )]
    TransportNotBuilt {
        /// The URL's scheme.
        scheme: String,
        /// The feature that builds it.
        feature: &'static str,
    },
    /// Only one of RocketMQ's ACL keys was given.
    #[error("RocketMQ's ACL needs both keys: {0} is missing")]
    HalfRocketMqKeys(&'static str),
    /// The process-wide client was used before [`init`](crate::init).
    #[error("the global client is not initialized: call taskcenter_client::init first")]
    NotInitialized,
    /// [`init`](crate::init) was called twice without [`release`](crate::release).
    #[error("the global client is already initialized")]
    AlreadyInitialized,
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        Self::Transport(e)
    }
}

/// An error and its causes, `a: b: c`, skipping causes that repeat the text before.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}

impl ClientError {
    /// Whether trying again later may succeed: the server is down, restarting, overloaded
    /// or shutting down (transport errors and 5xx answers).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, .. } => *status >= 500,
            Self::Transport(_) => true,
            _ => false,
        }
    }

    /// The server's error code, for errors the server answered.
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Api { err, .. } => Some(*err),
            _ => None,
        }
    }

    /// The HTTP status, for errors the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the server answered 404 (no such task, message or route).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}
