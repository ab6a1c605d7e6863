//! `GET /openapi.json`: the OpenAPI 3.0 document of every route, a static file compiled in
//! and checked against the router's source by the tests below.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;

/// The document, as written in `openapi.json`.
const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        DOCUMENT,
    )
}

#[cfg(test)]
mod tests {
    //! The router is the truth: its source is read here, and every route it registers must
    //! be in the document with the same methods, and nothing else.

    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::Value;

    const ROUTER_SOURCE: &str = include_str!("mod.rs");
    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

    type Routes = BTreeMap<String, BTreeSet<String>>;

    fn document() -> Value {
        serde_json::from_str(super::DOCUMENT).expect("openapi.json is valid JSON")
    }

    /// The text of `source` from `start` up to `end`.
    fn between<'a>(source: &'a str, start: &str, end: &str) -> &'a str {
        let from = source
            .find(start)
            .unwrap_or_else(|| panic!("{start:?} not in http/mod.rs"));
        let rest = &source[from..];
        let to = rest
            .find(end)
            .unwrap_or_else(|| panic!("{end:?} not after {start:?} in http/mod.rs"));
        &rest[..to]
    }

    /// Every `.route("PATH", …)` call in `source`, with the methods its handlers take.
    fn routes_in(source: &str) -> Routes {
        let mut out = Routes::new();
        let mut rest = source;
        while let Some(at) = rest.find(".route(\"") {
            rest = &rest[at + ".route(\"".len()..];
            let end = rest.find('"').expect("closing quote of a route path");
            let path = rest[..end].to_string();
            // The call's arguments reach to the parenthesis that closes `.route(`.
            let mut depth = 1;
            let args_end = rest
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| i)
                .expect("closing parenthesis of .route(");
            let args = &rest[end..args_end];
            let methods: BTreeSet<String> = METHODS
                .iter()
                .filter(|m| {
                    args.match_indices(&format!("{m}(")).any(|(i, _)| {
                        i == 0 || !args[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                    })
                })
                .map(|m| m.to_string())
                .collect();
            assert!(!methods.is_empty(), "no method found for route {path}");
            out.insert(path, methods);
            rest = &rest[args_end..];
        }
        out
    }

    /// Every route the router serves, with its full path.
    fn router_routes() -> Routes {
        let api = routes_in(between(ROUTER_SOURCE, "fn api_routes", "\n}\n"));
        let top = routes_in(between(ROUTER_SOURCE, "pub fn router", "\n}\n"));
        assert!(
            api.contains_key("/task") && api.contains_key("/consume"),
            "the source parser lost the API routes: {api:?}"
        );
        assert!(
            top.contains_key("/healthz") && top.contains_key("/openapi.json"),
            "the source parser lost the top-level routes: {top:?}"
        );
        for prefix in ["/v1/api", "/api/v1"] {
            assert!(
                ROUTER_SOURCE.contains(&format!(".nest(\"{prefix}\", api")),
                "the API is no longer nested under {prefix}"
            );
        }
        let mut all = top;
        for (path, methods) in api {
            all.insert(format!("/v1/api{path}"), methods);
        }
        all
    }

    fn document_routes(doc: &Value) -> Routes {
        let paths = doc["paths"].as_object().expect("paths object");
        paths
            .iter()
            .map(|(path, item)| {
                let methods = item
                    .as_object()
                    .expect("path item object")
                    .keys()
                    .filter(|k| METHODS.contains(&k.as_str()))
                    .cloned()
                    .collect();
                (path.clone(), methods)
            })
            .collect()
    }

    #[test]
    fn every_route_of_the_router_is_documented_and_nothing_else() {
        let doc = document();
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..4]), Some("3.0."));
        let documented = document_routes(&doc);
        let routed = router_routes();
        let undocumented: Vec<_> = routed
            .iter()
            .filter(|r| !documented.contains_key(r.0) || documented[r.0] != *r.1)
            .collect();
        let unrouted: Vec<_> = documented
            .iter()
            .filter(|d| !routed.contains_key(d.0) || routed[d.0] != *d.1)
            .collect();
        assert!(
            undocumented.is_empty() && unrouted.is_empty(),
            "the router serves, undocumented: {undocumented:?}; the document has, not routed: {unrouted:?}"
        );
    }

    #[test]
    fn every_operation_answers_200_and_api_errors_use_the_error_body() {
        let doc = document();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let responses = op["responses"].as_object().expect("responses");
                assert!(responses.contains_key("200"), "{method} {path}: no 200");
                if path.starts_with("/v1/api/") {
                    for code in ["400", "401", "500", "503"] {
                        assert!(responses.contains_key(code), "{method} {path}: no {code}");
                    }
                    if op.get("requestBody").is_some() {
                        for code in ["413", "415"] {
                            assert!(responses.contains_key(code), "{method} {path}: no {code}");
                        }
                    }
                } else {
                    assert_eq!(
                        op["security"],
                        Value::Array(vec![]),
                        "{path} needs no token"
                    );
                }
            }
        }
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(refs.len() > 20, "too few $refs: {}", refs.len());
        for r in refs {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("external $ref {r}"));
            assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
        }
    }

    fn collect_refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| collect_refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }

    /// The schema's properties are exactly the fields the wire type serializes.
    fn assert_fields(doc: &Value, schema: &str, sample: impl serde::Serialize) {
        let props = doc["components"]["schemas"][schema]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{schema} has no properties"));
        let wire = serde_json::to_value(sample).expect("serialize");
        let wire: BTreeSet<&String> = wire.as_object().expect("object").keys().collect();
        assert_eq!(wire, props.keys().collect::<BTreeSet<_>>(), "{schema}");
    }

    #[test]
    fn the_schemas_list_every_wire_field() {
        let doc = document();
        let id = "0".repeat(24);
        assert_fields(
            &doc,
            "TaskObject",
            taskcenter_api::TaskObject {
                id: id.clone(),
                name: "n".into(),
                kind: 1,
                data: String::new(),
                crontab: String::new(),
                loop_time: 0,
                loop_count: 0,
                start_time: 0,
                end_time: 0,
                max_runtime: 60,
                ack: false,
                created_at: 0,
                status: "scheduled".into(),
                next_fire_time: None,
                fire_count: 0,
                timezone: "UTC".into(),
                misfire: "coalesce".into(),
            },
        );
        assert_fields(
            &doc,
            "FireHistoryEntry",
            taskcenter_api::FireHistoryEntry {
                fire_id: "f".into(),
                fire_time: 0,
                publish_time: 0,
                msgid: None,
                group: None,
                attempts: 0,
                state: "published".into(),
                acked_attempt: None,
                reason: None,
                broker_id: Some("b".into()),
            },
        );
        assert_fields(
            &doc,
            "Message",
            taskcenter_api::Message {
                msgid: "m".into(),
                taskid: id.clone(),
                tag: "t".into(),
                data: String::new(),
                fire_time: 0,
                fire_id: "f".into(),
                attempt: 1,
                lease_until: 0,
            },
        );
        assert_fields(
            &doc,
            "DeadLetterObject",
            taskcenter_api::DeadLetterObject {
                msgid: "m".into(),
                group: "g".into(),
                taskid: id,
                tag: "t".into(),
                data: String::new(),
                fire_id: "f".into(),
                fire_time: 0,
                attempts: 1,
                died_at: 0,
                reason: None,
            },
        );
        assert_fields(
            &doc,
            "QueuesResponse",
            taskcenter_api::QueuesResponse::default(),
        );
        assert_fields(&doc, "GroupQueue", taskcenter_api::GroupQueue::default());
        assert_fields(&doc, "TagQueue", taskcenter_api::TagQueue::default());
        assert_fields(
            &doc,
            "ConsumerObject",
            taskcenter_api::ConsumerObject::default(),
        );
        assert_fields(
            &doc,
            "GraphsResponse",
            taskcenter_api::GraphsResponse::default(),
        );
        assert_fields(&doc, "MinutePoint", taskcenter_api::MinutePoint::default());
    }
}
