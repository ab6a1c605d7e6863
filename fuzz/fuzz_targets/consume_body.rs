//! cargo fuzz target `consume_body`: see `taskcenter_fuzz::bodies::consume`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| taskcenter_fuzz::bodies::consume(data));
