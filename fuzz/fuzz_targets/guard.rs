#![no_main]
use std::sync::{Mutex, OnceLock};

static GUARD: OnceLock<Mutex<querent::guard::SessionGuard>> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let g = GUARD.get_or_init(|| {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        Mutex::new(querent_fuzz::guard_session(&repo))
    });
    let mut g = g.lock().unwrap_or_else(|p| p.into_inner());
    querent_fuzz::guard(&mut g, data);
});
