#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| querent_fuzz::frame(data));
