//! The page at `GET /` on the admin port, end to end in headless Chromium:
//! `tests/page/page_check.py` starts this build's `querent serve` on the retail dataset, loads
//! `/?q=revenue by region in 2024&db=querent_retail` and checks what the page rendered from
//! `POST /v1/ask` (the 5 regions in the table, insights, the chart image, follow-up buttons).
//! The screenshot it takes is kept at `target/page.png`. Skipped, saying why, when `chromium`
//! is not installed (`scripts/install-test-deps.sh` installs it).

mod common;

use std::process::Command;

fn on_path(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[tokio::test]
async fn the_page_answers_a_question_in_headless_chromium() {
    if !on_path("chromium") {
        eprintln!("SKIP the_page_answers_a_question_in_headless_chromium: chromium is not installed (scripts/install-test-deps.sh installs it)");
        return;
    }
    common::retail::ensure_dataset().await;
    let shot = common::repo().join("target").join("page.png");
    let out = Command::new("python3")
        .arg(common::repo().join("tests/page/page_check.py"))
        .env("PAGE_CHECK_BIN", env!("CARGO_BIN_EXE_querent"))
        .env("PAGE_SCREENSHOT", &shot)
        .output()
        .expect("run python3 tests/page/page_check.py");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "page check failed:\n{text}");
    println!("screenshot: {}", shot.display());
}
