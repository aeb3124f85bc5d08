#![no_main]
// What it checks: fuzz/checks (fuzz_checks::TARGETS).
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::run("audio_reframe", data));
