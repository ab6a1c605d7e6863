//! Every committed input of the request-body fuzz targets, run through the targets' own
//! code: what once crashed the fuzzer stays fixed, and `cargo test` covers the corpora.

#[path = "../../../fuzz/src/bodies.rs"]
mod bodies;
#[path = "../../../fuzz/replay.rs"]
mod replay;

#[test]
fn add_body_corpus_never_panics() {
    replay::corpus("add_body")
        .iter()
        .for_each(|d| bodies::add(d));
}

#[test]
fn batch_body_corpus_never_panics() {
    replay::corpus("batch_body")
        .iter()
        .for_each(|d| bodies::batch(d));
}

#[test]
fn consume_body_corpus_never_panics() {
    replay::corpus("consume_body")
        .iter()
        .for_each(|d| bodies::consume(d));
}
