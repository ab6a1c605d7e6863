//! Random malformed input to every POST route: each answer is a 4xx with the
//! `{"err": int, "msg": str}` body — never a 5xx, a reset connection or a crash.

mod common;

use common::*;
use serde_json::{Value, json};

const BODIES_PER_ROUTE: usize = 50;

/// xorshift64*: deterministic, so a failure replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Str,
    Int,
    Bool,
    StrArray,
}

struct Route {
    path: &'static str,
    /// A valid body; the generators break it.
    template: Value,
    fields: &'static [(&'static str, Kind)],
    /// The route validates `name` as a task name.
    task_name: bool,
    /// `{}` and bodies of unknown fields only are valid here.
    empty_object_valid: bool,
}

const TASK_FIELDS: &[(&str, Kind)] = &[
    ("name", Kind::Str),
    ("type", Kind::Int),
    ("data", Kind::Str),
    ("crontab", Kind::Str),
    ("loop_time", Kind::Int),
    ("loop_count", Kind::Int),
    ("start_time", Kind::Int),
    ("end_time", Kind::Int),
    ("max_runtime", Kind::Int),
    ("ack", Kind::Bool),
    ("timezone", Kind::Str),
];

const PREVIEW_FIELDS: &[(&str, Kind)] = &[
    ("name", Kind::Str),
    ("type", Kind::Int),
    ("data", Kind::Str),
    ("loop_time", Kind::Int),
    ("start_time", Kind::Int),
    ("ack", Kind::Bool),
    ("count", Kind::Int),
    ("from", Kind::Int),
];

fn wrong_value(rng: &mut Rng, kind: Kind) -> Value {
    let str_wrong = [
        json!(5),
        json!(-1),
        json!(1.5),
        json!(true),
        json!([]),
        json!(["a"]),
        json!({}),
        json!({"a": "b"}),
    ];
    let int_wrong = [
        json!("5"),
        json!(""),
        json!(true),
        json!([]),
        json!([1]),
        json!({}),
        json!({"n": 1}),
        json!(1.5),
        json!("1e3"),
    ];
    let bool_wrong = [
        json!("true"),
        json!(1),
        json!(0),
        json!([]),
        json!({}),
        json!("yes"),
    ];
    let arr_wrong = [
        json!("abc"),
        json!(5),
        json!(true),
        json!({}),
        json!([1]),
        json!([true]),
        json!([["x"]]),
        json!([{}]),
        json!([null]),
    ];
    match kind {
        Kind::Str => rng.pick(&str_wrong).clone(),
        Kind::Int => rng.pick(&int_wrong).clone(),
        Kind::Bool => rng.pick(&bool_wrong).clone(),
        Kind::StrArray => rng.pick(&arr_wrong).clone(),
    }
}

/// Nested objects and arrays that never contain a string: wrong for every field kind.
fn garbage(rng: &mut Rng, depth: usize) -> Value {
    if depth == 0 {
        return json!({"leaf": 1});
    }
    match rng.below(3) {
        0 => json!({"g": garbage(rng, depth - 1), "n": null}),
        1 => json!([garbage(rng, depth - 1), 1, false]),
        _ => json!([[garbage(rng, depth - 1)]]),
    }
}

fn is_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes).is_ok()
}

/// One malformed body for `route`: (description, bytes, content type).
fn malformed(rng: &mut Rng, route: &Route) -> (String, Vec<u8>, Option<&'static str>) {
    let object = route.template.is_object();
    let json_ct = Some("application/json");
    loop {
        let category = rng.below(8);
        let mut body = route.template.clone();
        match category {
            0 => {
                let bytes: Vec<u8> = (0..1 + rng.below(64)).map(|_| rng.next() as u8).collect();
                if is_json(&bytes) {
                    continue;
                }
                let ct = *rng.pick(&[json_ct, json_ct, Some("text/plain"), None]);
                return (format!("random bytes {bytes:?}"), bytes, ct);
            }
            1 => {
                let text = serde_json::to_vec(&body).expect("serialize");
                let cut = 1 + rng.below(text.len() - 1);
                if is_json(&text[..cut]) {
                    continue;
                }
                return (
                    format!("truncated {:?}", String::from_utf8_lossy(&text[..cut])),
                    text[..cut].to_vec(),
                    json_ct,
                );
            }
            2 | 3 if object => {
                let (field, kind) = *rng.pick(route.fields);
                let ints: Vec<&str> = route
                    .fields
                    .iter()
                    .filter(|(_, k)| *k == Kind::Int)
                    .map(|(f, _)| *f)
                    .collect();
                if category == 3 && !ints.is_empty() {
                    // Numbers no int field can hold, spliced in as raw JSON.
                    let field = *rng.pick(&ints);
                    let huge = *rng.pick(&[
                        "1e400",
                        "123456789012345678901234567890",
                        "-99999999999999999999999",
                        "1.5e300",
                        "18446744073709551616",
                    ]);
                    body[field] = json!("@@HUGE@@");
                    let text = serde_json::to_string(&body)
                        .expect("serialize")
                        .replace("\"@@HUGE@@\"", huge);
                    return (format!("{field}: {huge}"), text.into_bytes(), json_ct);
                }
                body[field] = wrong_value(rng, kind);
                return (
                    format!("wrong type for {field}: {}", body[field]),
                    serde_json::to_vec(&body).expect("ser"),
                    json_ct,
                );
            }
            4 if object => {
                let (field, _) = *rng.pick(route.fields);
                let depth = 1 + rng.below(20);
                body[field] = garbage(rng, depth);
                return (
                    format!("nested garbage of depth {depth} in {field}"),
                    serde_json::to_vec(&body).expect("ser"),
                    json_ct,
                );
            }
            5 if object && route.task_name => {
                let name = *rng.pick(&[
                    "emoji😀",
                    "a\u{0}b",
                    "\u{202e}abc",
                    "tab\tname",
                    "名 字",
                    "x\u{2028}y",
                    "🙂",
                    " ",
                ]);
                body["name"] = json!(name);
                return (
                    format!("name {name:?}"),
                    serde_json::to_vec(&body).expect("ser"),
                    json_ct,
                );
            }
            5 => {
                // Invalid UTF-8 or a lone surrogate inside a JSON string.
                let text = serde_json::to_string(&body).expect("serialize");
                let Some(quote) = text.find(":\"").or_else(|| text.find("[\"")) else {
                    continue;
                };
                let mut bytes = text.as_bytes().to_vec();
                let bads: [&[u8]; 4] = [b"\xff\xfe", b"\xc3\x28", b"\\ud800", b"\xed\xa0\x80"];
                let bad = *rng.pick(&bads);
                bytes.splice(quote + 2..quote + 2, bad.iter().copied());
                if is_json(&bytes) {
                    continue;
                }
                return (
                    format!("bad unicode {:?}", String::from_utf8_lossy(&bytes)),
                    bytes,
                    json_ct,
                );
            }
            6 => {
                let mut scalars = vec!["", "null", "true", "0", "\"str\"", "1.5", "-7"];
                if object {
                    scalars.extend(["[]", "[1]", "[{}]"]);
                } else {
                    scalars.extend(["{}", "{\"a\": 1}"]);
                }
                if object && !route.empty_object_valid {
                    scalars.extend(["{}", "{\"unknown\": 1}"]);
                }
                let s = *rng.pick(&scalars);
                return (format!("body {s:?}"), s.as_bytes().to_vec(), json_ct);
            }
            7 => {
                let depth = 200 + rng.below(20_000);
                // `{"a": {"a": …}}` is a valid body of unknown fields where `{}` is valid.
                let text = if rng.below(2) == 0 || route.empty_object_valid {
                    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
                } else {
                    format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
                };
                return (format!("nesting depth {depth}"), text.into_bytes(), json_ct);
            }
            _ => continue,
        }
    }
}

fn fuzz(route: Route, seed: u64) {
    let mut server = Server::start(&[]);
    if !route.path.ends_with("ack") {
        // (An ack of an unknown msgid may be refused; the other templates must pass.)
        let (status, resp) = server.post(route.path, &route.template);
        assert!(
            status < 300,
            "the template of {} must be valid: {status} {resp}",
            route.path
        );
    }
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    for i in 0..BODIES_PER_ROUTE {
        let (what, bytes, ct) = malformed(&mut rng, &route);
        match server.post_raw(route.path, bytes, ct) {
            Ok((status, body)) => {
                let shaped = body.get("err").is_some_and(|e| e.is_i64() || e.is_u64())
                    && body.get("msg").is_some_and(Value::is_string);
                if !(400..500).contains(&status) || !shaped {
                    failures.push(format!("#{i} {what}: {status} {body}"));
                }
            }
            Err(e) => failures.push(format!("#{i} {what}: {e}")),
        }
        if !server.is_running() {
            failures.push(format!("#{i} {what}: the server died"));
            break;
        }
    }
    assert_eq!(
        server.get("/healthz").0,
        200,
        "healthz after the malformed input"
    );
    let shown: Vec<&String> = failures.iter().take(10).collect();
    assert!(
        failures.is_empty(),
        "{} of {BODIES_PER_ROUTE} malformed bodies to {} misanswered:\n{shown:#?}",
        failures.len(),
        route.path
    );
}

fn route(path: &'static str, template: Value, fields: &'static [(&'static str, Kind)]) -> Route {
    Route {
        path,
        template,
        fields,
        task_name: false,
        empty_object_valid: false,
    }
}

#[test]
fn add_task() {
    let template = json!({"name": "fz", "type": 2, "data": "x", "loop_time": 3600, "start_time": now_s() + 3600});
    fuzz(
        Route {
            task_name: true,
            ..route("/v1/api/task", template, TASK_FIELDS)
        },
        0x9e37_79b9_7f4a_7c15,
    );
}

#[test]
fn batch_add() {
    let template = json!([{"name": "fz", "type": 1, "data": "x", "start_time": now_s() + 3600}]);
    fuzz(route("/v1/api/tasks", template, &[]), 0xdead_beef_1234_5678);
}

#[test]
fn preview() {
    let template = json!({"name": "fz", "type": 2, "data": "x", "loop_time": 5, "count": 3});
    fuzz(
        Route {
            task_name: true,
            ..route("/v1/api/preview", template, PREVIEW_FIELDS)
        },
        0x0123_4567_89ab_cdef,
    );
}

#[test]
fn delete_task() {
    let template = json!({"ids": ["ffffffffffffffffffffffff"]});
    fuzz(
        route("/v1/api/delete-task", template, &[("ids", Kind::StrArray)]),
        0x5555_aaaa_3333_cccc,
    );
}

#[test]
fn delete_task_by_name() {
    fuzz(
        route(
            "/v1/api/delete-task-by-name",
            json!({"name": "nobody"}),
            &[("name", Kind::Str)],
        ),
        0x1111_2222_3333_4444,
    );
}

#[test]
fn consume() {
    let template = json!({"group": "fz", "tags": "*", "max": 5, "wait_ms": 0});
    let fields = &[
        ("group", Kind::Str),
        ("tags", Kind::Str),
        ("max", Kind::Int),
        ("wait_ms", Kind::Int),
    ];
    fuzz(
        Route {
            empty_object_valid: true,
            ..route("/v1/api/consume", template, fields)
        },
        0x7777_8888_9999_0000,
    );
}

#[test]
fn ack() {
    let template = json!({"group": "fz", "msgids": ["m1"]});
    let fields = &[("group", Kind::Str), ("msgids", Kind::StrArray)];
    fuzz(
        Route {
            empty_object_valid: true,
            ..route("/v1/api/ack", template, fields)
        },
        0x0f0f_f0f0_1234_4321,
    );
}

#[test]
fn nack() {
    let template = json!({"group": "fz", "msgids": ["m1"], "delay_ms": 10});
    let fields = &[
        ("group", Kind::Str),
        ("msgids", Kind::StrArray),
        ("delay_ms", Kind::Int),
    ];
    fuzz(
        Route {
            empty_object_valid: true,
            ..route("/v1/api/nack", template, fields)
        },
        0xabad_1dea_cafe_f00d,
    );
}
