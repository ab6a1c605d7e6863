//! One request-body fuzz input per target: raw bytes through the server's decoders and on
//! into validation, as a request would go. Nothing may panic; refusals are fine.

use taskcenter_api::{ConsumeRequest, PreviewRequest, TaskSpec};
use taskcenter_core::{Limits, TagFilter, TaskId};
use taskcenter_server::http::{batch_specs, decode, parse};

/// The server clock's reading for every input: a fixed instant keeps runs reproducible.
const NOW_MS: i64 = 1_800_000_000_000;

fn accept(spec: TaskSpec) {
    if let Ok(draft) = spec.into_draft() {
        let _ = draft.into_task(TaskId::from_bytes([0; 12]), NOW_MS, &Limits::default());
    }
}

/// `POST /v1/api/task`, and the same body as a preview.
pub fn add(data: &[u8]) {
    for json_type in [true, false] {
        if let Ok(spec) = decode::<TaskSpec>(data, json_type) {
            accept(spec);
        }
    }
    if let Ok(req) = decode::<PreviewRequest>(data, true) {
        let count = req.count.unwrap_or(10);
        let from = req.from.unwrap_or(NOW_MS);
        let mut spec = req.spec;
        spec.name.get_or_insert_with(|| "preview".into());
        spec.data.get_or_insert_with(String::new);
        if (1..=1000).contains(&count)
            && let Ok(draft) = spec.into_draft()
        {
            let _ = draft.preview(NOW_MS, from, count as usize, &Limits::default());
        }
    }
}

/// `POST /v1/api/tasks`: the whole body, then each item on its own.
pub fn batch(data: &[u8]) {
    let Ok(body) = parse(data, true) else {
        return;
    };
    if let Ok(items) = batch_specs(body) {
        items.into_iter().flatten().for_each(accept);
    }
}

/// `POST /v1/api/consume`: the body and its tag expression.
pub fn consume(data: &[u8]) {
    if let Ok(req) = decode::<ConsumeRequest>(data, true)
        && let Some(tags) = req.tags
    {
        let _ = TagFilter::parse(&tags);
    }
}
