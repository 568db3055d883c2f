//! schemathesis (PyPI) against `/v1/openapi.json` of a real Querent: generated requests,
//! valid and invalid, for every operation; no 5xx, answers that match the document, the one
//! error shape (`scripts/api-fuzz.sh`, which installs schemathesis into target/ on first use).

mod common;

#[tokio::test]
async fn schemathesis_finds_nothing() {
    common::retail::ensure_dataset().await;
    let out = std::process::Command::new("bash")
        .arg(common::repo().join("scripts/api-fuzz.sh"))
        .arg("100")
        .env("FUZZ_BIN", env!("CARGO_BIN_EXE_querent"))
        .current_dir(common::repo())
        .output()
        .expect("bash scripts/api-fuzz.sh");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("passed"),
        "schemathesis:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
