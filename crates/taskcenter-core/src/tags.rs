//! Tag expressions consumers subscribe with: `"a"`, `"a || b"`, `"*"`.

/// A parsed tag expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagFilter {
    /// Every tag.
    All,
    /// Exactly these tags (sorted, deduplicated).
    Only(Vec<String>),
}

impl TagFilter {
    /// Parses `"a || b"`; `"*"`, or an empty expression, means all tags.
    pub fn parse(expr: &str) -> Self {
        let mut tags: Vec<String> = expr
            .split("||")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        if tags.is_empty() || tags.iter().any(|t| t == "*") {
            return Self::All;
        }
        tags.sort();
        tags.dedup();
        Self::Only(tags)
    }

    /// Whether a message tagged `tag` passes the filter.
    pub fn matches(&self, tag: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(tags) => tags.iter().any(|t| t == tag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_expressions() {
        assert_eq!(TagFilter::parse("*"), TagFilter::All);
        assert_eq!(TagFilter::parse(""), TagFilter::All);
        assert_eq!(
            TagFilter::parse(" b ||a|| b"),
            TagFilter::Only(vec!["a".into(), "b".into()])
        );
        let f = TagFilter::parse("tag1 || tag2");
        assert!(f.matches("tag1") && f.matches("tag2") && !f.matches("tag3"));
        assert!(TagFilter::parse("x || *").matches("anything"));
    }
}
