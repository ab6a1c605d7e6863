//! cargo fuzz target `batch_body`: see `taskcenter_fuzz::bodies::batch`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| taskcenter_fuzz::bodies::batch(data));
