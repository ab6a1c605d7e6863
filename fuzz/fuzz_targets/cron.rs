//! cargo fuzz target `cron`: see `taskcenter_fuzz::cron_input::run`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| taskcenter_fuzz::cron_input::run(data));
