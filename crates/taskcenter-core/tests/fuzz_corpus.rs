//! Every committed input of the crontab fuzz target, run through the target's own code:
//! what once crashed the fuzzer stays fixed, and `cargo test` covers the corpus.

#[path = "../../../fuzz/src/cron_input.rs"]
mod cron_input;
#[path = "../../../fuzz/replay.rs"]
mod replay;

#[test]
fn cron_corpus_never_panics() {
    replay::corpus("cron")
        .iter()
        .for_each(|d| cron_input::run(d));
}
