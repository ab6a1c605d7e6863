//! cargo fuzz target `add_body`: see `taskcenter_fuzz::bodies::add`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| taskcenter_fuzz::bodies::add(data));
