//! The operator dashboard: one static page (HTML, script and style compiled in) that drives
//! the API from the browser. It loads nothing from elsewhere, so it works on a closed
//! network, and its content security policy keeps it that way.

use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderName, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const CORE_JS: &str = include_str!("core.js");
const TASKS_JS: &str = include_str!("tasks.js");
const FORM_JS: &str = include_str!("form.js");
const TIMELINE_JS: &str = include_str!("timeline.js");
const QUEUES_JS: &str = include_str!("queues.js");
const GRAPHS_JS: &str = include_str!("graphs.js");

#[cfg(test)]
/// The scripts in the order the page loads them: `core.js` first (the helpers every other
/// one uses), `app.js` last (it starts the page).
const SCRIPTS: [(&str, &str); 7] = [
    ("core.js", CORE_JS),
    ("tasks.js", TASKS_JS),
    ("form.js", FORM_JS),
    ("timeline.js", TIMELINE_JS),
    ("queues.js", QUEUES_JS),
    ("graphs.js", GRAPHS_JS),
    ("app.js", APP_JS),
];
const STYLE_CSS: &str = include_str!("style.css");

/// Same origin only; `data:` images for the empty favicon.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page is revalidated on every load so a new server version shows at once; its assets
/// may be cached for a few minutes.
const PAGE_CACHE: &str = "no-cache";
const ASSET_CACHE: &str = "public, max-age=300";

fn asset(body: &'static str, content_type: &'static str, cache: &'static str) -> Response {
    let headers: [(HeaderName, HeaderValue); 4] = [
        (CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (CACHE_CONTROL, HeaderValue::from_static(cache)),
        (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
    ];
    (headers, body).into_response()
}

/// `GET /`.
pub async fn index() -> Response {
    asset(INDEX_HTML, "text/html; charset=utf-8", PAGE_CACHE)
}

fn script(body: &'static str) -> Response {
    asset(body, "text/javascript; charset=utf-8", ASSET_CACHE)
}

/// `GET /ui/app.js`.
pub async fn app_js() -> Response {
    script(APP_JS)
}

/// `GET /ui/core.js`.
pub async fn core_js() -> Response {
    script(CORE_JS)
}

/// `GET /ui/tasks.js`.
pub async fn tasks_js() -> Response {
    script(TASKS_JS)
}

/// `GET /ui/form.js`.
pub async fn form_js() -> Response {
    script(FORM_JS)
}

/// `GET /ui/timeline.js`.
pub async fn timeline_js() -> Response {
    script(TIMELINE_JS)
}

/// `GET /ui/queues.js`.
pub async fn queues_js() -> Response {
    script(QUEUES_JS)
}

/// `GET /ui/graphs.js`.
pub async fn graphs_js() -> Response {
    script(GRAPHS_JS)
}

/// `GET /ui/style.css`.
pub async fn style_css() -> Response {
    asset(STYLE_CSS, "text/css; charset=utf-8", ASSET_CACHE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The only absolute URL the assets may hold: the SVG namespace, which loads nothing.
    const SVG_NS: &str = "http://www.w3.org/2000/svg";

    #[test]
    fn the_assets_load_nothing_from_elsewhere() {
        let pages = [("index.html", INDEX_HTML), ("style.css", STYLE_CSS)];
        for (name, text) in pages.into_iter().chain(SCRIPTS) {
            let text = text.replace(SVG_NS, "");
            for needle in [
                "http://",
                "https://",
                "src=\"//",
                "href=\"//",
                "@import",
                "url(",
            ] {
                assert!(!text.contains(needle), "{name} contains {needle:?}");
            }
        }
    }

    #[test]
    fn the_page_links_its_assets_relatively() {
        let mut at = 0;
        for (name, _) in SCRIPTS {
            let tag = format!("<script src=\"ui/{name}\" defer></script>");
            let found = INDEX_HTML[at..]
                .find(&tag)
                .unwrap_or_else(|| panic!("{name} is not loaded, or not in order"));
            at += found + tag.len();
        }
        assert!(INDEX_HTML.contains("href=\"ui/style.css\""));
        assert!(
            !INDEX_HTML.contains("<script>"),
            "no inline script: the CSP forbids it"
        );
        assert!(
            !INDEX_HTML.contains(" style=\""),
            "no inline style: the CSP forbids it"
        );
        let handler = INDEX_HTML.match_indices(" on").find(|(i, _)| {
            let rest = &INDEX_HTML[i + 3..];
            let word = rest.trim_start_matches(|c: char| c.is_ascii_lowercase());
            word.len() < rest.len() && word.starts_with('=')
        });
        assert_eq!(handler, None, "no inline handlers: the CSP forbids them");
    }
}
