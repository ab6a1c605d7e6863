//! Handlers by tag expression: parsing `a || b` and `*`, boxing the user's async
//! functions, and choosing the handlers a message goes to.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use taskcenter_api::Message;
use taskcenter_core::TagFilter;
use taskcenter_core::validate_name;

use crate::error::ClientError;

/// What a boxed handler returns: `Err` carries the handler's error as text, for the log.
pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// A handler taking the whole message.
pub(crate) type HandlerFn = Arc<dyn Fn(Message) -> HandlerFuture + Send + Sync>;

/// Boxes `f(taskid, data, msgid)`.
pub(crate) fn seed_style<F, Fut, E>(f: F) -> HandlerFn
where
    F: Fn(String, String, String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Display + Send + 'static,
{
    Arc::new(move |m: Message| {
        let fut = f(m.taskid, m.data, m.msgid);
        Box::pin(async move { fut.await.map_err(|e| e.to_string()) }) as HandlerFuture
    })
}

/// Boxes `f(message)`.
pub(crate) fn message_style<F, Fut, E>(f: F) -> HandlerFn
where
    F: Fn(Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Display + Send + 'static,
{
    Arc::new(move |m: Message| {
        let fut = f(m);
        Box::pin(async move { fut.await.map_err(|e| e.to_string()) }) as HandlerFuture
    })
}

/// One registered handler.
#[derive(Clone)]
pub(crate) struct Route {
    pub filter: TagFilter,
    pub handler: HandlerFn,
}

/// Parses a tag expression: tags separated by `||`, or `*` for all.
pub(crate) fn parse_tags(expr: &str) -> Result<TagFilter, ClientError> {
    let bad = |reason: String| ClientError::InvalidTags {
        expr: expr.into(),
        reason,
    };
    for part in expr.split("||").map(str::trim) {
        if part.is_empty() {
            return Err(bad("empty tag: write `tag`, `tag1 || tag2` or `*`".into()));
        }
        if part != "*" {
            validate_name(part).map_err(|e| bad(e.msg))?;
        }
    }
    Ok(TagFilter::parse(expr))
}

/// The expression a consumer pulls with: the union of every handler's tags.
pub(crate) fn union(routes: &[Route]) -> String {
    let mut tags: Vec<&str> = Vec::new();
    for route in routes {
        match &route.filter {
            TagFilter::All => return "*".into(),
            TagFilter::Only(only) => tags.extend(only.iter().map(String::as_str)),
        }
    }
    tags.sort_unstable();
    tags.dedup();
    tags.join(" || ")
}

/// The handlers whose expression matches `tag`, in registration order.
pub(crate) fn matching<'a>(routes: &'a [Route], tag: &'a str) -> impl Iterator<Item = &'a Route> {
    routes.iter().filter(move |r| r.filter.matches(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(expr: &str) -> Route {
        Route {
            filter: parse_tags(expr).expect("valid"),
            handler: seed_style(|_, _, _| async { Ok::<(), String>(()) }),
        }
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!(parse_tags("*").expect("valid"), TagFilter::All);
        assert!(parse_tags("a || b").expect("valid").matches("b"));
        assert!(parse_tags("").is_err());
        assert!(parse_tags("a ||").is_err());
        assert!(parse_tags("a b").is_err());
        assert!(parse_tags("a|b").is_err());
    }

    #[test]
    fn unions_and_matches() {
        let routes = vec![route("b || a"), route("c"), route("a")];
        assert_eq!(union(&routes), "a || b || c");
        assert_eq!(matching(&routes, "a").count(), 2);
        assert_eq!(matching(&routes, "z").count(), 0);
        let routes = vec![route("a"), route("*")];
        assert_eq!(union(&routes), "*");
        assert_eq!(matching(&routes, "z").count(), 1);
    }
}
